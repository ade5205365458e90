import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sign } from '../../src/core/standard-webhooks.js';
import { parseTarget } from '../../src/flags/target.js';
import type { JournalRecord } from '../../src/listen/journal-records.js';
import { parseRoute } from '../../src/flags/route.js';
import { closedPort, startRecordingServer, type RecordingServer } from '../helpers/recording-server.js';
import { manualTime } from '../helpers/manual-time.js';
import { until } from '../helpers/until.js';
import { OLD_SECRET, SECRET, body, newId, post, signedHeaders, startTestSession, type TestSession } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function session(options: Parameters<typeof startTestSession>[0] = {}): Promise<TestSession> {
  const s = await startTestSession(options);
  cleanups.push(() => s.stop());
  return s;
}

async function sink(answer?: Parameters<typeof startRecordingServer>[0], port?: number): Promise<RecordingServer> {
  const server = await startRecordingServer(answer, port);
  cleanups.push(() => server.close());
  return server;
}

function journal(file: string): JournalRecord[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as JournalRecord);
}

/** Sends raw bytes on a TCP connection and resolves with everything the server sent back. */
function rawExchange(url: string, payload: string | Buffer, options: { endAfterWrite?: boolean } = {}): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(payload);
      if (options.endAfterWrite) socket.end();
    });
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('close', () => resolve(received));
    socket.on('error', (error) => (received ? resolve(received) : reject(error)));
  });
}

describe('verification over real HTTP', () => {
  it('accepts a correctly signed delivery, journals it before answering, and reports verified', async () => {
    const s = await session();
    const raw = body();
    const headers = signedHeaders(raw, { id: 'msg_valid_1' });
    const answer = await post(s.session.url, raw, headers);
    expect(answer.status).toBe(200);
    // Written before the answer: readable as soon as the 2xx arrived.
    const records = journal(s.journalFile);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ kind: 'delivery', outcome: 'verified', status: 200, webhookId: 'msg_valid_1', encoding: 'utf8', body: raw });
    const verified = await s.waitFor('verified');
    expect(verified).toMatchObject({ webhookId: 'msg_valid_1', eventType: 'batch.succeeded', scheme: 'static', matched: { label: 'wh_test', inGrace: false } });
    expect(s.events.map((e) => e.type)).toEqual(['ready', 'received', 'verified']);
  });

  const nowSec = () => Math.floor(Date.now() / 1000);
  const cases: Array<{ name: string; status: number; reason: string; headers: (raw: string) => Record<string, string> }> = [
    { name: 'missing headers', status: 400, reason: 'missing_header', headers: () => ({ 'content-type': 'application/json' }) },
    {
      name: 'a timestamp that is not a number',
      status: 400,
      reason: 'bad_timestamp',
      headers: (raw) => ({ ...signedHeaders(raw), 'webhook-timestamp': 'yesterday' }),
    },
    { name: 'a timestamp too old', status: 401, reason: 'too_old', headers: (raw) => signedHeaders(raw, { timestamp: nowSec() - 3600 }) },
    { name: 'a timestamp too new', status: 401, reason: 'too_new', headers: (raw) => signedHeaders(raw, { timestamp: nowSec() + 3600 }) },
    {
      name: 'a signature by another secret',
      status: 401,
      reason: 'no_matching_signature',
      headers: (raw) => signedHeaders(raw, { secret: 'whsec_' + Buffer.alloc(24, 1).toString('base64') }),
    },
    {
      name: 'a body changed after signing',
      status: 401,
      reason: 'no_matching_signature',
      headers: (raw) => signedHeaders(raw.replace('batch_1', 'batch_2')),
    },
  ];
  for (const c of cases) {
    it(`rejects ${c.name} with ${c.status} ${c.reason} and the reason in the body`, async () => {
      const s = await session();
      const raw = body();
      const answer = await post(s.session.url, raw, c.headers(raw));
      expect(answer.status).toBe(c.status);
      expect(answer.json.error).toBe(c.reason);
      expect(typeof answer.json.explanation).toBe('string');
      expect(Array.isArray(answer.json.diagnosis)).toBe(true);
      const rejected = await s.waitFor('rejected');
      expect(rejected).toMatchObject({ status: c.status, reason: c.reason });
      expect(journal(s.journalFile)[0]).toMatchObject({ outcome: 'rejected', status: c.status, reason: c.reason, body: raw });
    });
  }

  it('accepts a delivery signed with a secret in its rotation grace period and says so', async () => {
    const s = await session({
      secrets: [
        { secret: SECRET, label: 'wh_test' },
        { secret: OLD_SECRET, label: 'wh_test (previous)', expiresAt: Date.now() + 3600_000 },
      ],
    });
    const raw = body();
    const answer = await post(s.session.url, raw, signedHeaders(raw, { secret: OLD_SECRET }));
    expect(answer.status).toBe(200);
    const verified = await s.waitFor('verified');
    expect(verified.matched).toEqual({ label: 'wh_test (previous)', inGrace: true });
  });

  it('rejects a secret whose grace period is over', async () => {
    const s = await session({
      secrets: [
        { secret: SECRET, label: 'wh_test' },
        { secret: OLD_SECRET, label: 'wh_test (previous)', expiresAt: Date.now() - 1000 },
      ],
    });
    const raw = body();
    const answer = await post(s.session.url, raw, signedHeaders(raw, { secret: OLD_SECRET }));
    expect(answer.status).toBe(401);
  });
});

