import { readFileSync, statSync } from 'node:fs';
import { loadOrCreateDevSecret } from '../../src/devkey/dev-secret.js';
import { createServer } from 'node:http';
import { GoogleGenAI } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { EMULATOR_DEFAULT_PORT } from '../../src/api/api-root.js';
import { API_EVENT_TYPES } from '../../src/core/events.js';
import { redactSecret } from '../../src/core/redact.js';
import { verifyStatic } from '../../src/core/standard-webhooks.js';
import type { JournalDeliveryRecord } from '../../src/listen/journal-records.js';
import { runListenWithEmulator, type ListenEmulatorInfo } from '../../src/commands/listen/run-with-emulator.js';
import { commandContext } from '../../src/commands/context.js';
import type { ListenEvent } from '../../src/listen/events.js';
import type { ListenOptions, ListenTrigger } from '../../src/commands/listen/run.js';
import { runMain } from '../../src/program.js';
import { makeTestDeps, runGemwh } from '../helpers/deps.js';
import { startListenCli, type Line, type ListenCli } from '../helpers/listen-cli.js';
import { perTest } from '../helpers/per-test.js';
import { header } from '../helpers/recording-server.js';
import { until } from '../helpers/until.js';

const { defer, ...servers } = perTest();

function listeningServers(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'TCPServerWrap').length;
}

/**
 * A closed server's 'close' event comes a loop turn before Node drops its handle from
 * getActiveResourcesInfo(), so allow a moment; a server left listening never goes away.
 */
async function serversBackTo(count: number): Promise<void> {
  await until('every server to be closed', () => listeningServers() === count, { describe: () => process.getActiveResourcesInfo().join(', '), timeoutMs: 1000 });
}

interface DemoRun extends ListenCli {
  verified(): Line[];
  waitVerified(count: number, timeoutMs?: number): Promise<Line[]>;
  /** The emulator base URL printed on stderr. */
  emulatorUrl(): string;
}

/** `gemwh listen --emulator --json …` in-process, NDJSON on the captured stdout; stop() is Ctrl-C. */
async function startDemo(args: string[]): Promise<DemoRun> {
  const demo = await startListenCli(['--emulator', '--json', ...args], { defer, signal: 'SIGINT' });
  const verified = () => demo.lines().filter((line) => line.type === 'verified');
  return {
    ...demo,
    verified,
    waitVerified: (count, timeoutMs) => until(`${count} verified deliveries`, () => (verified().length >= count ? verified() : undefined), { describe: demo.describe, timeoutMs: timeoutMs ?? 10_000 }),
    emulatorUrl: () => /emulator running at (http:\/\/127\.0\.0\.1:\d+)/.exec(demo.t.stderr())?.[1] ?? '',
  };
}

/** Listens on `port` (if free) until the returned function is called. */
async function holdPort(port: number): Promise<() => Promise<void>> {
  const server = createServer();
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  const release = () => (bound ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve());
  defer(release);
  return release;
}

