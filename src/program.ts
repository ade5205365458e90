import { Command, CommanderError, Option } from 'commander';
import type { CommandFactory } from './commands/command-factory.js';
import type { Deps } from './deps.js';
import { asInvoked } from './core/invocation.js';
import { closestWord } from './core/closest.js';
import { HELP_TOPICS, helpTopicsText, helpTopicUrl, isHelpTopic } from './help-topics.js';
import { readFile } from 'node:fs/promises';
// Static, unlike the command modules: every command runs the config hook, and these small modules
// load with program.ts's graph (the value checks, which pull in listen's parsers, stay lazy).
import { applyConfig } from './config/apply.js';
import { loadConfig, rememberConfig } from './config/load.js';
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
  config: () => import('./commands/config/index.js'),
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
    .addOption(new Option('--config <file>', 'read settings from this file instead of the project\'s gemwh.json (gemwh help configuration)'))
    // Not --env-file: Node 20 takes that flag for itself wherever it appears in the command line.
    .addOption(new Option('--dotenv <file>', 'read variables from this file instead of the project\'s .env'))
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
  program.hook('preAction', (_root, action) => applySettings(program, action, deps));
  return program;
}

/**
 * Before any command runs: the project's (or --config's) file, the user's file and .env fill
 * what the command line left unset (src/config/). deps is this run's own copy (runMain), so the
 * environment every command sees from here on is the process's plus what .env adds.
 */
async function applySettings(program: Command, action: Command, deps: Deps): Promise<void> {
  // What a bug report asks for, and a shell's start-up, work even beside a broken gemwh.json.
  if (action.name() === 'version' || action.name() === 'completion') return;
  const globals = program.opts<{ config?: string; dotenv?: string }>();
  let top = action;
  while (top.parent?.parent) top = top.parent;
  // `config show` reports on every setting, so it checks them all.
  const checkSections = top.name() === 'config' ? 'all' : [top.name()];
  const config = await loadConfig(deps, { configFile: globals.config, envFile: globals.dotenv, checkSections });
  deps.env = config.env;
  rememberConfig(deps, config, applyConfig(action, config));
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
  // This run's own Deps: the preAction hook adds .env's variables to its env.
  const runDeps: Deps = { ...deps };
  try {
    const topic = helpTopicRequest(argv);
    if (topic !== undefined) {
      await printHelpTopic(topic, runDeps);
      return ExitCode.OK;
    }
    const program = await buildProgram(runDeps, argv);
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.OK;
  } catch (error) {
    return reportError(error, argv, runDeps);
  }
}

const GLOBAL_OPTIONS_WITH_VALUE = ['--api-key', '--api-root', '--api-version', '--secret-store', '--config', '--dotenv'];

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
        JSON.stringify({ error: { code: error.code, exitCode: error.exitCode, message: error.message, hint: error.hint && asInvoked(error.hint, deps.env, COMMAND_NAMES) } }) + '\n',
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
