import { createServer, type RequestListener, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { postBytes, RESPONSE_START_BYTES } from '../../src/replay/http-post.js';
import { closeServer, listenOnLoopback } from '../helpers/loopback.js';

describe('postBytes', () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server) await closeServer(server);
    server = undefined;
  });

  async function listen(handler: RequestListener): Promise<URL> {
    server = createServer(handler);
    return new URL(`http://127.0.0.1:${await listenOnLoopback(server)}/x`);
  }

  it('sends the bytes as given and keeps only the start of a large answer', async () => {
    let received = Buffer.alloc(0);
    const url = await listen((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received = Buffer.concat(chunks);
        res.end('y'.repeat(200_000));
      });
    });
    const body = Buffer.from([0x7b, 0xe2, 0x9c, 0x93, 0x7d]);
    const result = await postBytes(url, body, { 'content-type': 'application/json' }, { timeoutMs: 5000 });
    expect(received.equals(body)).toBe(true);
    expect(result.status).toBe(200);
    expect(result.responseStart).toBe('y'.repeat(RESPONSE_START_BYTES));
    expect(result.latencyMs).toBeGreaterThan(0);
  });

  it('stops when the signal aborts', async () => {
    const url = await listen(() => {
      // never answers
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const result = await postBytes(url, Buffer.from('{}'), {}, { timeoutMs: 5000, signal: controller.signal });
    expect(result.status).toBeUndefined();
    expect(result.error?.kind).toBe('aborted');
  });
});
