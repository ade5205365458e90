import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../src/program.js';
import { ROOT_HELP, ROOT_HELP_WIDTH } from '../src/root-help.js';
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

  it('src/root-help.ts is what `gemwh --help` prints at 80 columns (UPDATE_HELP=1 rewrites it)', async () => {
    const result = await runGemwh(['--help']);
    expect(result.code).toBe(0);
    if (process.env.UPDATE_HELP === '1') {
      const file = new URL('../src/root-help.ts', import.meta.url);
      const header = readFileSync(file, 'utf8').split('\n').slice(0, 3).join('\n');
      // A template literal keeps the text readable in diffs.
      const literal = result.stdout.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${');
      writeFileSync(file, `${header}\nexport const ROOT_HELP = \`${literal}\`;\n`);
      return;
    }
    expect(ROOT_HELP_WIDTH).toBe(80);
    expect(ROOT_HELP, 'src/root-help.ts is stale: run UPDATE_HELP=1 npx vitest run --config test/vitest.config.ts test/help.test.ts').toBe(result.stdout);
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
