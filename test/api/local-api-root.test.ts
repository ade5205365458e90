import { afterEach, describe, expect, it } from 'vitest';
import { isLocalApiRoot } from '../../src/api/api-root.js';
import { asInvoked, invocation } from '../../src/core/invocation.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { runGemwh } from '../helpers/deps.js';

const started: RunningEmulator[] = [];
afterEach(async () => {
  for (const e of started.splice(0)) await e.stop();
});

async function emulator(apiKey?: string): Promise<RunningEmulator> {
  const e = await startEmulator({ host: '127.0.0.1', port: 0, apiKey });
  started.push(e);
  return e;
}

describe('a local API root needs no API key', () => {
  it('sends a key by itself to the emulator, with none in the flags, the environment or the store', async () => {
    const e = await emulator();
    const env = { GEMWH_API_ROOT: e.url, GEMWH_SECRET_STORE: 'file', GEMINI_API_KEY: undefined, GOOGLE_API_KEY: undefined };
    const created = await runGemwh(['create', '--uri', 'https://hooks.example.com/g', '--events', 'batch.succeeded', '--json'], { env });
    expect(created.code, created.stderr).toBe(0);
    const listed = await runGemwh(['list', '--json', '--api-root', e.url.replace('http://', '')], { env: { ...env, GEMWH_API_ROOT: undefined } });
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { webhooks: unknown[] }).webhooks).toHaveLength(1);
  });

  it('a "no API key" error against a local root says the emulator accepts any key', async () => {
    const e = await emulator();
    const status = await runGemwh(['auth', 'status'], { env: { GEMWH_API_ROOT: e.url, GEMWH_SECRET_STORE: 'file', GEMINI_API_KEY: undefined } });
    expect(status.code).toBe(4);
    expect(status.stderr).toMatch(/the emulator accepts any key/);
    const remote = await runGemwh(['auth', 'status'], { env: { GEMWH_SECRET_STORE: 'file', GEMINI_API_KEY: undefined } });
    expect(remote.stderr).not.toMatch(/emulator accepts any key/);
    expect(remote.stderr).toMatch(/aistudio\.google\.com/);
  });

  it('knows which roots are local', () => {
    for (const root of ['http://127.0.0.1:8790', 'http://localhost:8790', 'http://[::1]:8790', 'http://app.localhost']) expect(isLocalApiRoot(root)).toBe(true);
    for (const root of ['https://generativelanguage.googleapis.com', 'http://10.0.0.2:8790', 'http://127.example.com']) expect(isLocalApiRoot(root)).toBe(false);
  });
});

describe('hints say how gemwh was started', () => {
  it('`npx gemwh …` when npx ran it, `gemwh …` otherwise', async () => {
    expect(invocation({ npm_command: 'exec' })).toBe('npx gemwh');
    expect(invocation({})).toBe('gemwh');
    expect(asInvoked('Run `gemwh list` or: gemwh auth login (gemwh keeps it); gemwh --api-key K', { npm_command: 'exec' }, ['list', 'auth'])).toBe(
      'Run `npx gemwh list` or: npx gemwh auth login (gemwh keeps it); npx gemwh --api-key K',
    );
    const viaNpx = await runGemwh(['deliveries', 'show'], { env: { npm_command: 'exec' } });
    expect(viaNpx.code).toBe(2);
    expect(viaNpx.stderr).toMatch(/e\.g\. npx gemwh deliveries show --last/);
    const direct = await runGemwh(['deliveries', 'show']);
    expect(direct.stderr).toMatch(/e\.g\. gemwh deliveries show --last/);
  });
});
