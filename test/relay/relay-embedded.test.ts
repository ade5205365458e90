import { join } from 'node:path';
import { request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, signJwt, toJwks, webhookClaims } from '../../src/core/jwt-sign.js';
import { compiledDist } from '../helpers/dist.js';
import { startJwksServer } from '../helpers/jwks-server.js';
import { perTest } from '../helpers/per-test.js';
import { header } from '../helpers/recording-server.js';
import { until } from '../helpers/until.js';
import { SECRET, newId, signedHeaders } from '../listen/helpers.js';
import { deliver, forwardedIds, listenViaRelay, payload, relayAdmin, setUpChannel, startRelay, tempDir } from './helpers.js';

/**
 * The relay with its embedded store, as a user runs it: `gemwh relay serve` in a child process,
 * `gemwh listen --relay` in-process, a recording app behind listen.
 */

const { defer, sink } = perTest();

beforeAll(() => {
  compiledDist();
}, 120_000);

describe('gemwh relay with the embedded store', () => {
  it('fans a delivery out to every client, byte-exact with its headers, and each forwards it once', async () => {
    const store = join(tempDir(defer), 'store');
    const { channel, token } = setUpChannel(store);
    const relay = await startRelay(['--port', '0', '--store', store], defer);
    const [appA, appB] = [await sink(), await sink()];
    const home = tempDir(defer);
    await listenViaRelay(defer, relay.url, channel, token, appA, join(home, 'a.ndjson'));
    await listenViaRelay(defer, relay.url, channel, token, appB, join(home, 'b.ndjson'));

    const body = payload(1) + '\n  \u00e9'; // odd bytes must survive as they are
    const headers: Record<string, string> = { ...signedHeaders(body), 'x-custom': 'kept' };
    expect(await deliver(`${relay.url}/in/${channel}/hooks?x=1`, body, headers)).toBe(200);
    for (const app of [appA, appB]) {
      await until('the app to receive the delivery', () => app.requests.length === 1 || undefined, { timeoutMs: 10_000 });
      expect(app.requests[0]!.body.toString('utf8')).toBe(body);
      expect(header(app.requests[0]!, 'webhook-id')).toBe(headers['webhook-id']);
      expect(header(app.requests[0]!, 'webhook-signature')).toBe(headers['webhook-signature']);
    }
    // Nothing with the body or the signature in the relay's log.
    expect(relay.stderr()).not.toContain(headers['webhook-signature']);
  }, 60_000);

  it('a client offline during a burst catches up from its saved position, each delivery once, even past the timestamp tolerance', async () => {
    const store = join(tempDir(defer), 'store');
    const { channel, token } = setUpChannel(store);
    const relay = await startRelay(['--port', '0', '--store', store], defer);
    const app = await sink();
    const journal = join(tempDir(defer), 'journal.ndjson');
    const first = await listenViaRelay(defer, relay.url, channel, token, app, journal, ['--tolerance', '1s']);
    const early = payload(0);
    await deliver(`${relay.url}/in/${channel}`, early);
    await until('the first delivery', () => app.requests.length === 1 || undefined, { timeoutMs: 10_000 });
    await first.stop();

    const ids: string[] = [];
    for (let n = 1; n <= 20; n++) {
      const headers = signedHeaders(payload(n), { id: newId() });
      ids.push(headers['webhook-id']!);
      expect(await deliver(`${relay.url}/in/${channel}`, payload(n), headers)).toBe(200);
    }
    // Older than the 1 s tolerance when listen sees them: freshness counts from the relay's receipt.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const second = await listenViaRelay(defer, relay.url, channel, token, app, journal, ['--tolerance', '1s']);
    await until('every delivery of the burst', () => app.requests.length >= 21 || undefined, { timeoutMs: 15_000, describe: () => second.t.stdout() });
    expect(second.lines().some((l) => l.type === 'warning' && /catching up 20/.test(String(l.message)))).toBe(true);
    expect(forwardedIds(app).slice(1)).toEqual(ids);
    expect(second.lines().filter((l) => l.type === 'rejected')).toEqual([]);
  }, 60_000);

  it('keeps every delivery it answered 2xx when SIGKILLed mid-burst; a restarted relay delivers them all', async () => {
    const store = join(tempDir(defer), 'store');
    const { channel, token } = setUpChannel(store);
    const relay = await startRelay(['--port', '0', '--store', store], defer);
    const port = new URL(relay.url).port;
    const app = await sink();
    const journal = join(tempDir(defer), 'journal.ndjson');
    // Connected once (its position saved), then offline: what it gets later comes from the disk.
    await (await listenViaRelay(defer, relay.url, channel, token, app, journal)).stop();

    const acked: string[] = [];
    const send = (n: number) => {
      const headers = signedHeaders(payload(n), { id: newId() });
      return deliver(`${relay.url}/in/${channel}`, payload(n), headers).then(
        (status) => void (status === 200 && acked.push(headers['webhook-id']!)),
        () => {},
      );
    };
    // Three batches answered, then the kill lands while the fourth is in flight.
    for (let batch = 0; batch < 4; batch++) {
      const sends = Array.from({ length: 10 }, (_, i) => send(batch * 10 + i));
      if (batch === 3) relay.child.kill('SIGKILL');
      await Promise.all(sends);
    }
    await relay.exited;
    expect(acked.length).toBeGreaterThan(0);
    await startRelay(['--port', port, '--store', store], defer);
    const listen = await listenViaRelay(defer, relay.url, channel, token, app, journal);
    await until('every acknowledged delivery at the app', () => acked.every((id) => forwardedIds(app).includes(id)) || undefined, {
      timeoutMs: 20_000,
      describe: () => `${acked.length} acked, ${app.requests.length} forwarded\n${listen.t.stdout()}`,
    });
    expect(new Set(forwardedIds(app)).size).toBe(app.requests.length);
  }, 60_000);

  it('SIGTERM finishes the deliveries being stored: each one answered 200 reaches a client later', async () => {
    const store = join(tempDir(defer), 'store');
    const { channel, token } = setUpChannel(store);
    const relay = await startRelay(['--port', '0', '--store', store], defer);
    const app = await sink();
    const journal = join(tempDir(defer), 'journal.ndjson');
    await (await listenViaRelay(defer, relay.url, channel, token, app, journal)).stop();
    const acked: string[] = [];
    const sends = Array.from({ length: 30 }, (_, n) => {
      const headers = signedHeaders(payload(n), { id: newId() });
      return deliver(`${relay.url}/in/${channel}`, payload(n), headers).then(
        (status) => void (status === 200 && acked.push(headers['webhook-id']!)),
        () => {},
      );
    });
    await until('a first delivery stored', () => acked.length > 0 || undefined, { timeoutMs: 10_000 });
    const port = new URL(relay.url).port;
    const code = await relay.kill('SIGTERM');
    await Promise.all(sends);
    expect(relay.stderr()).toContain('stopping');
    expect(code).not.toBeNull();
    // The same URL: a client's position belongs to the relay it came from.
    const again = await startRelay(['--port', port, '--store', store], defer);
    await listenViaRelay(defer, again.url, channel, token, app, journal);
    await until('every acknowledged delivery at the app', () => acked.every((id) => forwardedIds(app).includes(id)) || undefined, { timeoutMs: 20_000 });
    expect(new Set(forwardedIds(app)).size).toBe(app.requests.length);
  }, 60_000);

  it('refuses a forged delivery at the edge when verification is on, and stores a genuine one', async () => {
    const store = join(tempDir(defer), 'store');
    const { channel } = setUpChannel(store);
    const relay = await startRelay(['--port', '0', '--store', store, '--verify-secret-env', 'WEBHOOK_SECRET'], defer, { WEBHOOK_SECRET: SECRET });
    const body = payload(1);
    const forged = signedHeaders(body, { secret: 'whsec_' + Buffer.alloc(32, 9).toString('base64') });
    expect(await deliver(`${relay.url}/in/${channel}`, body, forged)).toBe(401);
    expect(await deliver(`${relay.url}/in/${channel}`, body, { ...signedHeaders(body), 'webhook-signature': 'v1,AAAA' })).toBe(401);
    expect(await deliver(`${relay.url}/in/${channel}`, body)).toBe(200);
    expect(await deliver(`${relay.url}/in/AAAAAAAAAAAAAAAAAAAAAA`, body)).toBe(404);
    const health = await request(`${relay.url}/healthz`);
    expect({ status: health.statusCode, body: await health.body.json() }).toEqual({ status: 200, body: { ok: true, store: 'dir', clients: 0 } });
    expect(relay.stderr()).toContain('no_matching_signature');
    expect(relay.stderr()).not.toContain(forged['webhook-signature']);
  }, 30_000);

  it('with --jwks-url, refuses a dynamic delivery whose JWT the keys do not verify', async () => {
    const [key, otherKey] = await Promise.all([generateSigningKey(), generateSigningKey()]);
    const jwks = await startJwksServer(toJwks([key]));
    defer(() => jwks.close());
    const store = join(tempDir(defer), 'store');
    const { channel } = setUpChannel(store);
    const relay = await startRelay(['--port', '0', '--store', store, '--jwks-url', jwks.url], defer);
    const body = JSON.stringify({ type: 'interaction.completed', version: 'v1', timestamp: '2026-05-04T12:00:00Z', data: { id: 'interactions/1' } });
    const headers = async (signer: typeof key) => {
      const id = newId();
      const claims = webhookClaims({ event: JSON.parse(body), body, webhookId: id, audience: 'https://hooks.example.com/gemini', issuedAt: Math.floor(Date.now() / 1000) });
      return { 'content-type': 'application/json', 'webhook-id': id, 'webhook-signature': await signJwt(claims, signer) };
    };
    expect(await deliver(`${relay.url}/in/${channel}`, body, await headers(otherKey))).toBe(401);
    expect(await deliver(`${relay.url}/in/${channel}`, body, await headers(key))).toBe(200);
  }, 30_000);

  it('refuses a missing, wrong or revoked token, and ends the stream of a token revoked while connected', async () => {
    const store = join(tempDir(defer), 'store');
    const { channel, token, tokenId } = setUpChannel(store);
    const relay = await startRelay(['--port', '0', '--store', store], defer);
    const subscribe = (authorization?: string) =>
      request(`${relay.url}/c/${channel}`, { headers: authorization ? { authorization } : {} }).then(async (r) => {
        if (r.statusCode !== 200) await r.body.text();
        return r;
      });
    expect((await subscribe()).statusCode).toBe(401);
    expect((await subscribe('Bearer gwr_wrong')).statusCode).toBe(401);
    const open = await subscribe(`Bearer ${token}`);
    expect(open.statusCode).toBe(200);
    expect(relayAdmin(['token', 'revoke', tokenId, '--store', store]).code).toBe(0);
    expect(await open.body.text()).toContain('revoked');
    expect((await subscribe(`Bearer ${token}`)).statusCode).toBe(401);
    expect(relayAdmin(['token', 'revoke', tokenId, '--store', store]).code).not.toBe(0);
  }, 30_000);

  it('applies --relay-filter at the relay: event type and user_metadata', async () => {
    const store = join(tempDir(defer), 'store');
    const { channel, token } = setUpChannel(store);
    const relay = await startRelay(['--port', '0', '--store', store], defer);
    const app = await sink();
    await listenViaRelay(defer, relay.url, channel, token, app, join(tempDir(defer), 'j.ndjson'), ['--relay-filter', 'type=batch.*', '--relay-filter', 'owner=alice']);
    await deliver(`${relay.url}/in/${channel}`, payload(1, { owner: 'bob' }));
    await deliver(`${relay.url}/in/${channel}`, payload(2, { owner: 'alice' }));
    await until('alice’s delivery', () => app.requests.length === 1 || undefined, { timeoutMs: 10_000 });
    expect(app.requests[0]!.body.toString()).toContain('alice');
  }, 30_000);
});
