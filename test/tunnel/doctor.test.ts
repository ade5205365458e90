import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runGemwh } from '../helpers/deps.js';
import { closedPort } from '../helpers/loopback.js';
import { perTest } from '../helpers/per-test.js';
import { makeStandins } from './standins.js';

const { defer, emulator: startEmulator } = perTest();

interface Report {
  ok: boolean;
  checks: Array<{ name: string; status: string; detail: string; fix?: string }>;
}

const check = (report: Report, name: string) => report.checks.find((c) => c.name === name);

describe('gemwh doctor', () => {
  it('all good: a tunnel tool, a key the API accepts, a usable store; exit 0', async () => {
    const tools = makeStandins(['cloudflared']);
    defer(() => tools.cleanup());
    const emulator = await startEmulator();
    const result = await runGemwh(['doctor', '--json'], { env: { ...emulator.env, PATH: tools.path, GEMWH_SECRET_STORE: 'file' } });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.ok).toBe(true);
    expect(check(report, 'tunnel tool')).toMatchObject({ status: 'ok', detail: expect.stringContaining('--tunnel auto uses cloudflared') });
    expect(check(report, 'API key')).toMatchObject({ status: 'ok', detail: 'from $GEMINI_API_KEY' });
    expect(check(report, 'secret store')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^file: /) });
    expect(check(report, 'API root')).toMatchObject({ status: 'ok', detail: `${emulator.url} answered and accepted the API key` });
  });

  it('nothing set up (a local API root, so no key is needed): each failed check says how to fix it, exit 9', async () => {
    const port = await closedPort();
    const result = await runGemwh(['doctor'], { env: { PATH: '/nonexistent', GEMWH_SECRET_STORE: 'file', GEMWH_API_ROOT: `http://127.0.0.1:${port}` } });
    expect(result.code).toBe(9);
    expect(result.stdout).toMatch(/✗ tunnel tool +neither cloudflared nor ngrok is on PATH\n +fix: Install cloudflared/);
    // A local API root (the emulator's) needs no key: any key is sent.
    expect(result.stdout).toMatch(/✓ API key +from none needed for a local API root/);
    expect(result.stdout).toMatch(/✗ API root +http:\/\/127\.0\.0\.1:\d+: cannot reach .*connection refused \(ECONNREFUSED\)/);
    expect(result.stderr).toMatch(/2 checks failed: tunnel tool, API root/);
  });

  it('a key the API refuses, and ngrok without an auth token (a warning while cloudflared is there)', async () => {
    const tools = makeStandins(['cloudflared', 'ngrok']);
    defer(() => tools.cleanup());
    const emulator = await startEmulator();
    const home = join(tools.stateDir, 'home');
    mkdirSync(join(home, 'ngrok'), { recursive: true });
    writeFileSync(join(home, 'ngrok', 'ngrok.yml'), 'version: "3"\n');
    const env = { GEMWH_API_ROOT: emulator.url, GEMINI_API_KEY: 'not-the-key', PATH: tools.path, GEMWH_SECRET_STORE: 'file', XDG_CONFIG_HOME: home };
    const result = await runGemwh(['doctor', '--json'], { env });
    expect(result.code).toBe(9);
    const report = JSON.parse(result.stdout) as Report;
    expect(check(report, 'ngrok auth token')).toMatchObject({ status: 'warn', fix: expect.stringContaining('ngrok config add-authtoken') });
    expect(check(report, 'API root')).toMatchObject({ status: 'fail', detail: expect.stringContaining('refused the API key') });

    writeFileSync(join(home, 'ngrok', 'ngrok.yml'), 'version: "3"\nagent:\n  authtoken: 2abc\n');
    const fixed = JSON.parse((await runGemwh(['doctor', '--json'], { env: { ...env, GEMINI_API_KEY: emulator.apiKey } })).stdout) as Report;
    expect(fixed.ok).toBe(true);
    expect(check(fixed, 'ngrok auth token')).toMatchObject({ status: 'ok' });
  });
});
