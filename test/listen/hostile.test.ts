import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { sign } from '../../src/core/standard-webhooks.js';
import { perTest } from '../helpers/per-test.js';
import { OLD_SECRET, body, newId, post, signedHeaders, startTestSession, type TestSession } from './helpers.js';

/** Requests built to stall or break the listener: each must cost about what a real delivery does. */

const { defer } = perTest();
const session = (options: Parameters<typeof startTestSession>[0] = {}): Promise<TestSession> =>
  startTestSession(options).then((s) => (defer(() => s.stop()), s));

/** A delivery signed with a secret the listener does not hold: it is rejected and diagnosed. */
function badlySigned(raw: string): Record<string, string> {
  const id = newId();
  const ts = Math.floor(Date.now() / 1000);
  return { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sign(id, ts, raw, OLD_SECRET) };
}

describe('hostile bodies with a bad signature', () => {
  it('answers deeply nested JSON with 401 and a diagnosis, not 500', async () => {
    const s = await session({ noJournal: true });
    for (const raw of ['['.repeat(400_000) + ']'.repeat(400_000), '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000)]) {
      const answer = await post(s.session.url, raw, badlySigned(raw));
      expect(answer.status).toBe(401);
      expect(answer.json.error).toBe('no_matching_signature');
    }
    const raw = body();
    expect((await post(s.session.url, raw, signedHeaders(raw))).status).toBe(200);
  });

  it('answers a valid delivery sent while a hostile one is being diagnosed first', async () => {
    const s = await session({ noJournal: true });
    const { hostname, port } = new URL(s.session.url);
    const hostile = ' '.repeat(1000 * 1024);
    const valid = body();
    const order: string[] = [];
    // The valid delivery goes over a connection opened beforehand, written the moment the hostile
    // body has been read (its verification starts right after that event).
    const socket = connect(Number(port), hostname);
    defer(() => socket.destroy());
    await once(socket, 'connect');
    const validAnswer = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString();
        if (text.includes('\r\n\r\n')) {
          order.push('valid');
          resolve(text);
        }
      });
    });
    const headers = signedHeaders(valid);
    const validRequest =
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(valid)}\r\n` +
      Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') +
      `\r\n${valid}`;
    const off = s.session.on((event) => {
      if (event.type === 'received' && event.bodyBytes === hostile.length) {
        off();
        socket.write(validRequest);
      }
    });
    const hostileAnswer = post(s.session.url, hostile, badlySigned(hostile)).then((answer) => {
      order.push('hostile');
      return answer;
    });
    expect(await validAnswer).toMatch(/^HTTP\/1\.1 200/);
    expect((await hostileAnswer).status).toBe(401);
    expect(order).toEqual(['valid', 'hostile']);
  });
});

/** Sends raw bytes and resolves with everything the server sent back before closing. */
function rawExchange(url: string, payload: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => socket.write(payload));
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('close', () => resolve(received));
    socket.on('error', () => resolve(received));
  });
}

describe('requests node:http would answer on its own', () => {
  const cases: Array<{ name: string; request: string; status: number; error?: string }> = [
    { name: 'no Host header', request: 'POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}', status: 400 },
    { name: 'an Expect other than 100-continue', request: 'POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 2\r\n\r\n{}', status: 417 },
    { name: 'a header block over 16 KiB', request: `POST / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, status: 431 },
    { name: 'broken chunked encoding', request: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', status: 400 },
    { name: 'a request line that is not HTTP', request: 'HELLO\r\n\r\n', status: 400, error: 'malformed_request' },
    { name: 'a CONNECT request', request: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', status: 405, error: 'method_not_allowed' },
  ];
  for (const c of cases) {
    it(`answers ${c.name} with ${c.status} JSON, a journal line and a rejected event`, async () => {
      const s = await session();
      const answer = await rawExchange(s.session.url, c.request);
      expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${c.status} `));
      expect(answer).toMatch(/content-type: application\/json/i);
      const json = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: string; explanation: string };
      expect(json.error).toBe(c.error ?? 'malformed_request');
      expect(json.explanation).not.toBe('');
      const rejected = await s.waitFor('rejected', (e) => e.status === c.status);
      expect(rejected.reason).toBe(c.error ?? 'malformed_request');
      await s.session.stop();
      const lines = readFileSync(s.journalFile, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toContainEqual(expect.objectContaining({ kind: 'delivery', status: c.status, outcome: 'rejected', reason: c.error ?? 'malformed_request' }));
    });
  }

  it('still accepts an HTTP/1.0 delivery without Host (HTTP/1.0 does not require it)', async () => {
    const s = await session();
    const raw = body();
    const headers = Object.entries(signedHeaders(raw)).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    const answer = await rawExchange(s.session.url, `POST / HTTP/1.0\r\nContent-Length: ${Buffer.byteLength(raw)}\r\n${headers}\r\n${raw}`);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
  });
});
