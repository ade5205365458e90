import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readBodyLimited, type BodyResult, type ReadBodyOptions } from '../../src/http/read-body.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** Posts `body` in two chunks to a server that reads it with readBodyLimited(max, options). */
async function readOnce(body: Buffer, max: number, options: ReadBodyOptions): Promise<{ result: BodyResult; status: number }> {
  let result: BodyResult | undefined;
  server = createServer(async (req: IncomingMessage, res) => {
    result = await readBodyLimited(req, max, options);
    res.writeHead(result.kind === 'complete' ? 200 : 413, result.kind === 'too_large' && options.whenTooLarge !== 'drain' ? { connection: 'close' } : {});
    res.end();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const status = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', headers: { 'content-length': body.length } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.write(body.subarray(0, 10));
    setImmediate(() => req.end(body.subarray(10)));
  });
  return { result: result!, status };
}

describe('readBodyLimited', () => {
  it.each(['stop', 'drain'] as const)('returns a body within the limit whole (%s)', async (whenTooLarge) => {
    const body = Buffer.from('x'.repeat(64));
    const { result, status } = await readOnce(body, 64, { whenTooLarge });
    expect(status).toBe(200);
    expect(result).toEqual({ kind: 'complete', body });
  });

  it('drain reads an oversized body to its end, keeps its start and reports every byte seen', async () => {
    const body = Buffer.from('a'.repeat(10) + 'b'.repeat(90));
    const { result, status } = await readOnce(body, 50, { whenTooLarge: 'drain' });
    expect(status).toBe(413);
    expect(result).toEqual({ kind: 'too_large', seenBytes: 100, start: body });
  });

  it('stop settles at the chunk that crosses the limit, keeping the start whatever the chunking', async () => {
    const body = Buffer.from('a'.repeat(10) + 'b'.repeat(90));
    const { result } = await readOnce(body, 50, { whenTooLarge: 'stop' });
    expect(result.kind).toBe('too_large');
    // The first chunk (10 bytes) or both arrive before the limit is crossed: the start holds at least the crossing one.
    if (result.kind === 'too_large') expect(body.subarray(0, result.start.length).equals(result.start) && result.start.length > 10).toBe(true);
  });
});
