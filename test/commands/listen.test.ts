import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from '../../src/program.js';
import { createFileStore, fileStorePath } from '../../src/secrets/file-store.js';
import { tempWebhookName } from '../../src/listen/public-url.js';
import { makeTestDeps } from '../helpers/deps.js';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator.js';
import { startListenCli, type ListenCli, type ListenCliOptions } from '../helpers/listen-cli.js';
import { closedPort } from '../helpers/loopback.js';
import { perTest } from '../helpers/per-test.js';
import { SECRET, body, post, signedHeaders } from '../listen/helpers.js';

const { defer, sink } = perTest();

interface RunningListen extends ListenCli {
  /** From the first line, `ready`. */
  url: string;
}

async function startListen(args: string[], options: Pick<ListenCliOptions, 'env' | 'setup'> = {}): Promise<RunningListen> {
  const listen = await startListenCli(args, { ...options, defer });
  const ready = await listen.waitFor(() => true, 'a ready line');
  return { ...listen, url: String(ready.url) };
}

describe('gemwh listen: NDJSON for scripts', () => {
  it('prints ready with the URL first, one parseable event per line, no ANSI codes, and stopped last on SIGTERM', async () => {
    const listen = await startListen(['--secret', SECRET]);
    expect(listen.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const raw = body();
    expect((await post(listen.url, raw, signedHeaders(raw, { id: 'msg_cli_1' }))).status).toBe(200);
    expect((await post(listen.url, raw, signedHeaders(raw, { secret: 'whsec_' + Buffer.alloc(24, 3).toString('base64') }))).status).toBe(401);
    expect(await listen.stop()).toBe(0);
    const out = listen.t.stdout();
    expect(out).not.toMatch(/\x1b\[/);
    const types = listen.lines().map((l) => l.type);
    expect(types[0]).toBe('ready');
    expect(types.at(-1)).toBe('stopped');
    expect(types).toEqual(['ready', 'received', 'verified', 'received', 'rejected', 'stopped']);
    expect(listen.lines()[2]).toMatchObject({ webhookId: 'msg_cli_1', eventType: 'batch.succeeded' });
    expect(listen.lines().at(-1)!.reason).toMatch(/SIGTERM/);
    expect(listen.t.stderr()).toContain('listening on');
  });

  it('--quiet keeps only ready, rejected, forward_failed, warning and stopped', async () => {
    const port = await closedPort();
    const listen = await startListen(['--secret', SECRET, '--quiet', '--forward', String(port), '--retry-initial', '5s']);
    const raw = body();
    await post(listen.url, raw, signedHeaders(raw));
    await post(listen.url, raw, { 'content-type': 'application/json' });
    const deadline = Date.now() + 3000;
    while (!listen.lines().some((l) => l.type === 'forward_failed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await listen.stop();
    const types = listen.lines().map((l) => l.type);
    expect(types[0]).toBe('ready');
    expect(types.at(-1)).toBe('stopped');
    expect(types.slice(1, -1).sort()).toEqual(['forward_failed', 'rejected']);
  });

  it('writes --ready-file atomically once the port is open and removes it on exit', async () => {
    const t = makeTestDeps();
    const file = join(t.home, 'ready.url');
    defer(() => t.cleanup());
    const listen = await startListen(['--secret', SECRET, '--ready-file', file]);
    expect(readFileSync(file, 'utf8')).toBe(`${listen.url}\n`);
    await listen.stop();
    expect(existsSync(file)).toBe(false);
  });

  it('verifies with the secrets of every stored webhook by default', async () => {
    const listen = await startListen([], {
      env: { GEMWH_SECRET_STORE: 'file' },
      setup: async (t) => {
        await createFileStore(fileStorePath(t.deps.paths.config)).setWebhookSecrets('wh_stored', [{ secret: SECRET, createdAt: new Date().toISOString() }]);
      },
    });
    const raw = body();
    expect((await post(listen.url, raw, signedHeaders(raw))).status).toBe(200);
    await listen.stop();
    expect(listen.lines()[0]).toMatchObject({ verifying: { webhookIds: ['wh_stored'] } });
    expect(listen.lines().find((l) => l.type === 'verified')).toMatchObject({ matched: { label: 'wh_stored', inGrace: false } });
  });

  it('forwards and shows the app answer in NDJSON', async () => {
    const app = await sink(() => ({ status: 200, body: 'thanks' }));
    const listen = await startListen(['--secret', SECRET, '--forward', app.url, '--header', 'X-From: gemwh']);
    const raw = body();
    await post(listen.url, raw, signedHeaders(raw));
    const deadline = Date.now() + 3000;
    while (!listen.lines().some((l) => l.type === 'forwarded') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await listen.stop();
    expect(listen.lines().find((l) => l.type === 'forwarded')).toMatchObject({ status: 200, responseStart: 'thanks' });
    expect(app.requests[0]!.headers['x-from']).toBe('gemwh');
  });

  it('refuses bad flags with a usage error and no stack trace', async () => {
    const t = makeTestDeps();
    defer(() => t.cleanup());
    expect(await runMain(['listen', '--port', '99999'], t.deps)).toBe(2);
    expect(await runMain(['listen', '--route', 'nonsense'], t.deps)).toBe(2);
    expect(await runMain(['listen', '--secret', 'v1,abc'], t.deps)).toBe(2);
    expect(await runMain(['listen', '--max-body', 'lots'], t.deps)).toBe(2);
    expect(await runMain(['listen', '--header', 'Host: x'], t.deps)).toBe(2);
    expect(t.stderr()).not.toMatch(/\n\s+at /);
  });
});

describe('gemwh listen on a terminal', () => {
  it('--json prints NDJSON even on a TTY', async () => {
    const controller = new AbortController();
    const t = makeTestDeps({ stdoutIsTTY: true, signal: controller.signal });
    defer(() => t.cleanup());
    const run = runMain(['listen', '--port', '0', '--no-journal', '--json', '--secret', SECRET], t.deps);
    while (!t.stdout().includes('\n')) await new Promise((r) => setTimeout(r, 10));
    controller.abort('SIGINT');
    expect(await run).toBe(0);
    expect(JSON.parse(t.stdout().split('\n')[0]!)).toMatchObject({ type: 'ready' });
  });

  it('prints plain lines without colour codes when no UI is available', async () => {
    const controller = new AbortController();
    const t = makeTestDeps({ stdoutIsTTY: true, signal: controller.signal });
    defer(() => t.cleanup());
    const { runListen } = await import('../../src/listen/run-listen.js');
    const { toListenOptions } = await import('../../src/commands/listen.js');
    const options = toListenOptions(
      {
        host: '127.0.0.1', port: '0', webhook: [], secret: [SECRET], secretEnv: [], tolerance: '5m', forward: [], route: [], events: [], header: [],
        forwardTimeout: '30s', retryInitial: '1s', retryMax: '60s', maxBody: '1MiB', journal: false, journalMaxSize: '16MiB', journalKeep: '4',
      },
      {},
    );
    const run = runListen(options, t.deps, {});
    while (!t.stdout().includes('listening on')) await new Promise((r) => setTimeout(r, 10));
    const url = /listening on (\S+)/.exec(t.stdout())![1]!;
    const raw = body();
    await post(url, raw, signedHeaders(raw, { id: 'msg_plain' }));
    while (!t.stdout().includes('msg_plain')) await new Promise((r) => setTimeout(r, 10));
    controller.abort('SIGINT');
    await run;
    expect(t.stdout()).toMatch(/batch\.succeeded {2}msg_plain {2}verified \(--secret #1\)/);
    expect(t.stdout()).toMatch(/stopped \(signal SIGINT\)/);
    expect(t.stdout()).not.toMatch(/\x1b\[/);
  });
});

describe('gemwh listen --public-url', () => {
  let emulator: TestEmulator;

  it('creates a temporary webhook on start, verifies with its secret, and deletes it on SIGTERM', async () => {
    emulator = await startTestEmulator();
    defer(() => emulator.stop());
    const listen = await startListen(['--public-url', 'https://tunnel.example.com/hook', '--events', 'batch.*'], { env: emulator.env });
    const [record] = emulator.store.records();
    expect(record).toBeDefined();
    expect(record!.name).toMatch(/^gemwh-listen-/);
    expect(record!.uri).toBe('https://tunnel.example.com/hook');
    expect(record!.subscribed_events.every((e) => e.startsWith('batch.'))).toBe(true);
    expect(listen.lines()[0]).toMatchObject({ verifying: { webhookIds: [record!.id] } });

    // Gemini signs with the webhook's secret; gemwh never stored it anywhere but memory.
    const secret = emulator.store.activeSecrets(record!.id)[0]!.secret;
    const raw = body();
    expect((await post(listen.url, raw, signedHeaders(raw, { secret }))).status).toBe(200);
    expect(existsSync(fileStorePath(listen.t.deps.paths.config))).toBe(false);

    expect(await listen.stop()).toBe(0);
    expect(emulator.store.records()).toHaveLength(0);
    expect(listen.t.stderr()).toMatch(/deleted the temporary webhook/);
  });

  it('removes a temporary webhook left behind by a crashed listen on this machine, and keeps others', async () => {
    emulator = await startTestEmulator();
    defer(() => emulator.stop());
    const pid = 2 ** 22 + 12345; // above Linux's pid_max default: certainly not running
    const leftover = emulator.store.create({ name: tempWebhookName({ host: hostname(), pid }, Date.now() - 3600_000), uri: 'https://old.example.com', subscribed_events: ['batch.succeeded'] });
    const otherHost = emulator.store.create({ name: tempWebhookName({ host: 'someone-else', pid }, Date.now()), uri: 'https://x.example.com', subscribed_events: ['batch.succeeded'] });
    const alive = emulator.store.create({ name: tempWebhookName({ host: hostname(), pid: process.pid }, Date.now()), uri: 'https://y.example.com', subscribed_events: ['batch.succeeded'] });
    const unrelated = emulator.store.create({ name: 'my-prod-hook', uri: 'https://prod.example.com', subscribed_events: ['batch.succeeded'] });

    const listen = await startListen(['--public-url', 'https://tunnel.example.com/'], { env: emulator.env });
    const ids = emulator.store.records().map((r) => r.id);
    expect(ids).not.toContain(leftover.id);
    expect(ids).toEqual(expect.arrayContaining([otherHost.id, alive.id, unrelated.id]));
    expect(listen.t.stderr()).toContain(`removed ${leftover.id}`);
    await listen.stop();
    expect(emulator.store.records().map((r) => r.id).sort()).toEqual([otherHost.id, alive.id, unrelated.id].sort());
  });

  it('fails with an auth error, creating nothing, when there is no API key', async () => {
    emulator = await startTestEmulator();
    defer(() => emulator.stop());
    const t = makeTestDeps({ env: { GEMWH_API_ROOT: emulator.url, GEMWH_SECRET_STORE: 'file' } });
    defer(() => t.cleanup());
    expect(await runMain(['listen', '--port', '0', '--public-url', 'https://tunnel.example.com/'], t.deps)).toBe(4);
    expect(emulator.store.records()).toHaveLength(0);
  });
});
