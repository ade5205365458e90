import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign, verifyStatic } from '../../src/core/standard-webhooks.js';
import { parseTarget } from '../../src/flags/target.js';
import type { JournalRecord } from '../../src/listen/journal-records.js';
import { startRecordingServer, type RecordingServer } from '../helpers/recording-server.js';
import { SECRET, OLD_SECRET, startTestSession, type TestSession } from './helpers.js';

/**
 * A bounded, seeded fuzz of a real listen session forwarding to a real app: thousands of hostile
 * requests (raw garbage, broken chunking, huge and odd headers, early disconnects, one-byte
 * mutations of valid deliveries, duplicates, deep JSON, invalid UTF-8) mixed with valid ones.
 * It prints its seed; GEMWH_FUZZ_SEED=N replays a run, GEMWH_FUZZ_COUNT=N changes its size.
 */

const SEED = Number(process.env.GEMWH_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const COUNT = Number(process.env.GEMWH_FUZZ_COUNT ?? 1500);
const CONCURRENCY = 16;

/** mulberry32: small, seedable, good enough to pick cases. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let app: RecordingServer;
let s: TestSession;

beforeAll(async () => {
  console.log(`listen fuzz: seed ${SEED}, ${COUNT} requests (replay with GEMWH_FUZZ_SEED=${SEED})`);
  app = await startRecordingServer(() => ({ status: 200, body: 'ok' }));
  s = await startTestSession({ forward: [parseTarget(app.url)], maxBodyBytes: 64 * 1024, headersTimeoutMs: 1000, requestTimeoutMs: 1000 });
});

afterAll(async () => {
  await s?.stop();
  await app?.close();
});

interface Exchange {
  /** The status line's code, undefined when the server sent nothing (or we hung up first). */
  status?: number;
  text: string;
}

/** Writes `parts` on one connection (a pause between them), optionally hangs up early; resolves with the answer. */
function exchange(parts: Buffer[], options: { hangUpAfter?: number } = {}): Promise<Exchange> {
  const { hostname, port } = new URL(s.session.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let text = '';
    const finish = () => {
      clearTimeout(timer);
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: match ? Number(match[1]) : undefined, text });
    };
    const timer = setTimeout(() => socket.destroy(), 10_000);
    socket.on('connect', async () => {
      for (const [i, part] of parts.entries()) {
        if (socket.destroyed) return;
        socket.write(part);
        if (options.hangUpAfter === i) {
          socket.destroy();
          return;
        }
        if (i < parts.length - 1) await new Promise((r) => setImmediate(r));
      }
    });
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('close', finish);
    socket.on('error', () => undefined);
  });
}

function httpRequest(headers: Array<[string, string]>, body: Buffer, requestLine = 'POST /hooks HTTP/1.1'): Buffer {
  const head = [requestLine, 'Host: 127.0.0.1', 'Connection: close', ...headers.map(([k, v]) => `${k}: ${v}`)].join('\r\n');
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), body]);
}

function signed(body: Buffer, id: string, secret = SECRET): Array<[string, string]> {
  const ts = Math.floor(Date.now() / 1000);
  return [
    ['Content-Type', 'application/json'],
    ['Content-Length', String(body.length)],
    ['webhook-id', id],
    ['webhook-timestamp', String(ts)],
    ['webhook-signature', sign(id, ts, body, secret)],
  ];
}

