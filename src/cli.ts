import { createRealDeps } from './deps.js';
import { runMain } from './program.js';

// The only module that touches process: it builds the real Deps, maps signals to an
// AbortSignal that long-running commands watch, and turns the result into an exit code.
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

const code = await runMain(process.argv.slice(2), createRealDeps(controller.signal));
process.exitCode = code;
// Anything still holding the event loop (a keep-alive socket, a stray timer) must not keep
// a finished command alive.
setTimeout(() => process.exit(code), 2000).unref();
