import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ForwardQueue, createHttpSender, flatHeaders, forwardHeaders, type ForwardJob, type HttpSender, type SendResult } from '../../src/listen/forwarder.js';
import { Journal } from '../../src/listen/journal.js';
import { manualTime } from '../helpers/manual-time.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function app(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<URL> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`);
}

async function sender(timeoutMs = 5000): Promise<HttpSender> {
  const s = await createHttpSender({ timeoutMs, concurrency: 4 });
  cleanups.push(() => s.close());
  return s;
}

/** One attempt on a sender, as a promise (the queue uses the callback). */
function send(s: HttpSender, url: URL, headers: Array<[string, string]>, body: Buffer): Promise<SendResult> {
  return new Promise((resolve) => s.send(url, flatHeaders(headers), body, resolve));
}

describe('createHttpSender', () => {
  it.each([false, true])('says an https target on a plain-HTTP port speaks plain HTTP (insecure %s)', async (insecure) => {
    const url = await app((req, res) => req.resume().on('end', () => res.end('ok')));
    const s = await createHttpSender({ timeoutMs: 5000, concurrency: 1, insecure });
    cleanups.push(() => s.close());
    const result = await send(s, new URL(url.href.replace(/^http:/, 'https:')), [], Buffer.from('{}'));
    expect(result.error).toBe('the target speaks plain HTTP: use http://');
  });

  it('gives up at the deadline, and the next forward on the same target still works', async () => {
    let calls = 0;
    const url = await app((req, res) => {
      calls += 1;
      // The first request never gets an answer.
      if (calls > 1) req.on('end', () => res.end('late but fine')).resume();
    });
    const s = await sender(200);
    const started = Date.now();
    const first = await send(s, url, [['content-type', 'application/json']], Buffer.from('{}'));
    expect(first).toMatchObject({ ok: false, error: 'timed out: no answer within 200 ms', retryable: true });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await send(s, url, [], Buffer.from('{}'))).toMatchObject({ ok: true, status: 200, responseStart: 'late but fine' });
  });

  it('keeps the start of a huge answer and cuts the rest off', async () => {
    const url = await app((req, res) => {
      req.resume();
      res.writeHead(500, { 'content-type': 'text/plain' });
      // Far beyond what is read: the sender must not wait for all of it.
      const chunk = 'x'.repeat(64 * 1024);
      let left = 64;
      const more = () => {
        while (left > 0) {
          left -= 1;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    });
    const result = await send(await sender(), url, [], Buffer.from('{}'));
    expect(result).toMatchObject({ ok: false, status: 500, retryable: true });
    expect(result.responseStart).toBe('x'.repeat(1024));
  });

  it('sends the headers in order and the body byte for byte', async () => {
    let got: { headers: string[]; body: Buffer } | undefined;
    const url = await app((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        got = { headers: req.rawHeaders, body: Buffer.concat(chunks) };
        res.writeHead(202).end();
      });
    });
    const body = Buffer.from([0xff, 0x00, 0x7b]);
    const result = await send(await sender(), url, [['X-One', '1'], ['x-two', 'two']], body);
    expect(result).toMatchObject({ ok: true, status: 202, responseStart: '' });
    expect(got!.body.equals(body)).toBe(true);
    expect(got!.headers.join('|')).toContain('X-One|1|x-two|two');
  });

  it('reports forwards cut short by close() as such', async () => {
    const url = await app(() => {});
    const s = await createHttpSender({ timeoutMs: 5000, concurrency: 2 });
    const pending = send(s, url, [], Buffer.from('{}'));
    await new Promise((r) => setTimeout(r, 50));
    await s.close();
    expect(await pending).toMatchObject({ ok: false, error: 'aborted: the listener is stopping', retryable: true });
  });
});

