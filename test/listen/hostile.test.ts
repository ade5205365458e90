import { once } from 'node:events';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { sign } from '../../src/core/standard-webhooks.js';
import { OLD_SECRET, body, newId, post, signedHeaders, startTestSession, type TestSession } from './helpers.js';

/** Requests built to stall or break the listener: each must cost about what a real delivery does. */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function session(options: Parameters<typeof startTestSession>[0] = {}): Promise<TestSession> {
  const s = await startTestSession(options);
  cleanups.push(() => s.stop());
  return s;
}

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
    cleanups.push(() => void socket.destroy());
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
