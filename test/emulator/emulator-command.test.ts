import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { makeTestDeps, runGemwh, type TestDeps } from '../helpers/deps.js';
import { listenOnLoopback } from '../helpers/loopback.js';
import { perTest } from '../helpers/per-test.js';
import { startGemwh } from '../helpers/start-gemwh.js';

const { defer } = perTest();

/** Starts `gemwh emulator ...args` in-process; resolves once it printed its URL. abort() is Ctrl-C. */
async function startCommand(args: string[]): Promise<{ t: TestDeps; abort: () => void; done: Promise<number>; firstLine: string }> {
  const emulator = await startGemwh(['emulator', ...args], { defer });
  return { t: emulator.t, abort: () => void emulator.stop(), done: emulator.done, firstLine: await emulator.firstLine() };
}

describe('gemwh emulator', () => {
  it('prints its URL on stdout, serves the API, logs requests on stderr and stops when the signal aborts', async () => {
    const { t, abort, done, firstLine } = await startCommand(['--port', '0', '--api-key', 'only-this']);
    expect(firstLine).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const ok = await fetch(`${firstLine}/v1beta/webhooks`, { headers: { 'x-goog-api-key': 'only-this' } });
    expect(ok.status).toBe(200);
    const wrong = await fetch(`${firstLine}/v1beta/webhooks`, { headers: { 'x-goog-api-key': 'other' } });
    expect(wrong.status).toBe(400);
    abort();
    expect(await done).toBe(ExitCode.OK);
    expect(t.stdout()).toBe(`${firstLine}\n`);
    expect(t.stderr()).toMatch(/GEMWH_API_ROOT=http:\/\/127\.0\.0\.1:\d+/);
    expect(t.stderr()).toContain('GET /v1beta/webhooks -> 200');
    expect(t.stderr()).toMatch(/Emulator stopped/);
    await expect(fetch(`${firstLine}/v1beta/webhooks`)).rejects.toThrow();
  });

  it('prints {"url": ...} with --json and no request log with --quiet', async () => {
    const { t, abort, done, firstLine } = await startCommand(['--port', '0', '--json', '--quiet']);
    const { url } = JSON.parse(firstLine) as { url: string };
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await fetch(`${url}/v1beta/webhooks`, { headers: { 'x-goog-api-key': 'any' } });
    abort();
    await done;
    expect(t.stderr()).not.toContain('/v1beta/webhooks ->');
  });

  it('its banner prints the API key it accepts: the --api-key given, else any', async () => {
    const keyed = await startCommand(['--port', '0', '--quiet', '--api-key', 'dev-key-1234']);
    keyed.abort();
    await keyed.done;
    expect(keyed.t.stderr()).toMatch(/API key: +exactly dev-key-1234 \(the --api-key given\)/);
    const open = await startCommand(['--port', '0', '--quiet']);
    open.abort();
    await open.done;
    expect(open.t.stderr()).toMatch(/API key: +any non-empty key; gemwh sends one by itself to a local API root/);
  });

  it('lets gemwh commands reach it through GEMWH_API_ROOT', async () => {
    const { abort, done, firstLine } = await startCommand(['--port', '0', '--quiet']);
    const created = await fetch(`${firstLine}/v1beta/webhooks`, {
      method: 'POST',
      headers: { 'x-goog-api-key': 'k', 'content-type': 'application/json' },
      body: JSON.stringify({ uri: 'https://h.example/x', subscribed_events: ['batch.failed'] }),
    });
    expect(created.status).toBe(200);
    const { createWebhookApi } = await import('../../src/api/client.js');
    const t = makeTestDeps({ env: { GEMWH_API_ROOT: firstLine } });
    defer(t.cleanup);
    const listed = await createWebhookApi(t.deps, { apiKey: 'k' }).list();
    expect(listed.webhooks).toHaveLength(1);
    abort();
    await done;
  });

  it('--update-mask honor and --jwt-audience/--jwt-issuer reach the running emulator; bad values exit 2', async () => {
    const { abort, done, firstLine } = await startCommand(['--port', '0', '--quiet', '--update-mask', 'honor', '--jwt-audience', 'my-client-id', '--jwt-issuer', 'https://iss.example']);
    const headers = { 'x-goog-api-key': 'k', 'content-type': 'application/json' };
    const created = (await (
      await fetch(`${firstLine}/v1/webhooks`, { method: 'POST', headers, body: JSON.stringify({ uri: 'https://h.example/x', subscribed_events: ['batch.failed'], name: 'a' }) })
    ).json()) as { id: string };
    const patched = await fetch(`${firstLine}/v1/webhooks/${created.id}?update_mask=name`, { method: 'PATCH', headers, body: JSON.stringify({ name: 'b', uri: 'https://h.example/y' }) });
    expect(await patched.json()).toMatchObject({ name: 'b', uri: 'https://h.example/x' });
    abort();
    await done;

    const badMode = await runGemwh(['emulator', '--update-mask', 'sometimes']);
    expect(badMode.code).toBe(ExitCode.USAGE);
    expect(badMode.stderr).toMatch(/--update-mask.*sometimes.*ignore, honor|Allowed choices are ignore, honor/);
    const emptyAudience = await runGemwh(['emulator', '--jwt-audience', ' ']);
    expect(emptyAudience.code).toBe(ExitCode.USAGE);
    expect(emptyAudience.stderr).toMatch(/--jwt-audience must not be empty/);
  });

  it('exits 2 with a hint when the port is taken or invalid', async () => {
    const blocker = createServer();
    const port = await listenOnLoopback(blocker);
    try {
      const taken = await runGemwh(['emulator', '--port', String(port)]);
      expect(taken.code).toBe(ExitCode.USAGE);
      expect(taken.stderr).toMatch(new RegExp(`gemwh: port ${port} .* already in use`));
      expect(taken.stderr).toMatch(/--port/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
    const invalid = await runGemwh(['emulator', '--port', 'eighty']);
    expect(invalid.code).toBe(ExitCode.USAGE);
    expect(invalid.stderr).toMatch(/--port must be a number/);
  });

  it('documents itself with examples', async () => {
    const help = await runGemwh(['emulator', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:\n {2}\$ gemwh emulator/);
    expect(help.stdout).toContain('--state <file>');
  });
});
