import { Command, CommanderError, Option } from 'commander';
import type { CommandFactory } from './commands/command-factory.js';
import type { Deps } from './deps.js';
import { asInvoked } from './core/invocation.js';
import { closestWord } from './core/closest.js';
import { HELP_TOPICS, helpTopicsText, helpTopicUrl, isHelpTopic } from './help-topics.js';
import { readFile } from 'node:fs/promises';
import { ExitCode, GemwhError, UsageError } from './errors.js';
import { VERSION } from './version.js';

// Keyed by command name, in the order `gemwh --help` lists them. Command modules stay small and
// import their heavy parts (googleapis-common, undici, jose, ink, react) lazily inside the action.
const COMMAND_MODULES: Readonly<Record<string, () => Promise<{ default: CommandFactory }>>> = {
  create: () => import('./commands/create/index.js'),
  list: () => import('./commands/list/index.js'),
  get: () => import('./commands/get/index.js'),
  update: () => import('./commands/update/index.js'),
  delete: () => import('./commands/delete/index.js'),
  rotate: () => import('./commands/rotate/index.js'),
  ping: () => import('./commands/ping/index.js'),
  secret: () => import('./commands/secret/index.js'),
  auth: () => import('./commands/auth/index.js'),
  listen: () => import('./commands/listen/index.js'),
  replay: () => import('./commands/replay/index.js'),
  deliveries: () => import('./commands/deliveries/index.js'),
  completion: () => import('./commands/completion/index.js'),
  verify: () => import('./commands/verify/index.js'),
  events: () => import('./commands/events/index.js'),
  conformance: () => import('./commands/conformance/index.js'),
  emulator: () => import('./commands/emulator/index.js'),
  trigger: () => import('./commands/trigger/index.js'),
  relay: () => import('./commands/relay/index.js'),
  doctor: () => import('./commands/doctor/index.js'),
  version: () => import('./commands/version/index.js'),
};

const COMMAND_NAMES = [...Object.keys(COMMAND_MODULES), 'help'];

/**
 * The command modules a run needs: only the named command's when argv starts with one (every
 * command then starts without loading the other ~16), all of them otherwise — for root help,
 * `help`, an unknown command's "did you mean", and `completion`, which walks the whole tree.
 */
function modulesFor(argv: readonly string[] | undefined): Array<() => Promise<{ default: CommandFactory }>> {
  const first = argv?.[0];
  const only = first !== undefined && first !== 'completion' ? COMMAND_MODULES[first] : undefined;
  return only && Object.hasOwn(COMMAND_MODULES, first!) ? [only] : Object.values(COMMAND_MODULES);
}

export async function buildProgram(deps: Deps, argv?: readonly string[]): Promise<Command> {
  const program = new Command('gemwh')
    .description('Manage and test Gemini API webhooks: verify, listen, forward, replay, emulate, check.')
    .version(VERSION, '-V, --version', 'print the gemwh version')
    .addOption(new Option('--api-key <key>', 'Gemini API key (default: $GEMINI_API_KEY, $GOOGLE_API_KEY, then the secret store)'))
    .addOption(new Option('--api-root <url>', 'API server to talk to, e.g. the emulator (env: GEMWH_API_ROOT)'))
    .addOption(new Option('--api-version <version>', 'API version in request paths (v1beta also works)').default('v1'))
    .addOption(
      new Option('--secret-store <store>', 'where signing secrets live (env: GEMWH_SECRET_STORE)').choices(['keychain', 'file']),
    )
    .configureHelp({ sortSubcommands: false })
    .addHelpText(
      'after',
      helpTopicsText() +
        '\nExamples:\n' +
        '  $ gemwh listen --emulator --demo\n' +
        '  $ gemwh listen --forward 3000 --secret-env GEMINI_WEBHOOK_SECRET\n' +
        '  $ gemwh create --uri https://hooks.example.com/gemini --events batch.succeeded,video.generated\n',
    );

  const modules = await Promise.all(modulesFor(argv).map((load) => load()));
  for (const { default: factory } of modules) program.addCommand(factory(deps));
  applyOutputAndExit(program, deps);
  return program;
}

/** Commander writes through deps.io and throws instead of calling process.exit, for every subcommand. */
function applyOutputAndExit(command: Command, deps: Deps): void {
  command.exitOverride();
  command.configureOutput({
    writeOut: (s) => deps.io.stdout.write(s),
    writeErr: (s) => deps.io.stderr.write(s),
    // Parse errors are reported by reportError, like every other error: one `gemwh:` line
    // plus the --help pointer, or a JSON object with --json.
    outputError: () => {},
    // Help wraps to the width of the stream it goes to (80 when that is not a terminal), read
    // from deps like everything else, so the pre-rendered help pages (help-page.ts) can match it.
    getOutHelpWidth: () => (deps.io.stdout.isTTY ? deps.io.stdout.columns : undefined) ?? 80,
    getErrHelpWidth: () => (deps.io.stderr.isTTY ? deps.io.stderr.columns : undefined) ?? 80,
  });
  for (const sub of command.commands) applyOutputAndExit(sub, deps);
}

