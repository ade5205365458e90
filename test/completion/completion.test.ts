import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsyncEntry } from '@napi-rs/keyring';
import { Argument, Command, Option } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeWith } from '../../src/completion/hints.js';
import { COMPLETION_FILES, generateCompletion, SHELLS } from '../../src/completion/generate.js';
import { buildCompletionModel, type CompletionModel } from '../../src/completion/model.js';
import { EVENT_TYPE_NAMES } from '../../src/core/events.js';
import { ExitCode } from '../../src/errors.js';
import { buildProgram } from '../../src/program.js';
import { createFileStore, fileStorePath } from '../../src/secrets/file-store.js';
import { makeTestDeps, runGemwh } from '../helpers/deps.js';
import { compiledDist } from '../helpers/dist.js';
import { deleteAllEntries, keychainUnavailableReason, testServiceName } from '../secrets/keychain-available.js';

const completionsDir = new URL('../../completions/', import.meta.url);

async function realProgram(): Promise<Command> {
  const t = makeTestDeps();
  try {
    return await buildProgram(t.deps);
  } finally {
    t.cleanup();
  }
}

/** A small tree with the shapes completion must handle, independent of which commands exist. */
function syntheticProgram(): Command {
  const root = new Command('gemwh').addOption(new Option('--secret-store <store>', 'store').choices(['keychain', 'file']));
  const listen = new Command('listen').summary('receive deliveries');
  listen.addOption(new Option('--events <types>', 'event types to forward'));
  listen.addOption(new Option('--journal <file>', 'journal file'));
  root.addCommand(listen);
  const replay = new Command('replay').summary('send deliveries');
  replay.addCommand(
    new Command('fixture')
      .summary('send a fixture')
      .addArgument(completeWith(new Argument('<event-type|file.json>'), 'event-types-or-files'))
      .addOption(new Option('--tamper <mode>', 'break it').choices(['body', 'signature']))
      .addOption(completeWith(new Option('--out <file>', 'output'), 'files')),
  );
  root.addCommand(replay);
  return root;
}

const hasBash = spawnSync('bash', ['-c', 'exit 0']).status === 0;
const hasShell = (shell: string) => spawnSync(shell, ['-c', 'exit 0']).status === 0;
// CI installs zsh and fish and sets this, so that their tests fail there instead of skipping.
const requireShells = process.env.GEMWH_REQUIRE_SHELLS === '1';
const runsZsh = hasShell('zsh') || requireShells;
const runsFish = hasShell('fish') || requireShells;

