import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyStatic } from '../../src/core/standard-webhooks.js';
import { runGemwh } from '../helpers/deps.js';
import { startRecordingServer, type RecordingServer } from '../helpers/recording-server.js';
import { SECRET, body, journalOldDelivery, post, signedHeaders, startTestSession } from '../listen/helpers.js';

let dir: string;
let journal: string;
let app: RecordingServer;
const sent: Record<string, { raw: string; headers: Record<string, string> }> = {};

/** An app that verifies signatures and the 5-minute window itself, as a careful receiver does. */
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gemwh-replay-delivery-'));
  journal = join(dir, 'journal.ndjson');
  app = await startRecordingServer((request) => {
    const verdict = verifyStatic({ rawBody: request.body, headers: request.headers, secrets: [{ secret: SECRET, label: 'app' }], now: Date.now() });
    return verdict.ok ? { status: 204 } : { status: 400, body: verdict.reason };
  });

  // An old delivery, recorded 3 hours ago by an earlier listen.
  sent.msg_old = await journalOldDelivery(journal);

  const s = await startTestSession({ dir });
  for (const [id, type] of [
    ['msg_a', 'batch.succeeded'],
    ['msg_b', 'interaction.completed'],
    ['msg_c', 'batch.failed'],
  ] as const) {
    const raw = body(type, id);
    const headers = signedHeaders(raw, { id });
    expect((await post(`${s.session.url}hooks/gemini`, raw, headers)).status).toBe(200);
    sent[id] = { raw, headers };
  }
  // A rejected one and a duplicate, both journaled too.
  const bad = body('batch.succeeded', 'bad');
  expect((await post(s.session.url, bad, signedHeaders(bad, { id: 'msg_bad', secret: 'whsec_' + Buffer.alloc(24, 9).toString('base64') }))).status).toBe(401);
  expect((await post(`${s.session.url}hooks/gemini`, sent.msg_a!.raw, sent.msg_a!.headers)).status).toBe(200);
  await s.stop();
}, 30_000);

afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

async function replay(args: string[]) {
  const before = app.requests.length;
  const result = await runGemwh(['replay', 'delivery', ...args, '--journal', journal]);
  return { ...result, received: app.requests.slice(before) };
}

describe('gemwh replay delivery', () => {
  it('re-sends one delivery by webhook-id byte for byte with its original headers and path', async () => {
    const { code, received, stdout } = await replay(['msg_a', '--to', String(app.port)]);
    expect(code).toBe(0);
    expect(received).toHaveLength(1);
    expect(received[0]!.url).toBe('/hooks/gemini');
    expect(received[0]!.body.toString()).toBe(sent.msg_a!.raw);
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      expect(received[0]!.headers[name]).toBe(sent.msg_a!.headers[name]);
    }
    expect(stdout).toContain('msg_a');
    expect(stdout).toContain('204');
  });

  it('--insecure reaches an https receiver with a self-signed certificate, which is refused without it', async () => {
    const secure = await startRecordingServer(() => ({ status: 204 }), 0, { tls: true });
    try {
      const refused = await runGemwh(['replay', 'delivery', 'msg_a', '--to', secure.url, '--journal', journal]);
      expect(refused.code).toBe(7);
      expect(refused.stderr).toMatch(/--insecure/);
      const sentOk = await runGemwh(['replay', 'delivery', 'msg_a', '--to', secure.url, '--journal', journal, '--insecure']);
      expect(sentOk.code).toBe(0);
      expect(secure.requests.map((r) => r.body.toString())).toEqual([sent.msg_a!.raw]);
    } finally {
      await secure.close();
    }
  });

  it('--last picks the newest accepted delivery; --type narrows it', async () => {
    const last = await replay(['--last', '--to', app.url, '--json']);
    expect(last.code).toBe(0);
    expect(last.received.map((r) => r.headers['webhook-id'])).toEqual(['msg_c']);
    const line = JSON.parse(last.stdout.trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ webhookId: 'msg_c', status: 204, ok: true, kind: 'replay', latencyMs: expect.any(Number) });
    // gemwh's own records are camelCase throughout.
    expect(Object.keys(line).filter((key) => key.includes('_'))).toEqual([]);
    const typed = await replay(['--last', '--type', 'interaction.*', '--to', app.url]);
    expect(typed.received.map((r) => r.headers['webhook-id'])).toEqual(['msg_b']);
  });

  it('--since re-sends each accepted delivery of the window once, oldest first', async () => {
    const recent = await replay(['--since', '2h', '--type', 'batch.*', '--to', app.url]);
    expect(recent.code).toBe(0);
    expect(recent.received.map((r) => r.headers['webhook-id'])).toEqual(['msg_a', 'msg_c']);
    const all = await replay(['--since', '5h', '--to', app.url]);
    // msg_old is 3 h old: a receiver that checks timestamps refuses it, so the run fails (exit 9).
    expect(all.received.map((r) => r.headers['webhook-id'])).toEqual(['msg_old', 'msg_a', 'msg_b', 'msg_c']);
    expect(all.code).toBe(9);
    expect(all.stderr).toMatch(/not answered 2xx/);
  });

  it('--resign gives an old delivery a fresh timestamp and signature the receiver accepts', async () => {
    const plain = await replay(['msg_old', '--to', app.url]);
    expect(plain.code).toBe(9);
    // The app answered "too_old": the hint says why and names the way out.
    expect(plain.stderr).toMatch(/refused the timestamp/);
    expect(plain.stderr).toMatch(/Add --resign/);
    const resigned = await replay(['msg_old', '--to', app.url, '--resign', '--secret', SECRET, '--json']);
    expect(resigned.code).toBe(0);
    const got = resigned.received[0]!;
    expect(got.body.toString()).toBe(sent.msg_old!.raw);
    expect(got.headers['webhook-id']).toBe('msg_old');
    expect(Number(got.headers['webhook-timestamp'])).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(got.headers['webhook-signature']).not.toBe(sent.msg_old!.headers['webhook-signature']);
    expect(JSON.parse(resigned.stdout)).toMatchObject({ kind: 'resigned', status: 204 });
  });

  it('can re-send a rejected delivery by id while debugging', async () => {
    const { received, code } = await replay(['msg_bad', '--to', app.url]);
    expect(received).toHaveLength(1);
    expect(code).toBe(9);
  });

  it('says what is wrong: unknown id (5), no selection or secrets without --resign (2), unreachable receiver (7)', async () => {
    expect((await replay(['msg_nope', '--to', app.url])).code).toBe(5);
    expect((await replay(['--to', app.url])).code).toBe(2);
    expect((await replay(['--last', 'msg_a', '--to', app.url])).code).toBe(2);
    expect((await replay(['--last', '--to', app.url, '--secret', SECRET])).code).toBe(2);
    expect((await replay(['--last', '--to', app.url, '--resign'])).code).toBe(2);
    const zeroTimeout = await replay(['--last', '--to', app.url, '--timeout', '0']);
    expect(zeroTimeout.code).toBe(2);
    expect(zeroTimeout.stderr).toMatch(/--timeout must be longer than zero/);
    expect(zeroTimeout.received).toEqual([]);
    const unreachable = await replay(['--last', '--to', 'http://127.0.0.1:1/']);
    expect(unreachable.code).toBe(7);
    expect(unreachable.stderr).not.toMatch(/\n\s+at /);
  });
});