describe('warnings from the caller', () => {
  it('puts warn() messages into the stream, after what the session emitted so far', async () => {
    const s = await session();
    s.session.warn('mine');
    const seen: string[] = [];
    s.session.on((event) => seen.push(event.type));
    await s.session.stop('test');
    expect(s.session.history().map((e) => e.type)).toEqual(['ready', 'warning', 'stopped']);
    expect(seen).toEqual(['stopped']);
  });
});

describe('requests that are not deliveries', () => {
  it('answers 405 to a GET with Allow: POST', async () => {
    const s = await session();
    const raw = await rawExchange(s.session.url, `GET / HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(raw).toMatch(/^HTTP\/1\.1 405/);
    expect(raw.toLowerCase()).toContain('allow: post');
    expect((await s.waitFor('rejected')).reason).toBe('method_not_allowed');
  });

  it('answers 404 on another path when --path is set', async () => {
    const s = await session({ path: '/hook' });
    expect(s.session.url.endsWith('/hook')).toBe(true);
    const raw = body();
    expect((await post(s.session.url.replace('/hook', '/other'), raw, signedHeaders(raw))).status).toBe(404);
    expect((await post(s.session.url + '?x=1', raw, signedHeaders(raw))).status).toBe(200);
  });

  it('answers 413 from Content-Length alone, before reading the body', async () => {
    const s = await session({ maxBodyBytes: 1000 });
    // Announces 10 MB but sends none of it: the answer must not wait for the body.
    const raw = await rawExchange(s.session.url, `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n`);
    expect(raw).toMatch(/^HTTP\/1\.1 413/);
    expect(raw).toContain('body_too_large');
  });

  it('shows the first 256 KiB of a body, and all of it when the whole body is asked for (an export)', async () => {
    const s = await session();
    const raw = JSON.stringify({ type: 'batch.succeeded', data: { id: 'batch_1', pad: 'x'.repeat(300 * 1024) } });
    await post(s.session.url, raw, signedHeaders(raw));
    const { seq } = await s.waitFor('verified');
    expect(s.session.getDelivery(seq)!.body).toMatchObject({ bytes: raw.length, truncated: true });
    expect(s.session.getDelivery(seq)!.body.data).toHaveLength(256 * 1024);
    const whole = s.session.getDelivery(seq, { wholeBody: true })!.body;
    expect(whole).toMatchObject({ bytes: raw.length, truncated: false });
    expect(whole.data).toBe(raw);
  });

  it('says a body cut at the size limit is cut, even when the whole body is asked for', async () => {
    const s = await session({ maxBodyBytes: 1000 });
    const raw = 'y'.repeat(5000);
    expect((await post(s.session.url, raw, signedHeaders(raw))).status).toBe(413);
    const { seq } = await s.waitFor('rejected');
    expect(s.session.getDelivery(seq, { wholeBody: true })!.body).toMatchObject({ truncated: true });
  });

  it('answers 413 to a chunked body once it passes the limit, and stops reading', async () => {
    const s = await session({ maxBodyBytes: 1000 });
    const chunk = 'x'.repeat(600);
    const size = chunk.length.toString(16);
    // Two chunks cross the limit; the terminating chunk never comes, so only stopping early answers.
    const raw = await rawExchange(
      s.session.url,
      `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${size}\r\n${chunk}\r\n${size}\r\n${chunk}\r\n`,
    );
    expect(raw).toMatch(/^HTTP\/1\.1 413/);
    const record = journal(s.journalFile)[0];
    expect(record).toMatchObject({ outcome: 'rejected', status: 413, truncated: true });
  });

  it('answers 400 to something that is not HTTP', async () => {
    const s = await session();
    const raw = await rawExchange(s.session.url, 'HELLO THERE\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    expect((await s.waitFor('rejected')).reason).toBe('malformed_request');
  });

  it('drops a slowloris client after the header timeout and keeps serving others', async () => {
    const s = await session({ headersTimeoutMs: 300, requestTimeoutMs: 300 });
    const started = Date.now();
    const slow = rawExchange(s.session.url, 'POST / HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    // Meanwhile a real delivery is served at once.
    const raw = body();
    expect((await post(s.session.url, raw, signedHeaders(raw))).status).toBe(200);
    const answer = await slow;
    expect(Date.now() - started).toBeLessThan(3000);
    expect(answer === '' || /^HTTP\/1\.1 408/.test(answer)).toBe(true);
  });

  it('does not crash on a client that disconnects mid-body', async () => {
    const s = await session();
    await rawExchange(s.session.url, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc', { endAfterWrite: true });
    const raw = body();
    expect((await post(s.session.url, raw, signedHeaders(raw))).status).toBe(200);
  });
});

describe('journal failures', () => {
  // /dev/full accepts open() and fails every write with ENOSPC: a full disk, for real.
  it.runIf(existsSync('/dev/full'))('does not acknowledge a delivery it could not journal, and accepts its retry later', async () => {
    const s = await session({ journal: { file: '/dev/full', maxBytes: 1 << 30, keep: 0, fsync: false } });
    const raw = body();
    const headers = signedHeaders(raw, { id: 'msg_disk_full' });
    const answer = await post(s.session.url, raw, headers);
    expect(answer.status).toBe(503);
    expect(answer.json.error).toBe('journal_unavailable');
    expect((await s.waitFor('warning')).message).toMatch(/cannot write the journal/);
    // Not remembered as seen: the sender's retry is verified again, not waved through as a duplicate.
    const retry = await post(s.session.url, raw, headers);
    expect(retry.status).toBe(503);
    expect(s.events.some((e) => e.type === 'duplicate')).toBe(false);
  });
});

describe('duplicates', () => {
  it('acknowledges a repeated webhook-id, marks it duplicate and forwards it once', async () => {
    const app = await sink();
    const s = await session({ forward: [parseTarget(app.url)] });
    const raw = body();
    const headers = signedHeaders(raw, { id: 'msg_dup' });
    expect((await post(s.session.url, raw, headers)).status).toBe(200);
    const second = await post(s.session.url, raw, headers);
    expect(second.status).toBe(200);
    expect(second.json.duplicate).toBe(true);
    const dup = await s.waitFor('duplicate');
    expect(dup).toMatchObject({ webhookId: 'msg_dup', firstSeq: 1 });
    await s.waitFor('forwarded');
    await new Promise((r) => setTimeout(r, 100));
    expect(app.requests).toHaveLength(1);
  });

  it('answers concurrent copies of one delivery with one verified and the rest duplicate', async () => {
    const s = await session();
    const raw = body();
    const headers = signedHeaders(raw, { id: 'msg_race' });
    const answers = await Promise.all(Array.from({ length: 5 }, () => post(s.session.url, raw, headers)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(s.events.filter((e) => e.type === 'verified')).toHaveLength(1);
    expect(s.events.filter((e) => e.type === 'duplicate')).toHaveLength(4);
  });
});

describe('forwarding', () => {
  it('forwards the body byte for byte with the original headers, minus hop-by-hop, plus --header', async () => {
    const app = await sink(() => ({ status: 202, body: 'accepted by the app' }));
    const s = await session({ forward: [parseTarget(String(app.port))], extraHeaders: [['X-Added', 'yes']] });
    // Not UTF-8 and with odd spacing: a re-encoding forwarder would change it.
    const raw = Buffer.concat([Buffer.from('{"type":"batch.succeeded" ,\n "data":{}}'), Buffer.from([0xff, 0xfe, 0x00])]);
    const headers = { ...signedHeaders(raw), 'x-custom': 'Kept As Is' };
    // Raw bytes on the wire: HTTP clients refuse to send some of these hop-by-hop headers.
    const request = Buffer.concat([
      Buffer.from(
        `POST /hooks/gemini?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
          Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') +
          `Connection: close, X-Hop\r\nX-Hop: per-connection\r\nKeep-Alive: timeout=5\r\nProxy-Authorization: secret\r\nTE: trailers\r\n` +
          `Content-Length: ${raw.length}\r\n\r\n`,
      ),
      raw,
    ]);
    expect(await rawExchange(s.session.url, request)).toMatch(/^HTTP\/1\.1 200/);
    const forwarded = await s.waitFor('forwarded');
    expect(forwarded).toMatchObject({ status: 202, responseStart: 'accepted by the app', attempt: 1 });
    const got = app.requests[0]!;
    expect(got.url).toBe('/hooks/gemini?x=1');
    expect(got.body.equals(raw)).toBe(true);
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'content-type', 'x-custom']) {
      expect(got.headers[name]).toBe(headers[name as keyof typeof headers]);
    }
    expect(got.headers['x-added']).toBe('yes');
    expect(got.headers['keep-alive']).toBeUndefined();
    expect(got.headers['x-hop']).toBeUndefined();
    expect(got.headers.te).toBeUndefined();
    expect(got.headers['proxy-authorization']).toBeUndefined();
    expect(got.headers.host).toBe(`localhost:${app.port}`);
    expect(journal(s.journalFile)[0]).toMatchObject({ encoding: 'base64', body: raw.toString('base64') });
    const details = s.session.getDelivery(forwarded.seq)!;
    expect(details.forwards[0]).toMatchObject({ ok: true, status: 202 });
    expect(Buffer.from(details.body.data, 'base64').equals(raw)).toBe(true);
  });

  it('forwards to an https app with a self-signed certificate only when told to accept it', async () => {
    const app = await startRecordingServer(() => ({ status: 200 }), 0, { tls: true });
    cleanups.push(() => app.close());
    const strict = await session({ forward: [parseTarget(app.url)], retry: { initialMs: 5_000, maxMs: 5_000 } });
    const raw = body();
    await post(strict.session.url, raw, signedHeaders(raw));
    const failed = await strict.waitFor('forward_failed');
    expect(failed.error).toMatch(/^untrusted TLS certificate \(.*\): for a local app, listen --insecure accepts it$/);
    expect(app.requests).toHaveLength(0);

    const lenient = await session({ forward: [parseTarget(app.url)], forwardInsecure: true });
    await post(lenient.session.url, raw, signedHeaders(raw));
    expect(await lenient.waitFor('forwarded')).toMatchObject({ status: 200 });
    expect(app.requests.map((r) => r.body.toString())).toEqual([raw]);
  });

  it('does not follow redirects', async () => {
    const app = await sink(() => ({ status: 302, headers: { location: '/elsewhere' } }));
    const s = await session({ forward: [parseTarget(app.url + '/hook')] });
    const raw = body();
    await post(s.session.url, raw, signedHeaders(raw));
    const failed = await s.waitFor('forward_failed');
    expect(failed).toMatchObject({ status: 302 });
    expect(failed.nextAttemptAt).toBeUndefined();
    expect(app.requests.map((r) => r.url)).toEqual(['/hook']);
  });

  it('retries while the app is down and delivers once it is up, never holding the 2xx back', async () => {
    const port = await closedPort();
    const s = await session({ forward: [parseTarget(String(port))] });
    const raw = body();
    const started = Date.now();
    expect((await post(s.session.url, raw, signedHeaders(raw))).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
    const failed = await s.waitFor('forward_failed');
    expect(failed.nextAttemptAt).toBeGreaterThan(0);
    expect(failed.error).toMatch(/refused/);
    const app = await sink(undefined, port);
    const forwarded = await s.waitFor('forwarded', undefined, 5000);
    expect(forwarded.attempt).toBeGreaterThan(1);
    expect(app.requests).toHaveLength(1);
    // Forward records are appended after the event; give the write a moment.
    await until('a forward in the journal', () => journal(s.journalFile).some((r) => r.kind === 'forward' && r.ok));
    const forwards = journal(s.journalFile).filter((r) => r.kind === 'forward');
    expect(forwards.at(-1)).toMatchObject({ ok: true, final: true });
    expect(forwards.slice(0, -1).every((r) => r.kind === 'forward' && !r.ok && !r.final)).toBe(true);
  });

  it('retries a 5xx, but not a 4xx', async () => {
    let calls = 0;
    const app = await sink((req) => {
      if (req.url === '/bad') return { status: 400, body: 'nope' };
      calls += 1;
      return { status: calls < 3 ? 503 : 200 };
    });
    const s = await session({ routes: [parseRoute(`batch.failed=${app.url}/bad`)], forward: [parseTarget(app.url + '/ok')] });
    const good = body('batch.succeeded');
    const bad = body('batch.failed');
    await post(s.session.url, good, signedHeaders(good));
    await post(s.session.url, bad, signedHeaders(bad));
    await s.waitFor('forwarded', (e) => e.target.endsWith('/ok'));
    const failedBad = await s.waitFor('forward_failed', (e) => e.target.endsWith('/bad'));
    expect(failedBad.nextAttemptAt).toBeUndefined();
    expect(failedBad.responseStart).toBe('nope');
    expect(calls).toBe(3);
  });

  it('routes by event type and forwards only --events types (the rest still verified and journaled)', async () => {
    const app = await sink();
    const s = await session({
      forward: [parseTarget(app.url + '/default')],
      routes: [parseRoute(`batch.*=${app.url}/batch`)],
      events: ['batch.*', 'interaction.completed'],
    });
    for (const type of ['batch.failed', 'interaction.completed', 'video.generated']) {
      const raw = body(type);
      expect((await post(s.session.url, raw, signedHeaders(raw))).status).toBe(200);
    }
    await s.waitFor('forwarded', (e) => e.target.endsWith('/batch'));
    await s.waitFor('forwarded', (e) => e.target.endsWith('/default'));
    const video = await s.waitFor('verified', (e) => e.eventType === 'video.generated');
    expect(video.willForward).toBe(false);
    await new Promise((r) => setTimeout(r, 100));
    expect(app.requests.map((r) => r.url).sort()).toEqual(['/batch', '/default']);
    expect(journal(s.journalFile).filter((r) => r.kind === 'delivery')).toHaveLength(3);
  });

  it('resend() forwards a delivery again', async () => {
    const app = await sink();
    const s = await session({ forward: [parseTarget(app.url)] });
    const raw = body();
    await post(s.session.url, raw, signedHeaders(raw));
    const first = await s.waitFor('forwarded');
    await s.session.resend(first.seq);
    const second = await s.waitFor('forwarded', (e) => e.attempt === 2);
    expect(second.seq).toBe(first.seq);
    expect(app.requests).toHaveLength(2);
    expect(app.requests[1]!.body.equals(app.requests[0]!.body)).toBe(true);
  });
});

