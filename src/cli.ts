import { isPlainVersionRequest, preRenderedHelp } from './help-page.js';

// The only module that touches process: it builds the real Deps, maps signals to an
// AbortSignal that long-running commands watch, and turns the result into an exit code.

// React's development build (what it loads without NODE_ENV) records a performance entry per
// component render and never frees it: the `listen` TUI would grow without bound, and draws ~1.5x
// slower. Set before any command lazily imports ink/react.
process.env.NODE_ENV ??= 'production';

// `gemwh list | head` closes the pipe early: that is the reader saying "enough", not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const controller = new AbortController();
let interrupts = 0;
const onSignal = (signal: NodeJS.Signals) => {
  interrupts += 1;
  // A second Ctrl-C means "now": skip the graceful shutdown.
  if (interrupts > 1) process.exit(130);
  controller.abort(signal);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const argv = process.argv.slice(2);
// `--version` and plain `--help` answer without commander or any command module (see help-page.ts).
const helpPage = preRenderedHelp(argv, process.stdout);
if (helpPage !== undefined) {
  process.stdout.write(helpPage);
} else if (isPlainVersionRequest(argv)) {
  const { VERSION } = await import('./version.js');
  process.stdout.write(`${VERSION}\n`);
} else if (argv[0] === '__complete') {
  // What the completion scripts ask for at TAB time (completion/dynamic.ts): without commander
  // or any command module, and silent whatever happens.
  const [{ createRealDeps }, { dynamicValues }] = await Promise.all([import('./deps.js'), import('./completion/dynamic.js')]);
  process.stdout.write(await dynamicValues(argv[1] ?? '', createRealDeps(controller.signal)));
  setTimeout(() => process.exit(0), 200).unref();
} else {
  const [{ createRealDeps }, { runMain }] = await Promise.all([import('./deps.js'), import('./program.js')]);
  const code = await runMain(argv, createRealDeps(controller.signal));
  process.exitCode = code;
  // Anything still holding the event loop (a keep-alive socket, a stray timer) must not keep
  // a finished command alive.
  setTimeout(() => process.exit(code), 2000).unref();
}
