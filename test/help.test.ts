import { existsSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../src/program.js';
import { fileURLToPath } from 'node:url';
import { HELP_PAGE_WIDTH, helpPageUrl, preRenderedHelp } from '../src/help-page.js';
import { cleanupCompiledDist, compiledDist } from './helpers/dist.js';
import { createLoadRecorder, type LoadRecorder } from './helpers/load-recorder.js';
import { makeTestDeps, runGemwh } from './helpers/deps.js';

/** Packages that cost start-up time and must only load inside an action, never for --help. */
const HEAVY_PACKAGES = ['ink', 'react', 'googleapis-common', 'undici', 'jose'];

interface CommandInfo {
  path: string[];
  command: Command;
}

function walk(command: Command, path: string[] = []): CommandInfo[] {
  return [{ path, command }, ...command.commands.flatMap((sub) => walk(sub, [...path, sub.name()]))];
}

let program: Command;
let commands: CommandInfo[];

beforeAll(async () => {
  const t = makeTestDeps();
  try {
    program = await buildProgram(t.deps);
  } finally {
    t.cleanup();
  }
  commands = walk(program);
});

describe('help', () => {
  it('`gemwh --help` lists every command with a one-line summary', async () => {
    const result = await runGemwh(['--help']);
    expect(result.code).toBe(0);
    expect(program.commands.length).toBeGreaterThan(0);
    for (const { path, command } of commands.slice(1)) {
      const summary = command.summary() || command.description();
      expect(summary, `gemwh ${path.join(' ')} has no summary`).not.toBe('');
      expect(summary, `gemwh ${path.join(' ')}: the summary must fit on one line`).not.toMatch(/\n/);
    }
    for (const command of program.commands) {
      expect(result.stdout).toMatch(new RegExp(`^  ${command.name()}\\b.*\\S`, 'm'));
    }
  });

  it('src/help-pages/ holds what `gemwh <command> --help` prints at 80 columns, for every command (UPDATE_HELP=1 rewrites them)', async () => {
    const stale: string[] = [];
    const wanted = new Set<string>();
    for (const { path } of commands) {
      const result = await runGemwh([...path, '--help']);
      expect(result.code, `gemwh ${path.join(' ')} --help`).toBe(0);
      const file = fileURLToPath(helpPageUrl(path));
      wanted.add(file);
      const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
      if (current === result.stdout) continue;
      if (process.env.UPDATE_HELP === '1') writeFileSync(file, result.stdout);
      else stale.push(['gemwh', ...path].join(' '));
    }
    const folder = fileURLToPath(new URL('.', helpPageUrl([])));
    for (const name of readdirSync(folder)) {
      const file = fileURLToPath(new URL(name, helpPageUrl([])));
      if (wanted.has(file)) continue;
      if (process.env.UPDATE_HELP === '1') unlinkSync(file);
      else stale.push(`${name} (no such command)`);
    }
    expect(HELP_PAGE_WIDTH).toBe(80);
    expect(stale, 'src/help-pages/ is stale: npm run build, then UPDATE_HELP=1 npx vitest run --config test/vitest.config.ts test/help.test.ts').toEqual([]);
  });

  it('help does not depend on the environment, so one pre-rendered page fits every run', async () => {
    const env = { GEMWH_API_ROOT: 'http://127.0.0.1:1', GEMWH_SECRET_STORE: 'file', GEMWH_API_RETRIES: '0', NO_COLOR: '1', GEMINI_API_KEY: 'k' };
    for (const { path } of commands) {
      const plain = await runGemwh([...path, '--help']);
      const other = await runGemwh([...path, '--help'], { env });
      expect(other.stdout, `gemwh ${path.join(' ')} --help`).toBe(plain.stdout);
    }
  });

  it('only a bare help request takes the pre-rendered page; flags, values, unknown words and narrow terminals go to commander', () => {
    expect(preRenderedHelp(['replay', 'fixture', '--help'], {})).toMatch(/^Usage: gemwh replay fixture/);
    expect(preRenderedHelp(['help', 'listen'], {})).toMatch(/^Usage: gemwh listen/);
    expect(preRenderedHelp(['-h'], { isTTY: true, columns: 120 })).toMatch(/^Usage: gemwh \[options\]/);
    expect(preRenderedHelp(['-h'], { isTTY: true, columns: 60 })).toBeUndefined();
    expect(preRenderedHelp(['listen', '--port', '3000', '--help'], {})).toBeUndefined();
    expect(preRenderedHelp(['get', 'list', '--help'], {})).toBeUndefined();
    expect(preRenderedHelp(['../../package', '--help'], {})).toBeUndefined();
    expect(preRenderedHelp(['listen'], {})).toBeUndefined();
    expect(preRenderedHelp(['help', 'secret', 'list'], {})).toBeUndefined();
  });

  it('descriptions and option help are running prose: no hard line break inside a paragraph (commander wraps them)', () => {
    const singleBreak = /[^\n]\n(?!\n)/;
    const problems: string[] = [];
    for (const { path, command } of commands) {
      const name = ['gemwh', ...path].join(' ');
      if (singleBreak.test(command.description())) problems.push(`${name}: description`);
      for (const option of command.options) if (singleBreak.test(option.description)) problems.push(`${name} ${option.flags}`);
      for (const argument of command.registeredArguments) if (singleBreak.test(argument.description)) problems.push(`${name} <${argument.name()}>`);
    }
    expect(problems).toEqual([]);
  });

  it('every command, the root included, ends its help with 2-3 `$ …gemwh…` examples, one running the command itself', async () => {
    const problems: string[] = [];
    for (const { path } of commands) {
      const name = ['gemwh', ...path].join(' ');
      const result = await runGemwh([...path, '--help']);
      if (result.code !== 0) {
        problems.push(`${name} --help exited ${result.code}`);
        continue;
      }
      const at = result.stdout.lastIndexOf('\nExamples:\n');
      if (at < 0) {
        problems.push(`${name}: no "Examples:" section`);
        continue;
      }
      const examples = result.stdout
        .slice(at)
        .split('\n')
        // `$ export X="$(gemwh …)"` is a real example too.
        .filter((line) => /^\s+\$ /.test(line) && /\bgemwh /.test(line));
      if (examples.length < 2 || examples.length > 3) problems.push(`${name}: ${examples.length} example(s), want 2-3`);
      if (path.length > 0 && !examples.some((line) => line.trim().startsWith(`$ ${name}`))) {
        problems.push(`${name}: no example runs "${name}"`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('--help start-up cost', () => {
  let dist: string;
  let work: string;
  let recorder: LoadRecorder;

  beforeAll(() => {
    dist = compiledDist();
    recorder = createLoadRecorder('gemwh-help-');
    work = recorder.work;
    // Runs --help for many commands in one process; CommonJS modules show up in require.cache.
    writeFileSync(
      join(work, 'sweep.mjs'),
      `import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
const [dist, pathsJson] = process.argv.slice(2);
const { runMain } = await import(pathToFileURL(dist + '/program.js').href);
const { createRealDeps } = await import(pathToFileURL(dist + '/deps.js').href);
const sink = new Writable({ write(_chunk, _encoding, callback) { callback(); } });
for (const path of JSON.parse(pathsJson)) {
  const deps = createRealDeps(new AbortController().signal);
  deps.io = { ...deps.io, stdout: sink, stderr: sink };
  const code = await runMain([...path, '--help'], deps);
  if (code !== 0) { process.stderr.write('help failed for ' + path.join(' ') + '\\n'); process.exit(3); }
}
process.stdout.write(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));
`,
    );
  });

  afterAll(() => {
    recorder.cleanup();
    cleanupCompiledDist();
  });

  const run = (args: string[], log: string) => recorder.run(args, log, { NO_COLOR: '1' });

  function heavyLoads(entries: Array<{ specifier: string; url: string }>, cjsPaths: string[] = []): string[] {
    const bySpecifier = new RegExp(`^(?:${HEAVY_PACKAGES.join('|')})(?:/|$)`);
    const byPath = new RegExp(`/node_modules/(?:${HEAVY_PACKAGES.join('|')})/`);
    return [
      ...entries.filter((e) => bySpecifier.test(e.specifier) || byPath.test(e.url)).map((e) => `${e.specifier} -> ${e.url}`),
      ...cjsPaths.filter((p) => byPath.test(p)),
    ];
  }

  const readLog = (log: string) => recorder.readLog(log);

  it('the recorder sees a heavy package when one is imported (so the checks below can fail)', async () => {
    const log = join(work, 'control.log');
    // Evaluated code resolves from the working directory, the repository.
    const control =
      "import { createRequire } from 'node:module'; await import('jose'); const require = createRequire(process.cwd() + '/');" +
      " require('undici'); process.stdout.write(JSON.stringify(Object.keys(require.cache)));";
    const result = await run(['--input-type=module', '-e', control], log);
    expect(result.code).toBe(0);
    const found = heavyLoads(readLog(log), JSON.parse(result.stdout) as string[]);
    expect(found.some((entry) => entry.includes('jose'))).toBe(true);
    expect(found.some((entry) => entry.includes('/node_modules/undici/'))).toBe(true);
  });

  it('`node dist/cli.js --help` loads none of ink, react, googleapis-common, undici, jose', async () => {
    const log = join(work, 'root.log');
    const result = await run([join(dist, 'cli.js'), '--help'], log);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: gemwh/);
    expect(heavyLoads(readLog(log))).toEqual([]);
  });

  it('`gemwh --help` and `-h` print the same text whether pre-rendered or rendered by commander', async () => {
    const fast = await run([join(dist, 'cli.js'), '--help'], join(work, 'fast.log'));
    const short = await run([join(dist, 'cli.js'), '-h'], join(work, 'short.log'));
    // `--api-version v1beta --help` takes commander's path to the same root help.
    const full = await run([join(dist, 'cli.js'), '--api-version', 'v1beta', '--help'], join(work, 'full.log'));
    expect(full.code).toBe(0);
    expect(fast.stdout).toBe(full.stdout);
    expect(short.stdout).toBe(full.stdout);
    expect(readLog(join(work, 'fast.log')).some((e) => e.specifier === 'commander')).toBe(false);
    expect(readLog(join(work, 'full.log')).some((e) => e.specifier === 'commander')).toBe(true);
  });

  it('`--version`, `help <command>`, `help <topic>` and `<command> --help` answer without commander, with what commander prints', async () => {
    const version = await run([join(dist, 'cli.js'), '--version'], join(work, 'version.log'));
    const versionByCommander = await run([join(dist, 'cli.js'), '--api-version', 'v1beta', '--version'], join(work, 'version-full.log'));
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
    expect(version.stdout).toBe(versionByCommander.stdout);
    expect(readLog(join(work, 'version.log')).some((e) => e.specifier === 'commander')).toBe(false);
    expect(readLog(join(work, 'version-full.log')).some((e) => e.specifier === 'commander')).toBe(true);

    const page = await run([join(dist, 'cli.js'), 'replay', 'fixture', '--help'], join(work, 'page.log'));
    const byCommander = await run([join(dist, 'cli.js'), '--api-version', 'v1beta', 'replay', 'fixture', '--help'], join(work, 'page-full.log'));
    const viaHelp = await run([join(dist, 'cli.js'), 'help', 'listen'], join(work, 'page-help.log'));
    const viaHelpByCommander = await run([join(dist, 'cli.js'), '--api-version', 'v1beta', 'help', 'listen'], join(work, 'page-help-full.log'));
    expect(page.code).toBe(0);
    expect(page.stdout).toBe(byCommander.stdout);
    expect(viaHelp.stdout).toMatch(/^Usage: gemwh listen/);
    expect(viaHelp.stdout).toBe(viaHelpByCommander.stdout);
    const topic = await run([join(dist, 'cli.js'), 'help', 'journal'], join(work, 'topic.log'));
    const topicByCommander = await run([join(dist, 'cli.js'), '--api-version', 'v1beta', 'help', 'journal'], join(work, 'topic-full.log'));
    expect(topic.code).toBe(0);
    expect(topic.stdout).toMatch(/^# The listen journal/);
    expect(topic.stdout).toBe(topicByCommander.stdout);
    for (const log of ['page.log', 'page-help.log', 'topic.log']) {
      expect(readLog(join(work, log)).some((e) => e.specifier === 'commander' || e.url.includes('/commands/'))).toBe(false);
    }
  }, 120_000); // eight child processes; slow on a loaded machine

  it('`--help` of every command loads none of them either', async () => {
    const log = join(work, 'sweep.log');
    const paths = commands.slice(1).map((c) => c.path);
    const result = await run([join(work, 'sweep.mjs'), dist, JSON.stringify(paths)], log);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const cjs = JSON.parse(result.stdout) as string[];
    expect(cjs.some((p) => p.includes('/node_modules/commander/'))).toBe(true);
    expect(heavyLoads(readLog(log), cjs)).toEqual([]);
  });
});