describe('resend while a retry waits', () => {
  /** A session whose retries wait a minute on a manual clock, and a delivery whose first forward the app answers 503. */
  async function firstForwardFails() {
    let answered = 0;
    const app = await sink(() => (answered++ === 0 ? { status: 503 } : { status: 204 }));
    const time = manualTime();
    const s = await session({ forward: [parseTarget(app.url)], retry: { initialMs: 60_000, maxMs: 60_000 }, scheduler: time.scheduler });
    const raw = body();
    await post(s.session.url, raw, signedHeaders(raw));
    return { app, time, s };
  }

  it('replaces the scheduled retry: the app gets the delivery once more, not twice', async () => {
    const { app, time, s } = await firstForwardFails();
    const failed = await s.waitFor('forward_failed', (e) => e.nextAttemptAt !== undefined);
    expect(time.waiting).toBe(1);
    await s.session.resend(failed.seq);
    // The resend took the retry's place: nothing waits any more.
    expect(time.waiting).toBe(0);
    const forwarded = await s.waitFor('forwarded', (e) => e.seq === failed.seq);
    expect(forwarded.attempt).toBe(2);
    time.advance(120_000);
    await s.stop();
    expect(app.requests).toHaveLength(2);
    expect(s.events.filter((e) => e.type === 'forwarded')).toHaveLength(1);
  });

  it('retries a failed forward when its backoff is over, not before', async () => {
    const { app, time, s } = await firstForwardFails();
    await s.waitFor('forward_failed');
    time.advance(59_999);
    expect(app.requests).toHaveLength(1);
    time.advance(1);
    const forwarded = await s.waitFor('forwarded');
    expect(forwarded.attempt).toBe(2);
    expect(app.requests).toHaveLength(2);
  });

  it('does not send again a forward that is already on its way', async () => {
    const app = await sink(() => ({ status: 204, delayMs: 200 }));
    const s = await session({ forward: [parseTarget(app.url)] });
    const raw = body();
    await post(s.session.url, raw, signedHeaders(raw));
    const verified = await s.waitFor('verified');
    await s.session.resend(verified.seq);
    await s.waitFor('forwarded');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(app.requests).toHaveLength(1);
  });
});

