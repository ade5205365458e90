import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_EVENT_TYPES } from '../../src/core/events.js';
import { cleanupCompiledDist, compiledDist, REPO_ROOT } from '../helpers/dist.js';

/**
 * What `npx gemwh` runs: the tarball `npm pack` makes, installed as a user installs it (no
 * devDependencies, no TypeScript, a fresh HOME). A file the CLI reads at runtime but the
 * package's "files" forgets (help pages, fixtures) only fails here. The tarball is packed from a
 * staging copy so that a stale dist/ in the checkout cannot decide the result.
 */

interface PackEntry {
  filename: string;
  files: Array<{ path: string }>;
}

let work: string;
let packed: PackEntry;
let gemwhBin: string;
const runtimeEnv = () => {
  const home = join(work, 'home');
  return { ...process.env, HOME: home, USERPROFILE: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_STATE_HOME: join(home, 'state'), XDG_DATA_HOME: join(home, 'data'), NO_COLOR: '1' };
};

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'gemwh-installed-'));
  const stage = join(work, 'stage');
  mkdirSync(stage);
  for (const entry of ['package.json', 'README.md', 'LICENSE', 'bin', 'completions', 'src']) cpSync(join(REPO_ROOT, entry), join(stage, entry), { recursive: true });
  cpSync(compiledDist(), join(stage, 'dist'), { recursive: true });
  const pack = spawnSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: stage, encoding: 'utf8' });
  if (pack.status !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`);
  packed = (JSON.parse(pack.stdout) as PackEntry[])[0]!;
  const prefix = join(work, 'prefix');
  // A global install into an empty prefix is what npx does with a package it does not find.
  const install = spawnSync(
    'npm',
    ['install', '--global', '--prefix', prefix, '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', join(work, packed.filename)],
    { cwd: work, encoding: 'utf8' },
  );
  if (install.status !== 0) throw new Error(`npm install of the tarball failed:\n${install.stderr}`);
  gemwhBin = process.platform === 'win32' ? join(prefix, 'gemwh.cmd') : join(prefix, 'bin', 'gemwh');
}, 300_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  cleanupCompiledDist();
});

describe('the installed package (npm pack, npm install --omit=dev)', () => {
  it('ships what runs and none of the TypeScript sources or source maps', () => {
    const paths = packed.files.map((f) => f.path);
    for (const required of ['LICENSE', 'README.md', 'bin/gemwh.js', 'dist/cli.js', 'src/help-pages/gemwh-listen.txt', 'src/fixtures/events/batch.succeeded.json', 'completions/gemwh.bash']) {
      expect(paths, required).toContain(required);
    }
    expect(paths.filter((p) => p.endsWith('.map') || (p.endsWith('.ts') && !p.endsWith('.d.ts')) || p.endsWith('.tsx'))).toEqual([]);
    expect(readFileSync(join(REPO_ROOT, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
  });

  it('gemwh --version and gemwh events run from the installed bin', () => {
    const version = spawnSync(gemwhBin, ['--version'], { env: runtimeEnv(), encoding: 'utf8', shell: process.platform === 'win32' });
    expect(version.status, version.stderr).toBe(0);
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout).toContain(pkg.version);
    const events = spawnSync(gemwhBin, ['events'], { env: runtimeEnv(), encoding: 'utf8', shell: process.platform === 'win32' });
    expect(events.status, events.stderr).toBe(0);
    for (const type of API_EVENT_TYPES) expect(events.stdout).toContain(type);
  });

  it('gemwh listen --emulator --demo --json verifies every demo event, then stops on Ctrl-C', async () => {
    const child = spawn(gemwhBin, ['listen', '--emulator', '--demo', '--json', '--port', '0'], { env: runtimeEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const verified = () => stdout.split('\n').filter((line) => line.startsWith('{') && (JSON.parse(line) as { type: string }).type === 'verified').length;
    try {
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          if (verified() >= API_EVENT_TYPES.length) resolve();
        };
        child.stdout.on('data', check);
        void exited.then((code) => reject(new Error(`gemwh listen exited (${String(code)}) before verifying the demo:\n${stdout}\n${stderr}`)));
      });
      child.kill('SIGINT');
      expect(await exited, stderr).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    expect(existsSync(join(work, 'home'))).toBe(true);
    expect(readdirSync(join(work, 'home', 'state', 'gemwh'))).toContain('emulator-journal.ndjson');
  }, 60_000);
});