describe('ForwardQueue', () => {
  function job(n: number): ForwardJob {
    return { key: `k.${n}`, seq: n, url: new URL('http://127.0.0.1:1/'), headers: [], body: Buffer.alloc(0), attempt: 1 };
  }

  it('keeps at most `concurrency` attempts in flight and starts the rest first come, first served', async () => {
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    const finished: number[] = [];
    const fake: HttpSender = {
      send(_url, _headers, body, done) {
        started.push(body.length);
        inFlight += 1;
        most = Math.max(most, inFlight);
        setImmediate(() => {
          inFlight -= 1;
          done({ ok: true, status: 200, latencyMs: 0, responseStart: '', retryable: false } satisfies SendResult);
        });
      },
      async close() {},
    };
    const queue = new ForwardQueue({ sender: fake, retry: { initialMs: 10, maxMs: 10 }, concurrency: 3, now: Date.now, onAttempt: (r) => finished.push(r.job.seq) });
    for (let n = 0; n < 2000; n++) queue.enqueue({ ...job(n), body: Buffer.alloc(n) });
    expect(queue.pending).toBe(2000);
    await queue.idle();
    while (queue.pending > 0) await queue.idle();
    expect(most).toBe(3);
    expect(started).toEqual(Array.from({ length: 2000 }, (_, n) => n));
    expect(finished).toHaveLength(2000);
  });

  it('lets queued jobs run during the stop grace period, then drops the ones not started', async () => {
    const sent: number[] = [];
    const fake: HttpSender = {
      send(_url, _headers, body, done) {
        sent.push(body.length);
        setTimeout(() => done({ ok: true, status: 200, latencyMs: 40, responseStart: '', retryable: false }), 40);
      },
      async close() {},
    };
    const queue = new ForwardQueue({ sender: fake, retry: { initialMs: 10, maxMs: 10 }, concurrency: 1, now: Date.now, onAttempt: () => {} });
    for (let n = 0; n < 10; n++) queue.enqueue({ ...job(n), body: Buffer.alloc(n) });
    await queue.stop(100);
    await queue.idle();
    // About 100 ms of 40 ms attempts, one at a time: the first few ran, in order; the rest were left to the journal.
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(sent.length).toBeLessThan(10);
    expect(sent).toEqual(Array.from({ length: sent.length }, (_, n) => n));
    queue.enqueue(job(99));
    expect(queue.pending).toBe(0);
  });
});

describe('ForwardQueue attempts', () => {
  it('sends each attempt the headers it prepared, reports what was sent, and idle() waits for attempts started from a report', async () => {
    const sent: string[][] = [];
    let failures = 1;
    const fake: HttpSender = {
      send(_url, headers, _body, done) {
        sent.push([...headers]);
        const fail = failures-- > 0;
        setImmediate(() => done(fail ? { ok: false, status: 503, latencyMs: 1, retryable: true } : { ok: true, status: 200, latencyMs: 1, responseStart: 'ok', retryable: false }));
      },
      async close() {},
    };
    const time = manualTime(1_000_000);
    const reports: Array<{ seq: number; attempt: number; signature?: string; timestamp?: string; ok: boolean }> = [];
    let chained = false;
    const queue = new ForwardQueue({
      sender: fake,
      retry: { initialMs: 1000, maxMs: 1000 },
      concurrency: 2,
      now: time.clock.now,
      scheduler: time.scheduler,
      onAttempt: (r) => {
        reports.push({ seq: r.job.seq, attempt: r.attempt, signature: r.sent?.signature, timestamp: r.sent?.timestamp, ok: r.result.ok });
        // A report may start another attempt (a resend, a parked delivery read back): idle() waits for it too.
        if (!chained && r.result.ok) {
          chained = true;
          queue.enqueue({ key: 'k.2', seq: 2, url: new URL('http://127.0.0.1:1/'), headers: [['x-two', '2']], body: Buffer.alloc(1), attempt: 1 });
        }
      },
    });
    const headers: Array<[string, string]> = [
      ['Webhook-Id', 'msg_1'],
      ['Webhook-Timestamp', '100'],
    ];
    queue.enqueue({
      key: 'k.1',
      seq: 1,
      url: new URL('http://127.0.0.1:1/'),
      headers,
      body: Buffer.alloc(1),
      attempt: 1,
      // The first attempt as received, later ones re-signed (as forward-signing.ts prepares them).
      prepare: (n) =>
        n === 1
          ? { headers, signature: 'as_received', timestamp: '100' }
          : { headers: [['Webhook-Id', 'msg_1'], ['Webhook-Timestamp', `${100 + n}`]], signature: 'resigned', timestamp: `${100 + n}` },
    });
    await queue.idle();
    expect(time.next()).toBe(true);
    await queue.idle();
    expect(sent).toEqual([
      ['Webhook-Id', 'msg_1', 'Webhook-Timestamp', '100'],
      ['Webhook-Id', 'msg_1', 'Webhook-Timestamp', '102'],
      ['x-two', '2'],
    ]);
    expect(reports).toEqual([
      { seq: 1, attempt: 1, signature: 'as_received', timestamp: '100', ok: false },
      { seq: 1, attempt: 2, signature: 'resigned', timestamp: '102', ok: true },
      { seq: 2, attempt: 1, signature: undefined, timestamp: undefined, ok: true },
    ]);
    expect(queue.pending).toBe(0);
  });
});