describe('forward backlog', () => {
  // Each test body is ~100 bytes: a 300-byte budget holds three deliveries in memory.
  const budget = 300;

  it('parks deliveries past the budget in the journal and forwards every one, once, in order, when the app comes up', async () => {
    const port = await closedPort();
    const s = await session({ forward: [parseTarget(String(port))], forwardBacklogBytes: budget, retry: { initialMs: 50, maxMs: 100 } });
    const ids = Array.from({ length: 12 }, (_, i) => `msg_backlog_${i}`);
    for (const id of ids) {
      const raw = body('batch.succeeded', id);
      // Parked or not, every delivery is acknowledged at once.
      expect((await post(s.session.url, raw, signedHeaders(raw, { id }))).status).toBe(200);
    }
    const warning = await s.waitFor('warning', (e) => /not keeping up/.test(e.message));
    expect(warning.message).toMatch(/journaled/);
    // While the app is down only the first few are attempted; the parked ones wait in the journal.
    await s.waitFor('forward_failed');
    const attempted = new Set(s.events.flatMap((e) => (e.type === 'forward_failed' ? [e.seq] : [])));
    expect(attempted.size).toBeLessThanOrEqual(3);

    const app = await sink(undefined, port);
    await until('every delivery at the app', () => app.requests.length >= ids.length, { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 150));
    const received = app.requests.map((r) => r.headers['webhook-id']);
    expect([...received].sort()).toEqual([...ids].sort());
    // The parked ones come after the ones that were queued, in the order they arrived.
    const parkedOrder = received.filter((id) => !ids.slice(0, attempted.size).includes(id as string));
    expect(parkedOrder).toEqual(ids.slice(attempted.size));
    // Each forwarded event names the seq the delivery was verified with.
    const verified = new Map(s.events.flatMap((e) => (e.type === 'verified' ? [[e.seq, e.webhookId]] : [])));
    const forwardedSeqs = s.events.flatMap((e) => (e.type === 'forwarded' ? [e.seq] : []));
    expect(forwardedSeqs.map((seq) => verified.get(seq)).sort()).toEqual([...ids].sort());
    // A parked delivery waited: even its first attempt is signed afresh.
    const parkedFirst = s.events.filter((e) => e.type === 'forwarded' && e.attempt === 1 && !attempted.has(e.seq));
    expect(parkedFirst.length).toBeGreaterThan(0);
    expect(parkedFirst.every((e) => e.type === 'forwarded' && e.signature === 'resigned')).toBe(true);
  });

  it('leaves parked deliveries pending in the journal at stop, and the next start forwards them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gemwh-listen-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = await closedPort();
    const first = await startTestSession({ dir, forward: [parseTarget(String(port))], forwardBacklogBytes: budget });
    const ids = Array.from({ length: 8 }, (_, i) => `msg_parked_${i}`);
    for (const id of ids) {
      const raw = body('batch.succeeded', id);
      expect((await post(first.session.url, raw, signedHeaders(raw, { id }))).status).toBe(200);
    }
    await first.waitFor('forward_failed');
    await first.stop();
    expect(first.events.some((e) => e.type === 'warning' && /parked deliver.* not forwarded yet/.test(e.message))).toBe(true);

    const app = await sink(undefined, port);
    await session({ dir, forward: [parseTarget(String(port))], forwardBacklogBytes: budget });
    await until('every delivery at the app', () => app.requests.length >= ids.length, { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 150));
    expect(app.requests.map((r) => r.headers['webhook-id']).sort()).toEqual([...ids].sort());
  });

  it('says which parked deliveries the journal no longer has when it rotated them away', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gemwh-listen-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = await closedPort();
    // A journal of ~3 lines with no rotated copies kept: parked deliveries fall out of it.
    const file = join(dir, 'small.ndjson');
    const s = await session({ forward: [parseTarget(String(port))], forwardBacklogBytes: budget, journal: { file, maxBytes: 2000, keep: 0, fsync: false } });
    for (let i = 0; i < 10; i++) {
      const raw = body('batch.succeeded', `msg_rotated_${i}`);
      await post(s.session.url, raw, signedHeaders(raw, { id: `msg_rotated_${i}` }));
    }
    const app = await sink(undefined, port);
    const warning = await s.waitFor('warning', (e) => /no longer in the journal/.test(e.message), 5000);
    expect(warning.message).toMatch(/^\d+ parked deliver/);
    await new Promise((r) => setTimeout(r, 200));
    // What the journal still had did arrive.
    expect(app.requests.length).toBeGreaterThan(0);
    expect(app.requests.length).toBeLessThan(10);
  });

  it('forwards a delivery larger than the whole budget, with nothing else queued', async () => {
    const app = await sink();
    const s = await session({ forward: [parseTarget(app.url)], forwardBacklogBytes: 50 });
    const raw = body('batch.succeeded', 'a-body-larger-than-the-budget');
    await post(s.session.url, raw, signedHeaders(raw, { id: 'msg_huge' }));
    await until('one delivery at the app', () => app.requests.length === 1, { timeoutMs: 3000 });
    expect(app.requests[0]!.body.toString()).toBe(raw);
  });

  it('keeps everything in memory without a journal, and says so', async () => {
    const port = await closedPort();
    const s = await session({ forward: [parseTarget(String(port))], forwardBacklogBytes: budget, noJournal: true });
    const ids = Array.from({ length: 6 }, (_, i) => `msg_memory_${i}`);
    for (const id of ids) {
      const raw = body('batch.succeeded', id);
      await post(s.session.url, raw, signedHeaders(raw, { id }));
    }
    expect((await s.waitFor('warning', (e) => /not keeping up/.test(e.message))).message).toMatch(/no journal/);
    const app = await sink(undefined, port);
    await until('every delivery at the app', () => app.requests.length >= ids.length, { timeoutMs: 5000 });
    expect(app.requests.map((r) => r.headers['webhook-id']).sort()).toEqual([...ids].sort());
  });
});