describe('gemwh listen --emulator', () => {
  it('--demo --json: one verified delivery of each of the 7 event types the API accepts, no API key or keychain, and a clean stop', async () => {
    const serversBefore = listeningServers();
    const demo = await startDemo(['--demo']);

    const verified = await demo.waitVerified(API_EVENT_TYPES.length);
    expect(verified.map((line) => line.eventType).sort()).toEqual([...API_EVENT_TYPES].sort());
    const ready = demo.lines()[0]!;
    expect(ready).toMatchObject({ type: 'ready' });
    const webhookId = (ready.verifying as { webhookIds: string[] }).webhookIds[0];
    expect(webhookId).toMatch(/^[a-z0-9]{36}$/);
    for (const line of verified) expect(line).toMatchObject({ scheme: 'static', matched: { label: webhookId, inGrace: false } });
    expect(demo.lines().filter((line) => line.type === 'rejected')).toEqual([]);

    // stderr tells the user where the emulator is, for their SDK.
    const emulatorUrl = demo.emulatorUrl();
    expect(emulatorUrl).not.toBe('');
    expect(demo.t.stderr()).toContain(`httpOptions: { baseUrl: '${emulatorUrl}' }`);
    expect(demo.t.stderr()).toContain(`GEMWH_API_ROOT=${emulatorUrl}`);

    expect(await demo.stop()).toBe(0);
    expect(demo.lines().at(-1)).toMatchObject({ type: 'stopped' });
    await serversBackTo(serversBefore);
    await expect(fetch(emulatorUrl)).rejects.toThrow();
  });

  it('--forward: the app receives every event byte-exact, with the headers Gemini signed (emulator on another port when 8790 is taken)', async () => {
    const sink = await servers.sink(() => ({ status: 200, body: 'ok' }));
    const blocker = await holdPort(EMULATOR_DEFAULT_PORT);
    const demo = await startDemo(['--demo', '--forward', `${sink.url}/hooks`]);
    await until('the emulator URL', () => demo.emulatorUrl() || undefined, { describe: () => demo.t.stderr() });
    expect(demo.emulatorUrl()).not.toBe(`http://127.0.0.1:${EMULATOR_DEFAULT_PORT}`);
    await blocker();

    await until(
      '9 forwards',
      () => demo.lines().filter((line) => line.type === 'forwarded').length >= API_EVENT_TYPES.length,
      { describe: () => demo.t.stderr() + demo.t.stdout() },
    );
    expect(sink.requests).toHaveLength(API_EVENT_TYPES.length);
    const received = readFileSync(demo.journal, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as JournalDeliveryRecord)
      .filter((record) => record.kind === 'delivery');
    expect(received).toHaveLength(API_EVENT_TYPES.length);
    for (const forwarded of sink.requests) {
      expect(forwarded.url).toBe('/hooks');
      const original = received.find((record) => record.headers.some(([name, value]) => name.toLowerCase() === 'webhook-id' && value === header(forwarded, 'webhook-id')));
      expect(original, `no delivery with webhook-id ${header(forwarded, 'webhook-id')}`).toBeDefined();
      expect(original!.outcome).toBe('verified');
      expect(forwarded.body.equals(Buffer.from(original!.body, original!.encoding))).toBe(true);
      for (const name of ['webhook-timestamp', 'webhook-signature', 'content-type']) {
        expect(header(forwarded, name)).toBe(original!.headers.find(([n]) => n.toLowerCase() === name)?.[1]);
      }
    }
    expect(new Set(sink.requests.map((r) => (JSON.parse(r.body.toString()) as { type: string }).type))).toEqual(new Set(API_EVENT_TYPES));
    expect(await demo.stop()).toBe(0);
  });

  it('an SDK app pointed at the printed emulator URL gets its jobs to the listener: static, and dynamic with its JWT checked', async () => {
    const demo = await startDemo([]);
    const emulatorUrl = await until('the emulator URL', () => demo.emulatorUrl() || undefined, { describe: () => demo.t.stderr() });
    const listenUrl = String(demo.lines()[0]!.url);
    const ai = new GoogleGenAI({ apiKey: 'any', httpOptions: { baseUrl: emulatorUrl } });

    const toStatic = await ai.interactions.create({ model: 'gemini-3-flash-preview', input: 'hi', background: true });
    const toDynamic = await ai.interactions.create({
      model: 'gemini-3-flash-preview',
      input: 'hi',
      background: true,
      webhook_config: { uris: [listenUrl], user_metadata: { from: 'test' } },
    });
    const verified = await demo.waitVerified(2);
    expect(verified.map((line) => [line.eventType, line.scheme]).sort()).toEqual([
      ['interaction.completed', 'dynamic'],
      ['interaction.completed', 'static'],
    ]);
    expect((await ai.interactions.get(toStatic.id)).status).toBe('completed');
    expect((await ai.interactions.get(toDynamic.id)).status).toBe('completed');
    // The listener knows the audience its emulator signs with: checked, so no warning about it.
    const dynamic = verified.find((line) => line.scheme === 'dynamic')!;
    expect(String(dynamic.explanation ?? '')).not.toMatch(/audience was not checked/);
    expect(demo.lines().filter((line) => line.type === 'warning')).toEqual([]);
    expect(await demo.stop()).toBe(0);
  });

  it('--secret-env: the demo webhook signs with the user\'s secret, so the app behind --forward verifies every delivery itself', async () => {
    // The app knows only its own secret, as a real app would, and refuses anything it cannot verify.
    const appSecret = `whsec_${Buffer.alloc(32, 11).toString('base64')}`;
    const app = await servers.sink((request) => {
      const verdict = verifyStatic({ rawBody: request.body, headers: request.headers, secrets: [{ secret: appSecret, label: 'app' }], now: Date.now() });
      return verdict.ok ? { status: 200, body: 'verified by the app' } : { status: 401, body: verdict.reason };
    });
    const demo = await startListenCli(['--emulator', '--json', '--demo', '--secret-env', 'APP_SECRET', '--forward', app.url], {
      defer,
      signal: 'SIGINT',
      env: { APP_SECRET: appSecret },
    });
    await until(
      '9 forwards',
      () => demo.lines().filter((line) => line.type === 'forwarded' || line.type === 'forward_failed').length >= API_EVENT_TYPES.length,
      { describe: () => demo.t.stderr() + demo.t.stdout() },
    );
    expect(app.requests).toHaveLength(API_EVENT_TYPES.length);
    expect(demo.lines().filter((line) => line.type === 'forwarded').map((line) => line.status)).toEqual(API_EVENT_TYPES.map(() => 200));
    expect(demo.lines().filter((line) => line.type === 'forward_failed')).toEqual([]);
    // The listener verified them with the same secret, under the webhook's name.
    const webhookId = (demo.lines()[0]!.verifying as { webhookIds: string[] }).webhookIds[0];
    for (const line of demo.lines().filter((l) => l.type === 'verified')) expect(line.matched).toEqual({ label: webhookId, inGrace: false });
    expect(demo.t.stderr()).toContain(`the webhook signs with $APP_SECRET (${redactSecret(appSecret)})`);
    expect(demo.t.stderr()).not.toContain(appSecret);
    expect(await demo.stop()).toBe(0);
  });

  it('with two secrets, signs with both: an app that knows either one verifies', async () => {
    const first = `whsec_${Buffer.alloc(32, 12).toString('base64')}`;
    const second = `whsec_${Buffer.alloc(32, 13).toString('base64')}`;
    const app = await servers.sink((request) => {
      const verdict = verifyStatic({ rawBody: request.body, headers: request.headers, secrets: [{ secret: second, label: 'app' }], now: Date.now() });
      return { status: verdict.ok ? 200 : 401 };
    });
    const demo = await startListenCli(['--emulator', '--json', '--secret', first, '--secret-env', 'SECOND', '--forward', app.url], {
      defer,
      signal: 'SIGINT',
      env: { SECOND: second },
    });
    await until('the emulator URL', () => /emulator running at (\S+);/.exec(demo.t.stderr())?.[1], { describe: () => demo.t.stderr() });
    const emulatorUrl = /emulator running at (\S+);/.exec(demo.t.stderr())![1]!;
    expect((await runGemwh(['trigger', 'batch.failed', '--api-root', emulatorUrl], { env: { GEMINI_API_KEY: 'any' } })).code).toBe(0);
    await until('a forward', () => demo.lines().find((line) => line.type === 'forwarded' || line.type === 'forward_failed'), { describe: () => demo.t.stdout() });
    expect(demo.lines().find((line) => line.type === 'forwarded')).toMatchObject({ status: 200 });
    expect(header(app.requests[0]!, 'webhook-signature').split(' ')).toHaveLength(2);
    expect(await demo.stop()).toBe(0);
  });

  it('without a terminal UI, says how to send an event with gemwh trigger (not the t key), and that command works', async () => {
    const demo = await startDemo([]);
    const emulatorUrl = await until('the emulator URL', () => demo.emulatorUrl() || undefined, { describe: () => demo.t.stderr() });
    await until('the banner', () => demo.t.stderr().includes('GEMWH_API_ROOT='), { describe: () => demo.t.stderr() });
    const stderr = demo.t.stderr();
    expect(stderr).not.toMatch(/press t/);
    expect(stderr).toContain(`gemwh trigger TYPE --api-root ${emulatorUrl}`);
    expect(stderr).not.toContain('GEMINI_API_KEY=any');

    // No API key: against a local root gemwh sends one by itself.
    const sent = await runGemwh(['trigger', 'video.generated', '--api-root', emulatorUrl]);
    expect(sent.code, sent.stderr).toBe(0);
    const [verified] = await demo.waitVerified(1);
    expect(verified).toMatchObject({ eventType: 'video.generated', scheme: 'static' });
    expect(await demo.stop()).toBe(0);
  });

  it('signs with the machine\'s development secret, printed on start and kept 0600 in the config folder, so an app configured once verifies', async () => {
    const serversBefore = listeningServers();
    const t = makeTestDeps();
    defer(() => t.cleanup());
    // A previous run made it: this one must sign with the same secret.
    const { secret, file } = await loadOrCreateDevSecret(t.deps.paths, t.deps.random.bytes);
    const app = await servers.sink((request) => {
      const verdict = verifyStatic({ rawBody: request.body, headers: request.headers, secrets: [{ secret, label: 'app' }], now: Date.now() });
      return verdict.ok ? { status: 200 } : { status: 401, body: verdict.reason };
    });
    const demo = await startListenCli(['--emulator', '--json', '--demo', '--forward', app.url], {
      defer,
      signal: 'SIGINT',
      env: { npm_command: 'exec' },
      setup: async (d) => {
        d.deps.paths.config = t.deps.paths.config;
      },
    });
    await until(
      '9 forwards',
      () => demo.lines().filter((line) => line.type === 'forwarded' || line.type === 'forward_failed').length >= API_EVENT_TYPES.length,
      { describe: () => demo.t.stderr() + demo.t.stdout(), timeoutMs: 10_000 },
    );
    expect(demo.lines().filter((line) => line.type === 'forward_failed')).toEqual([]);
    expect(demo.t.stderr()).toContain(`your webhook signing secret is ${secret} (kept in ${file}, the same on every run)`);
    // Started by npx: the hints say `npx gemwh`, since gemwh is not on PATH.
    expect(demo.t.stderr()).toMatch(/send more with: npx gemwh trigger TYPE/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await demo.stop()).toBe(0);
    // Closed here, not after the test: the next test counts listening servers when it starts.
    await app.close();
    await until('every server to be closed', () => listeningServers() <= serversBefore, { describe: () => process.getActiveResourcesInfo().join(', '), timeoutMs: 1000 });
  });

  it('refuses a malformed --secret before starting anything', async () => {
    const serversBefore = listeningServers();
    const t = makeTestDeps();
    defer(() => t.cleanup());
    const code = await runMain(['listen', '--port', '0', '--no-journal', '--emulator', '--secret', 'whsec_...abcd'], t.deps);
    expect(code, t.stderr()).toBe(2);
    expect(t.stderr()).toMatch(/--secret #1/);
    await serversBackTo(serversBefore);
  });

  it('refuses --demo without --emulator, and --emulator with --public-url', async () => {
    for (const args of [['--demo'], ['--emulator', '--public-url', 'https://abc.example.com']]) {
      const t = makeTestDeps();
      defer(() => t.cleanup());
      const code = await runMain(['listen', '--port', '0', '--no-journal', ...args], t.deps);
      expect(code, t.stderr()).toBe(2);
      expect(t.stderr()).toMatch(/--emulator/);
    }
  });
});

describe('runListenWithEmulator', () => {
  it('hands the UI a trigger whose events arrive verified, and stops everything when the UI quits', async () => {
    const t = makeTestDeps({ stdoutIsTTY: true });
    defer(() => t.cleanup());
    const serversBefore = listeningServers();
    let info: ListenEmulatorInfo | undefined;
    let offered: ListenTrigger | undefined;
    const seen: ListenEvent[] = [];

    await runListenWithEmulator(
      listenOptions({ journal: false }),
      { demo: false },
      commandContext(t.deps),
      {
        // Stands in for the Ink UI: presses `t` twice, then quits.
        renderUi: async (session, extras) => {
          offered = extras?.trigger;
          session.on((event) => seen.push(event));
          await offered!.trigger('batch.expired');
          await offered!.trigger('interaction.requires_action');
          await until('2 verified', () => seen.filter((e) => e.type === 'verified').length >= 2, { describe: () => JSON.stringify(seen) });
        },
      },
      (ready) => (info = ready),
    );

    expect(offered?.eventTypes).toEqual(API_EVENT_TYPES);
    expect(seen.filter((e) => e.type === 'verified').map((e) => (e as { eventType?: string }).eventType)).toEqual(['batch.expired', 'interaction.requires_action']);
    expect(info).toMatchObject({ webhookId: expect.stringMatching(/^[a-z0-9]{36}$/), listenUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/$/) });
    await serversBackTo(serversBefore);
    // A TTY with the UI: nothing but the UI writes to stdout.
    expect(t.stdout()).toBe('');
  });
});