describe('ForwardQueue held bytes', () => {
  it('counts a body from enqueue until its last attempt, through retries, and drops what stop() discards', async () => {
    let failFirst = true;
    const fake: HttpSender = {
      send(_url, _headers, _body, done) {
        setImmediate(() => {
          if (failFirst) {
            failFirst = false;
            return done({ ok: false, status: 503, latencyMs: 0, responseStart: '', retryable: true });
          }
          done({ ok: true, status: 200, latencyMs: 0, responseStart: '', retryable: false });
        });
      },
      async close() {},
    };
    const time = manualTime();
    const reports: number[] = [];
    const queue = new ForwardQueue({
      sender: fake,
      retry: { initialMs: 30_000, maxMs: 30_000 },
      concurrency: 1,
      now: time.clock.now,
      scheduler: time.scheduler,
      onAttempt: () => reports.push(queue.heldBytes),
    });
    const job = (n: number, bytes: number): ForwardJob => ({ key: `k.${n}`, seq: n, url: new URL('http://127.0.0.1:1/'), headers: [], body: Buffer.alloc(bytes), attempt: 1 });
    queue.enqueue(job(1, 100));
    queue.enqueue(job(2, 10));
    expect(queue.heldBytes).toBe(110);
    await queue.idle();
    // 1 failed (still held while its retry waits), 2 went through.
    expect(reports).toEqual([110, 100]);
    expect(queue.pending).toBe(1);
    time.advance(29_999);
    expect(reports).toHaveLength(2);
    time.advance(1);
    await queue.idle();
    // Then 1's retry went through.
    expect(reports).toEqual([110, 100, 0]);
    expect(queue.heldBytes).toBe(0);

    failFirst = true;
    queue.enqueue(job(3, 7));
    queue.enqueue(job(4, 5));
    await queue.idle();
    expect(time.waiting).toBe(1);
    await queue.stop(0);
    await queue.idle();
    expect(queue.heldBytes).toBe(0);
    // stop() cancelled the retry that waited.
    expect(time.waiting).toBe(0);
  });

  it('backs off exponentially up to the cap, and reports when each retry is due', async () => {
    const time = manualTime(1_000_000);
    const fake: HttpSender = { send: (_url, _headers, _body, done) => queueMicrotask(() => done({ ok: false, status: 503, latencyMs: 0, retryable: true })), async close() {} };
    const reports: Array<{ attempt: number; at: number; next?: number }> = [];
    const queue = new ForwardQueue({
      sender: fake,
      retry: { initialMs: 1000, maxMs: 5000 },
      concurrency: 1,
      now: time.clock.now,
      scheduler: time.scheduler,
      onAttempt: (r) => reports.push({ attempt: r.attempt, at: r.at, next: r.nextAttemptAt }),
    });
    queue.enqueue({ key: 'k.1', seq: 1, url: new URL('http://127.0.0.1:1/'), headers: [], body: Buffer.alloc(1), attempt: 1 });
    for (let i = 0; i < 5; i++) {
      await queue.idle();
      expect(time.next()).toBe(true);
    }
    await queue.idle();
    expect(reports.map((r) => r.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(reports.map((r) => r.at - 1_000_000)).toEqual([0, 1000, 3000, 7000, 12_000, 17_000]);
    expect(reports.map((r) => r.next! - r.at)).toEqual([1000, 2000, 4000, 5000, 5000, 5000]);
    await queue.stop(0);
  });
});

describe('forwardHeaders', () => {
  it('drops hop-by-hop headers and those the Connection header names, and lets --header override', () => {
    const received: Array<[string, string]> = [
      ['Host', 'example'],
      ['Connection', 'keep-alive, X-Hop'],
      ['X-Hop', 'drop me'],
      ['Proxy-Authorization', 'secret'],
      ['Content-Length', '2'],
      ['Webhook-Id', 'msg_1'],
      ['X-Custom', 'kept'],
      ['X-Added', 'overridden'],
    ];
    expect(forwardHeaders(received, [['x-added', 'yes']])).toEqual([
      ['Webhook-Id', 'msg_1'],
      ['X-Custom', 'kept'],
      ['x-added', 'yes'],
    ]);
    expect(forwardHeaders([['Webhook-Id', 'msg_1']])).toEqual([['Webhook-Id', 'msg_1']]);
  });
});

describe('Journal group buffer', () => {
  it('writes a line far larger than the buffer, and the groups after it, intact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gemwh-journal-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'journal.ndjson');
    const journal = await Journal.open({ file, maxBytes: 64 * 1024 * 1024, keep: 1, fsync: false });
    const record = (n: number, body: string) => ({
      kind: 'forward' as const,
      v: 1,
      key: `k.${n}`,
      target: `http://x/${body}`,
      attempt: 1,
      at: n,
      ok: true,
      latencyMs: 1,
      final: true,
    });
    const huge = 'é😀'.repeat(300_000);
    await Promise.all([journal.append(record(1, 'a')), journal.append(record(2, huge)), journal.append(record(3, 'b'))]);
    await journal.append(record(4, 'c'));
    await journal.close();
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1).map((line) => (JSON.parse(line) as { key: string; target: string }).key)).toEqual(['k.1', 'k.2', 'k.3', 'k.4']);
    expect((JSON.parse(lines[1]!) as { target: string }).target).toBe(`http://x/${huge}`);
  });
});
