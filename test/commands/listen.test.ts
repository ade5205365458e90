import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSigningKey, signJwt, toJwks, webhookClaims } from '../../src/core/jwt-sign.js';
import { ExitCode, InterruptedError } from '../../src/errors.js';
import type { ListenSession } from '../../src/listen/session-types.js';
import { runMain } from '../../src/program.js';
import { createFileStore, fileStorePath } from '../../src/secrets/file-store.js';
import { tempWebhookName } from '../../src/listen/public-url.js';
import { makeTestDeps } from '../helpers/deps.js';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator.js';
import { startListenCli, type ListenCli, type ListenCliOptions } from '../helpers/listen-cli.js';
import { closedPort } from '../helpers/loopback.js';
import { startRecordingServer } from '../helpers/recording-server.js';
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
    const { runListen } = await import('../../src/commands/listen/run.js');
    const { commandContext } = await import('../../src/commands/context.js');
    const { toListenOptions } = await import('../../src/commands/listen/index.js');
    const options = toListenOptions(
      {
        host: '127.0.0.1', port: '0', webhook: [], secret: [SECRET], secretEnv: [], tolerance: '5m', forward: [], route: [], events: [], header: [],
        forwardTimeout: '30s', retryInitial: '1s', retryMax: '60s', maxBody: '1MiB', journal: false, journalMaxSize: '16MiB', journalKeep: '4',
      },
    );
    const run = runListen(options, commandContext(t.deps), {});
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

  it('honours GEMWH_API_RETRIES like every other API command: 0 means one request, then the error', async () => {
    const api = await startRecordingServer(() => ({ status: 503, body: JSON.stringify({ error: { code: 503, status: 'UNAVAILABLE', message: 'try later' } }) }));
    defer(() => api.close());
    const t = makeTestDeps({ env: { GEMWH_API_ROOT: api.url, GEMINI_API_KEY: 'test-key', GEMWH_SECRET_STORE: 'file', GEMWH_API_RETRIES: '0' } });
    defer(() => t.cleanup());
    expect(await runMain(['listen', '--port', '0', '--public-url', 'https://tunnel.example.com/'], t.deps)).not.toBe(0);
    expect(api.requests).toHaveLength(1);
    expect(t.stderr()).not.toMatch(/retry 1 in/);
  });
});