function listenOptions(overrides: Partial<ListenOptions>): ListenOptions {
  return {
    host: '127.0.0.1',
    port: 0,
    webhookIds: [],
    secrets: [],
    secretEnv: [],
    audience: [],
    toleranceSec: 300,
    forward: [],
    routes: [],
    events: [],
    extraHeaders: [],
    forwardTimeoutMs: 5000,
    retry: { initialMs: 50, maxMs: 200 },
    maxBodyBytes: 1024 * 1024,
    journal: false,
    json: false,
    quiet: false,
    owner: { host: 'test', pid: process.pid },
    isProcessAlive: () => true,
    ...overrides,
  };
}

describe('gemwh listen --emulator keeps its own journal', () => {
  it('journals demo deliveries apart from the default journal, so a later listen or replay delivery --last never sees them', async () => {
    const { startGemwh } = await import('../helpers/start-gemwh.js');
    const { existsSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { closedPort } = await import('../helpers/loopback.js');
    // The app is down: every demo delivery stays pending in the journal.
    const app = `http://127.0.0.1:${await closedPort()}`;
    const demo = await startGemwh(['listen', '--emulator', '--demo', '--json', '--port', '0', '--forward', app], { defer, signal: 'SIGINT' });
    const stdoutLines = () => demo.t.stdout().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line);
    await demo.until('9 verified', () => (stdoutLines().filter((l) => l.type === 'verified').length >= API_EVENT_TYPES.length ? true : undefined), 15_000);
    const state = join(demo.t.home, 'state');
    expect(stdoutLines()[0]).toMatchObject({ type: 'ready', journal: join(state, 'emulator-journal.ndjson') });
    const records = readFileSync(join(state, 'emulator-journal.ndjson'), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as JournalDeliveryRecord);
    expect(records.filter((r) => r.kind === 'delivery' && r.outcome === 'verified')).toHaveLength(API_EVENT_TYPES.length);
    expect(existsSync(join(state, 'journal.ndjson'))).toBe(false);
    // The user's default journal has nothing for replay delivery --last to pick.
    const replay = await runMain(['replay', 'delivery', '--last', '--to', app], demo.t.deps);
    expect(replay).not.toBe(0);
    expect(demo.t.stderr()).toMatch(/journal\.ndjson/);
    expect(await demo.stop()).toBe(0);
  });
});