/** Runs the generated bash script's completer for `words` (the last one is being completed). */
function bashComplete(script: string, words: string[], env?: NodeJS.ProcessEnv): string[] {
  const quoted = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const program = `${script}\nCOMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; COMPREPLY=(); _gemwh; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = spawnSync('bash', ['--norc', '--noprofile', '-c', program], { encoding: 'utf8', cwd: new URL('../../', import.meta.url), env });
  expect(result.stderr).toBe('');
  return result.stdout.split('\n').filter((line) => line !== '');
}

/**
 * Runs the generated zsh script's _gemwh for `words` (the last one is being completed), with
 * the completion system's builtins replaced by ones that print what they were given: what is
 * tested is the script's own logic (which words and values it offers), since outside a
 * completion widget zsh refuses to run the real ones. zsh's own prefix matching is done here.
 */
function zshComplete(script: string, words: string[], env?: NodeJS.ProcessEnv): string[] {
  const harness = [
    'compdef() { : }',
    '_describe() { local arr=${@[-1]}; print -l -- ${${(P)arr}%%:*} }',
    'compadd() { [[ $1 == -a ]] && print -l -- ${(P)2} }',
    'compset() { : }',
    "_files() { print -- '<files>' }",
    // Node gives the child a socket for stdin, which /dev/stdin cannot be opened on.
    'eval "$(cat)"',
    'words=("$@"); CURRENT=$#words',
    '_gemwh',
  ].join('\n');
  const result = spawnSync('zsh', ['-f', '-c', harness, 'zsh', ...words], { input: script, encoding: 'utf8', env });
  expect(result.stderr).toBe('');
  const typed = words.at(-1)!.replace(/^-[^=]*=/, '').replace(/^.*,/, '');
  return result.stdout.split('\n').filter((line) => line !== '' && (line === '<files>' || line.startsWith(typed)));
}

/** What fish itself completes for the command line `line`, with the generated script loaded. */
function fishComplete(script: string, line: string, env?: NodeJS.ProcessEnv, withDescriptions = false): string[] {
  // `source -` refuses the socket Node gives the child as stdin; a pipe inside fish is fine.
  const result = spawnSync('fish', ['--no-config', '-c', 'printf %s\\n $argv[1] | source; complete -C $argv[2]', script, line], { encoding: 'utf8', env });
  expect(result.stderr).toBe('');
  return result.stdout
    .split('\n')
    .filter((entry) => entry !== '')
    .map((entry) => (withDescriptions ? entry : entry.split('\t')[0]!));
}

describe('completion scripts', () => {
  let program: Command;
  let model: CompletionModel;
  beforeAll(async () => {
    program = await realProgram();
    model = buildCompletionModel(program);
  });

  it.each(SHELLS)('the checked-in completions/%s copy is what the generator prints (UPDATE_COMPLETIONS=1 rewrites it)', (shell) => {
    const file = new URL(COMPLETION_FILES[shell], completionsDir);
    const generated = generateCompletion(shell, program);
    if (process.env.UPDATE_COMPLETIONS === '1') writeFileSync(file, generated);
    expect(existsSync(file), `${file.pathname} is missing: run UPDATE_COMPLETIONS=1 npx vitest run test/completion`).toBe(true);
    expect(readFileSync(file, 'utf8'), 'completions/ is stale: run UPDATE_COMPLETIONS=1 npx vitest run test/completion').toBe(generated);
  });

  it('covers every command of the tree, with its options and choices', () => {
    const paths = new Set(model.commands.map((c) => c.path.join(' ')));
    const walk = (command: Command, path: string[]) => {
      expect(paths.has(path.join(' '))).toBe(true);
      for (const sub of command.commands) walk(sub, [...path, sub.name()]);
    };
    walk(program, []);
    const fixture = model.commands.find((c) => c.path.join(' ') === 'replay fixture');
    expect(fixture?.options.find((o) => o.names.includes('--tamper'))?.values).toContain('timestamp-future');
    expect(fixture?.positional.values).toEqual(EVENT_TYPE_NAMES);
    expect(fixture?.positional.files).toBe(true);
    expect(model.globalOptions.find((o) => o.names.includes('--secret-store'))?.values).toEqual(['keychain', 'file']);
  });

  it('offers exactly the catalog event types for --events and --type', () => {
    const synthetic = buildCompletionModel(syntheticProgram());
    expect(synthetic.commands.find((c) => c.path[0] === 'listen')?.options.find((o) => o.names.includes('--events'))?.values).toEqual(EVENT_TYPE_NAMES);
    const eventOptions = model.commands.flatMap((c) => c.options.filter((o) => o.names.some((n) => n === '--events' || n === '--type')));
    for (const option of eventOptions) expect(option.values).toEqual(EVENT_TYPE_NAMES);
  });

  it.skipIf(!hasBash)('bash completes commands, options, choices, event types and comma lists', () => {
    const script = generateCompletion('bash', syntheticProgram());
    expect(bashComplete(script, ['gemwh', ''])).toEqual(['listen', 'replay', 'help']);
    expect(bashComplete(script, ['gemwh', 'replay', 'f'])).toEqual(['fixture']);
    expect(bashComplete(script, ['gemwh', 'replay', 'fixture', 'batch.'])).toEqual(EVENT_TYPE_NAMES.filter((t) => t.startsWith('batch.')));
    expect(bashComplete(script, ['gemwh', 'replay', 'fixture', '--tamper', ''])).toEqual(['body', 'signature']);
    expect(bashComplete(script, ['gemwh', 'replay', 'fixture', '--tamper', '=', 's'])).toEqual(['signature']);
    expect(bashComplete(script, ['gemwh', '--secret-store', 'file', 'replay', 'fixture', '--t'])).toEqual(['--tamper']);
    expect(bashComplete(script, ['gemwh', '--secret-store', ''])).toEqual(['keychain', 'file']);
    expect(bashComplete(script, ['gemwh', 'listen', '--events', 'video.generated,batch.f'])).toEqual(['video.generated,batch.failed']);
    expect(bashComplete(script, ['gemwh', 'listen', '--'])).toEqual(['--events', '--journal', '--help', '--secret-store']);
    expect(bashComplete(script, ['gemwh', 'replay', 'fixture', 'package.j'])).toEqual(['package.json']);
  });

  it.skipIf(!runsZsh)('zsh completes commands, options, choices, event types, comma lists and files', () => {
    const script = generateCompletion('zsh', syntheticProgram());
    expect(zshComplete(script, ['gemwh', ''])).toEqual(['listen', 'replay', 'help']);
    expect(zshComplete(script, ['gemwh', 'replay', 'f'])).toEqual(['fixture']);
    // The argument is an event type or a file: both are offered (zsh matches the file names).
    expect(zshComplete(script, ['gemwh', 'replay', 'fixture', 'batch.'])).toEqual([...EVENT_TYPE_NAMES.filter((t) => t.startsWith('batch.')), '<files>']);
    expect(zshComplete(script, ['gemwh', 'replay', 'fixture', 'package.j'])).toEqual(['<files>']);
    expect(zshComplete(script, ['gemwh', 'replay', 'fixture', '--tamper', ''])).toEqual(['body', 'signature']);
    expect(zshComplete(script, ['gemwh', 'replay', 'fixture', '--tamper=s'])).toEqual(['signature']);
    expect(zshComplete(script, ['gemwh', '--secret-store', 'file', 'replay', 'fixture', '--t'])).toEqual(['--tamper']);
    expect(zshComplete(script, ['gemwh', '--secret-store', ''])).toEqual(['keychain', 'file']);
    expect(zshComplete(script, ['gemwh', 'listen', '--events', 'video.generated,batch.f'])).toEqual(['batch.failed']);
    expect(zshComplete(script, ['gemwh', 'listen', '--'])).toEqual(['--events', '--journal', '--help', '--secret-store']);
  });

  it.skipIf(!runsFish)('fish completes commands, options, choices, event types, comma lists and files', () => {
    const script = generateCompletion('fish', syntheticProgram());
    expect(fishComplete(script, 'gemwh ')).toEqual(['help', 'listen', 'replay']);
    expect(fishComplete(script, 'gemwh replay f')).toEqual(['fixture']);
    expect(fishComplete(script, 'gemwh replay fixture batch.')).toEqual(EVENT_TYPE_NAMES.filter((t) => t.startsWith('batch.')).sort());
    expect(fishComplete(script, 'gemwh replay fixture package.j')).toEqual(['package.json']);
    expect(fishComplete(script, 'gemwh replay fixture --tamper ')).toEqual(['body', 'signature']);
    expect(fishComplete(script, 'gemwh replay fixture --tamper=s')).toEqual(['--tamper=signature']);
    expect(fishComplete(script, 'gemwh --secret-store file replay fixture --t')).toEqual(['--tamper']);
    expect(fishComplete(script, 'gemwh --secret-store ')).toEqual(['file', 'keychain']);
    expect(fishComplete(script, 'gemwh listen --events video.generated,batch.f')).toEqual(['video.generated,batch.failed']);
    expect(fishComplete(script, 'gemwh listen --j')).toEqual(['--journal']);
  });

  it.skipIf(!runsZsh || !runsFish)('the real zsh and fish scripts complete the real tree', () => {
    const zsh = generateCompletion('zsh', program);
    expect(zshComplete(zsh, ['gemwh', 'rotate', 'k0h9q38f6ejj', '--grace', ''])).toEqual(['24h', '0']);
    expect(zshComplete(zsh, ['gemwh', 'replay', ''])).toEqual(expect.arrayContaining(['fixture', 'jwks']));
    expect(zshComplete(zsh, ['gemwh', 'completion', ''])).toEqual([...SHELLS]);
    const fish = generateCompletion('fish', program);
    expect(fishComplete(fish, 'gemwh rotate k0h9q38f6ejj --grace ')).toEqual(['0', '24h']);
    expect(fishComplete(fish, 'gemwh replay ')).toEqual(expect.arrayContaining(['fixture', 'jwks']));
    expect(fishComplete(fish, 'gemwh completion ')).toEqual([...SHELLS].sort());
    expect(fishComplete(fish, 'gemwh update x --state ')).toEqual(['disabled', 'enabled']);
  });

  it('offers values hinted with completeWith({ values }) without commander choices: rotate --grace', () => {
    const grace = model.commands.find((c) => c.path.join(' ') === 'rotate')?.options.find((o) => o.names.includes('--grace'));
    expect(grace?.values).toEqual(['24h', '0']);
    // Still not a commander choice: `--grace immediate` must keep parsing.
    expect(program.commands.find((c) => c.name() === 'rotate')?.options.find((o) => o.long === '--grace')?.argChoices).toBeUndefined();
    expect(generateCompletion('zsh', program)).toContain("'rotate|--grace') vals=('24h' '0') ;;");
    expect(generateCompletion('fish', program)).toContain(`complete -c gemwh -n '__gemwh_at "rotate"' -l grace -x -a '(__gemwh_values 24h 0)'`);
    expect(generateCompletion('powershell', program)).toContain("OptionValues = @{ '--grace' = @('24h', '0') }");
  });

  it.skipIf(!hasBash)('the real bash script is valid and completes the real tree', () => {
    const script = generateCompletion('bash', program);
    expect(bashComplete(script, ['gemwh', 'rotate', 'k0h9q38f6ejj', '--grace', ''])).toEqual(['24h', '0']);
    expect(bashComplete(script, ['gemwh', 'replay', ''])).toEqual(expect.arrayContaining(['fixture', 'jwks']));
    expect(bashComplete(script, ['gemwh', 'completion', ''])).toEqual([...SHELLS]);
  });

  it.each([
    ['zsh', ['-n']],
    ['fish', ['--no-config', '--no-execute']],
  ] as const)('the %s script parses', (shell, args) => {
    if (!hasShell(shell) && !requireShells) return;
    // Through a pipe made by sh: fish will not read a script from the socket Node gives as stdin.
    const result = spawnSync('sh', ['-c', 'script=$1; shift; printf "%s\\n" "$script" | "$0" "$@"', shell, generateCompletion(shell, program), ...args], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('`gemwh completion <shell>` prints the script; an unknown shell is a usage error', async () => {
    const ok = await runGemwh(['completion', 'fish']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('complete -c gemwh -n \'__gemwh_at "replay fixture"\' -l tamper -x -a');
    const bad = await runGemwh(['completion', 'tcsh']);
    expect(bad.code).toBe(ExitCode.USAGE);
    expect(bad.stderr).toMatch(/tcsh/);
  });
});

describe('webhook ids from the secret store, asked of gemwh at TAB time', () => {
  const ONE = 'k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f';
  const TWO = 'p4x2m7w1rt5cz8a0';
  const SECRET_ONE = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
  let home: string;
  /** Built from scratch: a `gemwh` on PATH that is this build, the file store of a temp home. */
  let env: NodeJS.ProcessEnv;
  let model: CompletionModel;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'gemwh-complete-'));
    const bin = join(home, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'gemwh'), `#!/bin/sh\nexec '${process.execPath}' '${join(compiledDist(), 'cli.js')}' "$@"\n`);
    chmodSync(join(bin, 'gemwh'), 0o755);
    env = {
      PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: home,
      XDG_CONFIG_HOME: join(home, 'config'),
      XDG_STATE_HOME: join(home, 'state'),
      XDG_CACHE_HOME: join(home, 'cache'),
      GEMWH_SECRET_STORE: 'file',
    };
    const store = createFileStore(fileStorePath(join(home, 'config', 'gemwh')));
    await store.setWebhookSecrets(ONE, [{ secret: SECRET_ONE, createdAt: '2026-05-04T12:00:00.000Z' }]);
    await store.setWebhookSecrets(TWO, [
      { secret: `whsec_${Buffer.alloc(32, 2).toString('base64')}`, createdAt: '2026-05-06T08:00:00.000Z' },
      { secret: `whsec_${Buffer.alloc(32, 3).toString('base64')}`, createdAt: '2026-05-01T08:00:00.000Z', expiresAt: '2999-01-01T00:00:00.000Z' },
    ]);
    model = buildCompletionModel(await realProgram());
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  const complete = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => spawnSync('gemwh', ['__complete', ...args], { env: { ...env, ...extraEnv }, encoding: 'utf8' });

  it('`gemwh __complete webhook-ids` prints each id with its secrets’ dates, never a secret', () => {
    const result = complete(['webhook-ids']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${ONE}\tsecret from 2026-05-04\n${TWO}\t2 secrets, newest from 2026-05-06\n`);
    expect(result.stdout).not.toContain('whsec_');
  });

  it('prints nothing, says nothing and exits 0 when there is no store or no keychain, or the kind is unknown', () => {
    const noFile = complete(['webhook-ids'], { XDG_CONFIG_HOME: join(home, 'nowhere') });
    const noKeychain = complete(['webhook-ids'], { GEMWH_SECRET_STORE: undefined, GEMWH_KEYCHAIN_SERVICE: testServiceName(), DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(home, 'no-bus')}` });
    const badStore = complete(['webhook-ids'], { GEMWH_SECRET_STORE: 'vault' });
    const unknown = complete(['channel-ids']);
    for (const result of [noFile, noKeychain, badStore, unknown]) expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  it('is offered wherever a webhook id of the store is taken, and nowhere else', () => {
    const positional = model.commands.filter((c) => c.positional.dynamic === 'webhook-ids').map((c) => c.path.join(' '));
    expect(positional.sort()).toEqual(['delete', 'get', 'ping', 'rotate', 'secret delete', 'secret set', 'secret show', 'update']);
    const options = model.commands.filter((c) => c.options.some((o) => o.dynamic === 'webhook-ids')).map((c) => c.path.join(' '));
    expect(options.sort()).toEqual(['conformance', 'deliveries list', 'listen', 'replay delivery', 'replay fixture', 'verify']);
  });

  it.skipIf(!hasBash)('bash offers the ids after get, secret show and --webhook', () => {
    const script = generateCompletion('bash', program());
    expect(bashComplete(script, ['gemwh', 'get', ''], env)).toEqual([ONE, TWO]);
    expect(bashComplete(script, ['gemwh', 'secret', 'show', 'p4'], env)).toEqual([TWO]);
    expect(bashComplete(script, ['gemwh', 'listen', '--webhook', ''], env)).toEqual([ONE, TWO]);
    expect(bashComplete(script, ['gemwh', 'deliveries', 'show', ''], env)).toEqual([]);
    // No gemwh on PATH: nothing offered, nothing printed (bashComplete checks stderr).
    expect(bashComplete(script, ['gemwh', 'get', ''], { ...env, PATH: '/usr/bin:/bin' })).toEqual([]);
  });

  it.skipIf(!runsZsh)('zsh offers the ids with their descriptions', () => {
    const script = generateCompletion('zsh', program());
    expect(zshComplete(script, ['gemwh', 'rotate', ''], env)).toEqual([ONE, TWO]);
    expect(zshComplete(script, ['gemwh', 'verify', '--webhook', 'k0'], env)).toEqual([ONE]);
    expect(zshComplete(script, ['gemwh', 'ping', ''], { ...env, PATH: '/usr/bin:/bin' })).toEqual([]);
  });

  it.skipIf(!runsFish)('fish offers the ids with their descriptions', () => {
    const script = generateCompletion('fish', program());
    expect(fishComplete(script, 'gemwh delete ', env, true)).toEqual([`${ONE}\tsecret from 2026-05-04`, `${TWO}\t2 secrets, newest from 2026-05-06`]);
    expect(fishComplete(script, 'gemwh replay fixture batch.succeeded --webhook p', env)).toEqual([TWO]);
    expect(fishComplete(script, 'gemwh update ', { ...env, PATH: '/usr/bin:/bin' })).toEqual([]);
  });

  it('lists the ids of a real keychain under a test service name', async (context) => {
    const unavailable = await keychainUnavailableReason();
    if (unavailable !== undefined && process.env.GEMWH_REQUIRE_KEYCHAIN !== '1') return context.skip();
    const service = testServiceName();
    try {
      await new AsyncEntry(service, `webhook:${ONE}`, { linux: { store: 'secret-service' } }).setPassword(
        JSON.stringify({ secrets: [{ secret: SECRET_ONE, createdAt: '2026-05-04T12:00:00.000Z' }] }),
      );
      const result = complete(['webhook-ids'], { GEMWH_SECRET_STORE: undefined, GEMWH_KEYCHAIN_SERVICE: service, DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS });
      expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 0, stdout: `${ONE}\tsecret from 2026-05-04\n`, stderr: '' });
    } finally {
      await deleteAllEntries(service);
    }
  });

  let built: Command | undefined;
  const program = () => built!;
  beforeAll(async () => {
    built = await realProgram();
  });
});