describe('restart', () => {
  it('resumes forwards pending in the journal and keeps deduplicating', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gemwh-listen-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = await closedPort();
    const first = await startTestSession({ dir, forward: [parseTarget(String(port))] });
    const raw = body();
    const headers = signedHeaders(raw, { id: 'msg_resume' });
    expect((await post(first.session.url, raw, headers)).status).toBe(200);
    await first.waitFor('forward_failed');
    await first.stop();

    const app = await sink(undefined, port);
    const second = await session({ dir, forward: [parseTarget(String(port))] });
    const resumed = await second.waitFor('resumed');
    expect(resumed).toMatchObject({ webhookId: 'msg_resume', eventType: 'batch.succeeded' });
    const forwarded = await second.waitFor('forwarded');
    expect(forwarded.seq).toBe(resumed.seq);
    expect(forwarded.attempt).toBeGreaterThan(1);
    expect(app.requests[0]!.body.toString()).toBe(raw);
    expect(app.requests[0]!.headers['webhook-id']).toBe('msg_resume');

    // Gemini retries the same delivery: already seen, so not forwarded again.
    const again = await post(second.session.url, raw, headers);
    expect(again.json.duplicate).toBe(true);
    await second.stop();

    // Nothing is pending any more.
    const third = await session({ dir, forward: [parseTarget(String(port))] });
    await new Promise((r) => setTimeout(r, 200));
    expect(third.events.some((e) => e.type === 'resumed')).toBe(false);
    expect(app.requests).toHaveLength(1);
  });

  it('warns about pending forwards to targets no longer configured instead of resending them elsewhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gemwh-listen-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = await closedPort();
    const first = await startTestSession({ dir, forward: [parseTarget(String(port))] });
    const raw = body();
    await post(first.session.url, raw, signedHeaders(raw));
    await first.waitFor('forward_failed');
    await first.stop();
    const app = await sink();
    const second = await session({ dir, forward: [parseTarget(app.url)] });
    const warning = await second.waitFor('warning');
    expect(warning.message).toMatch(/never reached/);
    expect(app.requests).toHaveLength(0);
  });

  it('resumes a forward that was still in flight when the listener stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gemwh-listen-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    let slow = true;
    const app = await sink(() => (slow ? { status: 200, delayMs: 5000 } : { status: 200 }));
    const first = await startTestSession({ dir, forward: [parseTarget(app.url)], stopGraceMs: 200 });
    const raw = body();
    await post(first.session.url, raw, signedHeaders(raw, { id: 'msg_inflight' }));
    await until('one delivery at the app', () => app.requests.length === 1);
    await first.stop();
    const aborted = first.events.find((e) => e.type === 'forward_failed');
    expect(aborted).toMatchObject({ error: expect.stringMatching(/stopping/) });
    slow = false;
    const second = await session({ dir, forward: [parseTarget(app.url)] });
    expect(await second.waitFor('resumed')).toMatchObject({ webhookId: 'msg_inflight' });
    await second.waitFor('forwarded');
  });

  it('makes a missing journal folder itself, private to the user', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gemwh-listen-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'a', 'b', 'journal.ndjson');
    const s = await session({ journal: { file, maxBytes: 1 << 20, keep: 1, fsync: false } });
    const raw = body();
    expect((await post(s.session.url, raw, signedHeaders(raw))).status).toBe(200);
    expect(statSync(join(dir, 'a', 'b')).mode & 0o777).toBe(0o700);
    expect(journal(file).some((r) => r.kind === 'delivery')).toBe(true);
  });

  it('fails with a usage error when the port is taken', async () => {
    const s = await session();
    const port = Number(new URL(s.session.url).port);
    await expect(startTestSession({ port })).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/in use/) });
  });
});

describe('signing helper sanity', () => {
  it('matches the Standard Webhooks vector', () => {
    expect(sign('msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}', SECRET)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    expect(newId()).not.toBe(newId());
  });
});