describe(`listen under fuzz (seed ${SEED})`, () => {
  it('never crashes, never answers 5xx to a client mistake, forwards only verified deliveries, each acknowledged one journaled and forwarded once', async () => {
    const random = prng(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
    const sentValid: Array<{ id: string; request: Buffer }> = [];
    const problems: string[] = [];
    let n = 0;

    const event = (i: number) => Buffer.from(JSON.stringify({ type: pick(['batch.succeeded', 'video.generated', 'interaction.completed']), version: 'v1', data: { id: `fuzz_${SEED}_${i}`, note: 'déjà' } }));

    const kinds: Array<[string, (i: number) => Promise<{ exchange: Exchange; clientMistake: boolean }>]> = [
      ['valid', async (i) => {
        const id = `msg_fuzz_${SEED}_${i}`;
        const body = event(i);
        const request = httpRequest(signed(body, id), body);
        sentValid.push({ id, request });
        return { exchange: await exchange([request]), clientMistake: false };
      }],
      ['invalid UTF-8, validly signed', async (i) => {
        const id = `msg_fuzz_bin_${SEED}_${i}`;
        const body = Buffer.concat([Buffer.from('{"type":"batch.succeeded","x":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), bytes(8), Buffer.from('"}')]);
        const request = httpRequest(signed(body, id), body);
        sentValid.push({ id, request });
        return { exchange: await exchange([request]), clientMistake: false };
      }],
      ['duplicate', async () => {
        if (sentValid.length === 0) return { exchange: await exchange([httpRequest([], Buffer.alloc(0))]), clientMistake: true };
        return { exchange: await exchange([pick(sentValid).request]), clientMistake: false };
      }],
      ['one-byte mutation', async (i) => {
        const id = `msg_fuzz_mut_${SEED}_${i}`;
        const body = event(i);
        const request = Buffer.from(httpRequest(signed(body, id), body));
        request[Math.floor(random() * request.length)] = Math.floor(random() * 256);
        return { exchange: await exchange([request]), clientMistake: true };
      }],
      ['bad signature', async (i) => {
        const body = event(i);
        return { exchange: await exchange([httpRequest(signed(body, `msg_fuzz_bad_${SEED}_${i}`, OLD_SECRET), body)]), clientMistake: true };
      }],
      ['deep JSON, bad signature', async (i) => {
        const depth = 1000 + Math.floor(random() * 10_000);
        const body = Buffer.from(random() < 0.5 ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth / 5) + '1' + '}'.repeat(depth / 5));
        return { exchange: await exchange([httpRequest(signed(body, `msg_fuzz_deep_${SEED}_${i}`, OLD_SECRET), body)]), clientMistake: true };
      }],
      ['raw garbage', async () => ({ exchange: await exchange([bytes(1 + Math.floor(random() * 300))]), clientMistake: true })],
      ['broken chunking', async (i) => {
        const body = event(i);
        const head = httpRequest([...signed(body, `msg_fuzz_chunk_${SEED}_${i}`).filter(([k]) => k !== 'Content-Length'), ['Transfer-Encoding', 'chunked']], Buffer.alloc(0));
        const chunk = pick([`zz\r\n${body}\r\n0\r\n\r\n`, `${(body.length + 5).toString(16)}\r\n${body}\r\n0\r\n\r\n`, `${body.length.toString(16)}\r\n${body}0\r\n\r\n`, `-1\r\n\r\n`, `${body.length.toString(16)};ext="\r\n${body}\r\n0\r\n\r\n`]);
        return { exchange: await exchange([head, Buffer.from(chunk)]), clientMistake: true };
      }],
      ['huge or odd headers', async (i) => {
        const body = event(i);
        const odd = pick<Array<[string, string]>>([
          [['X-Big', 'a'.repeat(17_000 + Math.floor(random() * 10_000))]],
          Array.from({ length: 300 }, (_, k) => [`X-H${k}`, 'v'] as [string, string]),
          [['X', '\u00ff\u00fe'], ['Expect', 'something-else']],
          [['webhook-id', ''], ['webhook-timestamp', '1e99'], ['webhook-signature', 'v1,' + 'A'.repeat(5000)]],
          [['Content-Length', '5'], ['Content-Length', '7']],
          [['Transfer-Encoding', 'gzip']],
        ]);
        return { exchange: await exchange([httpRequest([['Content-Length', String(body.length)], ...odd], body)]), clientMistake: true };
      }],
      ['odd request line', async (i) => {
        const body = event(i);
        const line = pick(['GET / HTTP/1.1', 'POST http://elsewhere/x HTTP/1.1', 'POST /\\127.0.0.1:1/x HTTP/1.1', 'POST * HTTP/1.1', 'POST / HTTP/9.9', 'POST /%00%ff HTTP/1.1', 'DELETE /x HTTP/1.1', 'PRI * HTTP/2.0']);
        return { exchange: await exchange([httpRequest(signed(body, `msg_fuzz_line_${SEED}_${i}`, OLD_SECRET), body, line)]), clientMistake: true };
      }],
      ['early disconnect', async (i) => {
        const body = event(i);
        const request = httpRequest(signed(body, `msg_fuzz_early_${SEED}_${i}`), body);
        const cut = 1 + Math.floor(random() * (request.length - 1));
        return { exchange: await exchange([request.subarray(0, cut), request.subarray(cut)], { hangUpAfter: 0 }), clientMistake: true };
      }],
    ];

    const worker = async () => {
      while (n < COUNT) {
        const i = n++;
        const [kind, run] = kinds[Math.floor(random() * kinds.length)]!;
        const { exchange: answer } = await run(i);
        if (answer.status !== undefined && answer.status >= 500) problems.push(`#${i} ${kind}: ${answer.text.slice(0, 300)}`);
        if (kind === 'valid' && answer.status !== 200) problems.push(`#${i} valid delivery answered ${answer.status}: ${answer.text.slice(0, 300)}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(problems).toEqual([]);

    // Still serving, and every acknowledged delivery reaches the app exactly once.
    const last = Buffer.from('{"type":"batch.succeeded"}');
    expect((await exchange([httpRequest(signed(last, `msg_fuzz_last_${SEED}`), last)])).status).toBe(200);
    const acknowledged = new Set(s.events.flatMap((e) => (e.type === 'verified' && e.webhookId ? [e.webhookId] : [])));
    const deadline = Date.now() + 20_000;
    while (app.requests.length < acknowledged.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

    const forwardedIds = app.requests.map((r) => String(r.headers['webhook-id']));
    expect(forwardedIds.length).toBe(acknowledged.size);
    expect(new Set(forwardedIds)).toEqual(acknowledged);
    for (const request of app.requests) {
      const verdict = verifyStatic({ rawBody: request.body, headers: request.headers, secrets: [{ secret: SECRET, label: 'app' }], now: Date.now() });
      expect(verdict.ok, `forwarded ${String(request.headers['webhook-id'])} does not verify`).toBe(true);
    }
    const journaled = new Set(
      readFileSync(s.journalFile, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as JournalRecord)
        .flatMap((r) => (r.kind === 'delivery' && r.outcome === 'verified' && r.webhookId ? [r.webhookId] : [])),
    );
    for (const id of acknowledged) expect(journaled.has(id), `${id} acknowledged but not journaled`).toBe(true);
    expect(s.events.filter((e) => e.type === 'warning' && /internal error/.test(e.message))).toEqual([]);
  }, 120_000);
});
