import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createFileJwksSource, createRemoteJwksSource, createStaticJwksSource, parseJwks } from '../../src/jwks/jwks-source.js';
import { closeServer, listenOnLoopback } from '../helpers/loopback.js';
import { startJwksServer, unusedUrl, type JwksServer } from '../helpers/jwks-server.js';

const KEY_A = { kty: 'RSA', kid: 'a', n: 'xyz', e: 'AQAB' };
const KEY_B = { kty: 'RSA', kid: 'b', n: 'uvw', e: 'AQAB' };

let server: JwksServer;
let clock = 0;
const now = () => clock;

beforeAll(async () => {
  server = await startJwksServer({ keys: [KEY_A] });
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  server.answer = { status: 200, body: JSON.stringify({ keys: [KEY_A] }) };
  server.requests = 0;
  clock = 1_000_000;
});

describe('createRemoteJwksSource', () => {
  it('fetches once and serves from memory while the TTL holds, then refetches', async () => {
    clock = 1_000_000;
    const source = createRemoteJwksSource({ url: server.url, now, ttlMs: 60_000 });
    expect(await source.getKey('a')).toMatchObject({ status: 'found', key: { kid: 'a' } });
    clock += 59_000;
    expect(await source.getKey('a')).toMatchObject({ status: 'found' });
    expect(server.requests).toBe(1);
    clock += 2_000;
    expect(await source.getKey('a')).toMatchObject({ status: 'found' });
    expect(server.requests).toBe(2);
  });

  it('respects Cache-Control max-age over the default TTL', async () => {
    server.answer = { status: 200, body: JSON.stringify({ keys: [KEY_A] }), headers: { 'cache-control': 'public, max-age=3600' } };
    const source = createRemoteJwksSource({ url: server.url, now, ttlMs: 60_000 });
    await source.getKey('a');
    clock += 3_000_000;
    await source.getKey('a');
    expect(server.requests).toBe(1);
    clock += 700_000;
    await source.getKey('a');
    expect(server.requests).toBe(2);
  });

  it('refetches once for an unknown kid, then holds the cooldown against a flood of bad kids', async () => {
    const source = createRemoteJwksSource({ url: server.url, now, cooldownMs: 30_000 });
    await source.getKey('a');
    expect(server.requests).toBe(1);

    // Google rotated: the new key appears on the server.
    server.answer = { status: 200, body: JSON.stringify({ keys: [KEY_A, KEY_B] }) };
    clock += 31_000;
    expect(await source.getKey('b')).toMatchObject({ status: 'found', key: { kid: 'b' } });
    expect(server.requests).toBe(2);

    clock += 1_000;
    const flood = await Promise.all(Array.from({ length: 50 }, (_, i) => source.getKey(`forged-${i}`)));
    expect(server.requests).toBe(2);
    expect(flood[0]).toMatchObject({ status: 'unknown_kid', knownKids: ['a', 'b'], detail: expect.stringMatching(/not refetched.*30 s/) });

    clock += 30_000;
    expect(await source.getKey('forged-x')).toMatchObject({ status: 'unknown_kid', detail: 'refetched once for this kid' });
    expect(server.requests).toBe(3);
  });

  it('shares one request between concurrent first lookups', async () => {
    const source = createRemoteJwksSource({ url: server.url, now });
    const results = await Promise.all([source.getKey('a'), source.getKey('a'), source.getKey('zzz')]);
    expect(results.map((r) => r.status)).toEqual(['found', 'found', 'unknown_kid']);
    expect(server.requests).toBe(1);
  });

  it.each([
    ['an HTTP error', { status: 503, body: 'busy' }, /HTTP 503/],
    ['a non-JSON answer', { status: 200, body: '<html>' }, /not JSON/],
    ['JSON that is not a JWKS', { status: 200, body: '{"kty":"RSA"}' }, /not a JWKS/],
  ])('reports %s as unavailable', async (_name, answer, error) => {
    server.answer = answer;
    const source = createRemoteJwksSource({ url: server.url, now });
    expect(await source.getKey('a')).toMatchObject({ status: 'unavailable', error: expect.stringMatching(error) });
  });

  it('reports a server that is down', async () => {
    const source = createRemoteJwksSource({ url: await unusedUrl(), now });
    expect(await source.getKey('a')).toMatchObject({ status: 'unavailable', error: expect.stringMatching(/ECONNREFUSED|fetch failed/) });
  });

  it('does not retry a failing server inside the cooldown', async () => {
    server.answer = { status: 500, body: '' };
    const source = createRemoteJwksSource({ url: server.url, now, cooldownMs: 30_000 });
    await source.getKey('a');
    clock += 10_000;
    expect(await source.getKey('a')).toMatchObject({ status: 'unavailable', error: 'HTTP 500 Internal Server Error' });
    expect(server.requests).toBe(1);
    server.answer = { status: 200, body: JSON.stringify({ keys: [KEY_A] }) };
    clock += 21_000;
    expect(await source.getKey('a')).toMatchObject({ status: 'found' });
    expect(server.requests).toBe(2);
  });

  it('keeps serving the keys it has when a refresh fails', async () => {
    const source = createRemoteJwksSource({ url: server.url, now, ttlMs: 60_000 });
    await source.getKey('a');
    server.answer = { status: 500, body: '' };
    clock += 61_000;
    expect(await source.getKey('a')).toMatchObject({ status: 'found' });
    expect(server.requests).toBe(2);
    clock += 31_000;
    expect(await source.getKey('new')).toMatchObject({ status: 'unavailable', error: expect.stringMatching(/refresh failed, and kid "new" is not among the cached keys: HTTP 500/) });
  });

  it('gives up on a server that does not answer in time', async () => {
    const { createServer } = await import('node:http');
    const silent = createServer(() => {});
    const port = await listenOnLoopback(silent);
    try {
      const source = createRemoteJwksSource({ url: `http://127.0.0.1:${port}/jwks`, now, timeoutMs: 200 });
      expect(await source.getKey('a')).toMatchObject({ status: 'unavailable', error: 'no answer within 200 ms' });
    } finally {
      await closeServer(silent);
    }
  });
});

describe('file and static sources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gemwh-jwks-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a JWKS file once', async () => {
    const path = join(dir, 'jwks.json');
    writeFileSync(path, JSON.stringify({ keys: [KEY_A, KEY_B] }));
    const source = createFileJwksSource(path);
    expect(source.description).toBe(path);
    expect(await source.getKey('b')).toMatchObject({ status: 'found' });
    expect(await source.getKey('c')).toEqual({ status: 'unknown_kid', knownKids: ['a', 'b'] });
  });

  it('reports a missing or invalid file as unavailable', async () => {
    expect(await createFileJwksSource(join(dir, 'missing.json')).getKey('a')).toMatchObject({ status: 'unavailable', error: expect.stringMatching(/ENOENT/) });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '[]');
    expect(await createFileJwksSource(bad).getKey('a')).toMatchObject({ status: 'unavailable', error: expect.stringMatching(/not a JWKS/) });
  });

  it('validates documents', () => {
    expect(() => parseJwks({})).toThrow(/keys/);
    expect(parseJwks({ keys: [KEY_A, null, 3, { kid: 'no-kty' }] }).keys).toEqual([KEY_A]);
    expect(() => createStaticJwksSource({ keys: 'x' } as never)).toThrow();
  });
});