describe('gemwh listen: an unusable journal is refused before the session starts', () => {
  async function refused(args: string[], setup?: (home: string) => void): Promise<{ code: number; stderr: string; home: string }> {
    const t = makeTestDeps();
    defer(() => t.cleanup());
    setup?.(t.home);
    const code = await runMain(['listen', '--port', '0', '--secret', SECRET, ...args.map((a) => a.replace('HOME', t.home))], t.deps);
    return { code, stderr: t.stderr(), home: t.home };
  }

  it('--journal naming a folder: exit 2, the file and EISDIR, and the way out', async () => {
    const { code, stderr, home } = await refused(['--journal', 'HOME']);
    expect(code).toBe(2);
    expect(stderr).toContain(`gemwh: cannot use the journal ${home}: ${home} is a folder, not a file (EISDIR)`);
    expect(stderr).toMatch(/Pick another --journal FILE, or run with --no-journal/);
    expect(stderr).not.toMatch(/unexpected error|This is a bug|\n\s+at /);
  });

  it('--journal under a file: exit 2 naming the file in the way', async () => {
    const { code, stderr, home } = await refused(['--journal', 'HOME/a-file/sub/journal.ndjson'], (home) => writeFileSync(join(home, 'a-file'), 'x'));
    expect(code).toBe(2);
    expect(stderr).toContain(`cannot use the journal ${home}/a-file/sub/journal.ndjson: ${home}/a-file is a file, not a folder`);
    expect(stderr).not.toMatch(/unexpected error|This is a bug/);
  });

  it('--journal that is not a regular file: exit 2', async () => {
    const { code, stderr } = await refused(['--journal', '/dev/null']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/cannot use the journal \/dev\/null: \/dev\/null is not a regular file/);
  });

  it.skipIf(process.platform !== 'linux')('--journal under /proc: exit 2 at once instead of spinning in mkdir', async () => {
    const started = Date.now();
    const { code, stderr } = await refused(['--journal', '/proc/nope/j.ndjson']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/cannot use the journal \/proc\/nope\/j\.ndjson: cannot create the folder \/proc\/nope \(.*\)/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it.skipIf(process.getuid?.() === 0 || process.platform === 'win32')('--journal in a folder without write permission: exit 2 with EACCES', async () => {
    const { code, stderr } = await refused(['--journal', 'HOME/locked/journal.ndjson'], (home) => mkdirSync(join(home, 'locked'), { mode: 0o500 }));
    expect(code).toBe(2);
    expect(stderr).toMatch(/cannot use the journal .*locked\/journal\.ndjson: .*permission denied: EACCES/);
  });

  it('an unusable default journal says where the default lives', async () => {
    // gemwh's state folder is a file: $XDG_STATE_HOME/gemwh/journal.ndjson cannot exist.
    const t = makeTestDeps();
    defer(() => t.cleanup());
    writeFileSync(t.deps.paths.state, 'not a folder');
    const code = await runMain(['listen', '--port', '0', '--secret', SECRET], t.deps);
    expect(code).toBe(2);
    expect(t.stderr()).toContain(`cannot use the journal ${join(t.deps.paths.state, 'journal.ndjson')}: ${t.deps.paths.state} is a file, not a folder`);
    expect(t.stderr()).toMatch(/\$XDG_STATE_HOME\/gemwh\/ by default: pick another place with --journal FILE, or run with --no-journal/);
  });

  it('creates missing folders of --journal (0700) and the file (0600)', async () => {
    const t = makeTestDeps();
    defer(() => t.cleanup());
    const journal = join(t.home, 'deep', 'er', 'journal.ndjson');
    const listen = await startListen(['--secret', SECRET, '--journal', journal]);
    await listen.stop();
    expect(statSync(join(t.home, 'deep')).mode & 0o777).toBe(0o700);
    expect(statSync(journal).mode & 0o777).toBe(0o600);
  });
});

describe('gemwh listen: --jwks-file is read at start', () => {
  it('a missing or invalid JWKS file is exit 2 with the cause, before anything listens', async () => {
    const t = makeTestDeps();
    defer(() => t.cleanup());
    const notJson = join(t.home, 'not.json');
    const noKeys = join(t.home, 'empty.json');
    const notJwks = join(t.home, 'other.json');
    writeFileSync(notJson, '{"keys": [');
    writeFileSync(noKeys, '{"keys": []}');
    writeFileSync(notJwks, '{"kty": "RSA"}');
    for (const [file, message] of [
      [join(t.home, 'missing.json'), /--jwks-file: cannot read .*missing\.json: no such file/],
      [notJson, /--jwks-file: .*not\.json is not JSON/],
      [noKeys, /--jwks-file: .*empty\.json holds no keys/],
      [notJwks, /--jwks-file: .*other\.json is not a JWKS: .*"keys" array/],
    ] as const) {
      const run = makeTestDeps();
      defer(() => run.cleanup());
      // Before the fix the listener started and ran: bound the wait so that shows as a failure.
      const controller = new AbortController();
      const deps = { ...run.deps, signal: controller.signal };
      const timer = setTimeout(() => controller.abort('SIGTERM'), 5000);
      const code = await runMain(['listen', '--port', '0', '--no-journal', '--jwks-file', file], deps);
      clearTimeout(timer);
      expect(code, run.stderr()).toBe(2);
      expect(run.stderr()).toMatch(message);
      expect(run.stdout()).toBe('');
    }
  });
});

describe('gemwh listen: the JWT audience', () => {
  it('without --audience, warns once, at the first dynamic delivery (in NDJSON too), not at start; with it, never', async () => {
    const t = makeTestDeps();
    defer(() => t.cleanup());
    const key = await generateSigningKey();
    const jwks = join(t.home, 'jwks.json');
    writeFileSync(jwks, JSON.stringify(toJwks([key])));
    const deliver = async (url: string, id: string, audience: string) => {
      const raw = body('interaction.completed');
      const claims = webhookClaims({ event: JSON.parse(raw), body: raw, webhookId: id, audience, issuedAt: Math.floor(Date.now() / 1000) });
      return post(url, raw, { 'content-type': 'application/json', 'webhook-id': id, 'webhook-signature': await signJwt(claims, key) });
    };

    const unchecked = await startListen(['--secret', SECRET, '--jwks-file', jwks]);
    expect(unchecked.lines().filter((line) => line.type === 'warning')).toEqual([]);
    expect((await deliver(unchecked.url, 'msg_aud_w1', 'https://a.example/h')).status).toBe(200);
    expect(await unchecked.waitFor((line) => line.type === 'warning', 'the audience warning')).toMatchObject({
      message: expect.stringMatching(/^JWT audience not checked: pass --audience/),
    });
    expect((await deliver(unchecked.url, 'msg_aud_w2', 'https://b.example/h')).status).toBe(200);
    await unchecked.waitFor((line) => line.type === 'verified' && line.webhookId === 'msg_aud_w2', 'the second delivery');
    await unchecked.stop();
    const warnings = unchecked.lines().filter((line) => line.type === 'warning');
    expect(warnings).toHaveLength(1);
    // One line of the live view's header at 80 columns, with its "! " prefix.
    expect(String(warnings[0]!.message).length + 2).toBeLessThanOrEqual(80);

    // Repeatable: a token for either audience passes, another is refused.
    const checked = await startListen(['--secret', SECRET, '--jwks-file', jwks, '--audience', 'https://a.example/h', '--audience', 'client-id-2']);
    expect((await deliver(checked.url, 'msg_aud_c1', 'https://a.example/h')).status).toBe(200);
    expect((await deliver(checked.url, 'msg_aud_c2', 'client-id-2')).status).toBe(200);
    expect((await deliver(checked.url, 'msg_aud_c3', 'https://someone-else.example/h')).status).toBe(401);
    await checked.stop();
    expect(checked.lines().filter((line) => line.type === 'warning')).toEqual([]);
  });

  it('each accepted dynamic delivery says its audience was not checked', async () => {
    const key = await generateSigningKey();
    const controller = new AbortController();
    const t = makeTestDeps({ signal: controller.signal });
    defer(() => t.cleanup());
    const jwks = join(t.home, 'jwks.json');
    writeFileSync(jwks, JSON.stringify(toJwks([key])));
    const { runListen } = await import('../../src/commands/listen/run.js');
    const { commandContext } = await import('../../src/commands/context.js');
    const { toListenOptions } = await import('../../src/commands/listen/index.js');
    const options = toListenOptions(
      {
        host: '127.0.0.1', port: '0', secret: [SECRET], jwksFile: jwks, tolerance: '5m', forwardTimeout: '30s', retryInitial: '1s', retryMax: '60s',
        maxBody: '1MiB', journal: false, journalMaxSize: '16MiB', journalKeep: '4', json: true,
      },
    );
    let session: ListenSession | undefined;
    const run = runListen(options, commandContext(t.deps), { onListening: async (s) => void (session = s) });
    defer(async () => {
      controller.abort('SIGTERM');
      await run.catch(() => {});
    });
    while (!session) await new Promise((r) => setTimeout(r, 10));

    const raw = body('interaction.completed');
    const claims = webhookClaims({ event: JSON.parse(raw), body: raw, webhookId: 'msg_aud_1', audience: 'https://someone-else.example/hook', issuedAt: Math.floor(Date.now() / 1000) });
    const answer = await post(session.url, raw, { 'content-type': 'application/json', 'webhook-id': 'msg_aud_1', 'webhook-signature': await signJwt(claims, key) });
    expect(answer.status).toBe(200);
    const details = session.getDelivery(1);
    expect(details?.outcome.kind).toBe('verified');
    const verdict = (details!.outcome as { verdict: { explanation: string } }).verdict;
    expect(verdict.explanation).toMatch(/the audience was not checked \(aud "https:\/\/someone-else\.example\/hook"\): pass --audience to require it/);
  });

  it('gemwh conformance --dynamic passes reject-jwt-wrong-audience against listen --audience, and fails it without', async () => {
    const jwksPort = await closedPort();
    const audience = 'https://hooks.example.com/gemini';
    const jwksUrl = `http://127.0.0.1:${jwksPort}/.well-known/jwks.json`;
    // The conformance run's dev key lives in its own config folder; the listener only trusts its JWKS.
    const battery = async (listenArgs: string[]) => {
      const listen = await startListen(['--jwks-url', jwksUrl, ...listenArgs]);
      const t = makeTestDeps();
      defer(() => t.cleanup());
      const code = await runMain(
        ['conformance', listen.url, '--dynamic', '--jwks-port', String(jwksPort), '--audience', audience, '--only', 'reject-jwt-wrong-audience', '--json'],
        t.deps,
      );
      await listen.stop();
      return { code, stdout: t.stdout(), stderr: t.stderr() };
    };
    const withAudience = await battery(['--audience', audience]);
    expect(withAudience.code, withAudience.stdout + withAudience.stderr).toBe(0);
    const without = await battery([]);
    expect(without.code).toBe(ExitCode.CHECK_FAILED);
  });
});

describe('gemwh listen: Ctrl-C during start-up', () => {
  it('stops at once with exit 130 while a start-up step hangs, leaving nothing listening', async () => {
    const controller = new AbortController();
    const t = makeTestDeps({ signal: controller.signal });
    defer(() => t.cleanup());
    const { runListen } = await import('../../src/commands/listen/run.js');
    const { commandContext } = await import('../../src/commands/context.js');
    const { toListenOptions } = await import('../../src/commands/listen/index.js');
    const { createMemoryStore } = await import('../../src/secrets/memory-store.js');
    // A secret store that never answers, as a keychain waiting for an unlock prompt does.
    const stuck = { ...createMemoryStore(), listWebhookIds: () => new Promise<string[]>(() => {}) };
    const options = toListenOptions(
      { host: '127.0.0.1', port: '0', tolerance: '5m', forwardTimeout: '30s', retryInitial: '1s', retryMax: '60s', maxBody: '1MiB', journal: false, journalMaxSize: '16MiB', journalKeep: '4' },
    );
    const before = process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
    const run = runListen({ ...options, secretStore: stuck }, commandContext(t.deps));
    await new Promise((r) => setTimeout(r, 50));
    controller.abort('SIGTERM');
    const error = await Promise.race([run.then(() => undefined, (e: unknown) => e), new Promise((r) => setTimeout(() => r('still starting'), 3000))]);
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as InterruptedError).exitCode).toBe(130);
    expect((error as InterruptedError).message).toBe('stopped while listen was starting');
    // Servers of earlier tests may still be closing: none may have been added.
    expect(process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length).toBeLessThanOrEqual(before);
    expect(t.stdout()).toBe('');
  });

  it('exits 130 through the CLI when the signal came before the listener was up', async () => {
    const controller = new AbortController();
    controller.abort('SIGINT');
    const t = makeTestDeps({ signal: controller.signal });
    defer(() => t.cleanup());
    expect(await runMain(['listen', '--port', '0', '--secret', SECRET], t.deps)).toBe(130);
    expect(t.stderr()).toMatch(/gemwh: stopped while listen was starting/);
  });
});

describe('gemwh listen --events and --route are checked as create checks event types', () => {
  const base = {
    host: '127.0.0.1', port: '0', tolerance: '5m', forwardTimeout: '30s', retryInitial: '1s', retryMax: '60s', maxBody: '1MiB',
    journal: false as const, journalMaxSize: '16MiB', journalKeep: '4',
  };
  it('refuses a misspelt type with a did-you-mean, a glob that matches nothing, and accepts them with --allow-unknown-events', async () => {
    const { toListenOptions } = await import('../../src/commands/listen/index.js');
    expect(() => toListenOptions({ ...base, events: ['batch.succeded'] })).toThrow(/--events: unknown event type "batch.succeded" \(did you mean "batch.succeeded"\?\)/);
    expect(() => toListenOptions({ ...base, events: ['bach.*'] })).toThrow(/--events: "bach.\*" matches no known event type/);
    expect(() => toListenOptions({ ...base, route: ['batch.succeded=3000'] })).toThrow(/--route: unknown event type "batch.succeded"/);
    expect(toListenOptions({ ...base, events: ['batch.*', 'video.generated'] }).events).toEqual(['batch.*', 'video.generated']);
    expect(toListenOptions({ ...base, events: ['batch.succeded'], allowUnknownEvents: true }).events).toEqual(['batch.succeded']);
  });

  it('exits 2 with the hint listing valid types', async () => {
    const t = makeTestDeps();
    defer(() => t.cleanup());
    const code = await runMain(['listen', '--secret', SECRET, '--events', 'batch.succeded', '--port', '0', '--no-journal'], t.deps);
    expect(code).toBe(ExitCode.USAGE);
    expect(t.stderr()).toMatch(/did you mean "batch.succeeded"/);
  });
});