/**
 * Runs gemwh with argv (without node and script) and returns the exit code. Errors become one
 * message plus a hint on stderr (or a JSON object with --json); stack traces only with GEMWH_DEBUG=1.
 */
export async function runMain(given: readonly string[], deps: Deps): Promise<number> {
  const argv = conventionalArgv(given);
  try {
    const topic = helpTopicRequest(argv);
    if (topic !== undefined) {
      await printHelpTopic(topic, deps);
      return ExitCode.OK;
    }
    const program = await buildProgram(deps, argv);
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.OK;
  } catch (error) {
    return reportError(error, argv, deps);
  }
}

const GLOBAL_OPTIONS_WITH_VALUE = ['--api-key', '--api-root', '--api-version', '--secret-store'];

/** The word of `gemwh [global options] help <word>` when it is no command: a topic, or a typo. */
function helpTopicRequest(argv: readonly string[]): string | undefined {
  const at = argv.length - 2;
  if (at < 0 || argv[at] !== 'help' || argv[at + 1]!.startsWith('-') || COMMAND_NAMES.includes(argv[at + 1]!)) return undefined;
  for (let i = 0; i < at; i++) {
    if (GLOBAL_OPTIONS_WITH_VALUE.some((option) => argv[i]!.startsWith(`${option}=`))) continue;
    // An option followed by its value; `--api-root help journal` has no help word.
    if (!GLOBAL_OPTIONS_WITH_VALUE.includes(argv[i]!) || i + 1 >= at) return undefined;
    i += 1;
  }
  return argv[at + 1];
}

/** `gemwh help <topic>` (cli.ts serves it earlier when it can; this is the path tests and narrow terminals take). */
async function printHelpTopic(word: string, deps: Deps): Promise<void> {
  if (isHelpTopic(word)) {
    deps.io.stdout.write(await readFile(helpTopicUrl(word), 'utf8'));
    return;
  }
  const near = closestWord(word, [...COMMAND_NAMES, ...HELP_TOPICS.map((topic) => topic.name)]);
  throw new UsageError(`no command or help topic named "${word}"${near ? ` (did you mean "${near}"?)` : ''}`, {
    hint: `gemwh --help lists the commands and the help topics.`,
  });
}

/**
 * Spellings people type that commander does not take: `gemwh help replay fixture` (commander's
 * help command looks one level deep) is `gemwh replay fixture --help`; `-v` is `--version`.
 */
function conventionalArgv(argv: readonly string[]): readonly string[] {
  if (argv.length === 1 && argv[0] === '-v') return ['--version'];
  if (argv[0] === 'help' && argv.length > 2 && argv.slice(1).every((word) => !word.startsWith('-'))) return [...argv.slice(1), '--help'];
  return argv;
}

function reportError(error: unknown, argv: readonly string[], deps: Deps): number {
  if (error instanceof CommanderError) {
    // Help and version are "errors" to commander; commander has already printed them. A command
    // group run without a subcommand has printed its help to stderr: that is a usage error.
    if (error.exitCode === 0) return ExitCode.OK;
    if (error.code === 'commander.help') return ExitCode.USAGE;
    error = new UsageError(error.message.replace(/^error: /, ''));
  }
  const debug = deps.env.GEMWH_DEBUG === '1';
  const wantsJson = argv.includes('--json');
  if (error instanceof GemwhError) {
    if (wantsJson) {
      deps.io.stderr.write(
        JSON.stringify({ error: { code: error.code, exit_code: error.exitCode, message: error.message, hint: error.hint && asInvoked(error.hint, deps.env, COMMAND_NAMES) } }) + '\n',
      );
    } else {
      deps.io.stderr.write(`gemwh: ${error.message}\n`);
      if (error.hint) deps.io.stderr.write(`${indentHint(asInvoked(error.hint, deps.env, COMMAND_NAMES))}\n`);
      if (error instanceof UsageError) deps.io.stderr.write('(run with --help for usage and examples)\n');
    }
    if (debug && error.stack) deps.io.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  deps.io.stderr.write(`gemwh: unexpected error: ${message}\n`);
  if (debug && error instanceof Error && error.stack) {
    deps.io.stderr.write(`${error.stack}\n`);
  } else {
    deps.io.stderr.write('  This is a bug in gemwh. Run again with GEMWH_DEBUG=1 for details and report it.\n');
  }
  return ExitCode.INTERNAL;
}

function indentHint(hint: string): string {
  return hint
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
