import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compiledDist } from '../helpers/dist.js';

// The real binary in a real project folder: the process's own cwd, HOME and environment are what
// cli.ts hands to the config loader (the in-process tests pass them through Deps).

let dist: string;
let root: string;

beforeAll(() => {
  dist = compiledDist();
  root = mkdtempSync(join(tmpdir(), 'gemwh-config-cli-'));
}, 120_000);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function gemwh(args: string[], cwd: string, env: Record<string, string> = {}) {
  const home = join(root, 'home');
  const result = spawnSync(process.execPath, [join(dist, 'cli.js'), ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_STATE_HOME: join(home, 'state'), ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('gemwh as a process in a project', () => {
  it('finds gemwh.json and .env from a subfolder; the shell environment beats .env', () => {
    const project = join(root, 'app');
    mkdirSync(join(project, '.git'), { recursive: true });
    mkdirSync(join(project, 'src', 'handlers'), { recursive: true });
    writeFileSync(join(project, 'gemwh.json'), '{\n  "apiRoot": "http://127.0.0.1:8790",\n  "listen": { "forward": "3000/hook" }\n}\n');
    writeFileSync(join(project, '.env'), 'GEMWH_SECRET_STORE=file\nGEMWH_API_ROOT=http://127.0.0.1:9999\n');
    const run = gemwh(['config', 'show', '--json'], join(project, 'src', 'handlers'), { GEMWH_API_ROOT: 'http://127.0.0.1:7000' });
    expect(run.code, run.stderr).toBe(0);
    const shown = JSON.parse(run.stdout) as { settings: Array<{ key: string; value: unknown; source: string; from?: string; line?: number }> };
    const get = (key: string) => shown.settings.find((row) => row.key === key);
    expect(get('apiRoot')).toMatchObject({ value: 'http://127.0.0.1:7000', source: 'env' });
    expect(get('secretStore')).toMatchObject({ value: 'file', source: 'env', envFile: join(project, '.env') });
    expect(get('listen.forward')).toMatchObject({ value: ['3000/hook'], source: 'project', from: join(project, 'gemwh.json'), line: 3 });
  });

  it('a bad file exits 2 with file:line:column and no stack trace, --json as a JSON error', () => {
    const project = join(root, 'broken');
    mkdirSync(join(project, '.git'), { recursive: true });
    writeFileSync(join(project, 'gemwh.json'), '{\n  "listen": {\n    "evnts": ["batch.*"]\n  }\n}\n');
    const run = gemwh(['events'], project);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`gemwh: ${join(project, 'gemwh.json')}:3:5: unknown key "listen.evnts" (did you mean "events"?)`);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    const json = gemwh(['events', '--json'], project);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: 'usage', exitCode: 2 } });
    // A bug report still works beside a broken file.
    expect(gemwh(['version'], project).code).toBe(0);
  });
});
