import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compiledDist } from '../helpers/dist.js';
import { perTest } from '../helpers/per-test.js';
import { until } from '../helpers/until.js';
import { newId, signedHeaders } from '../listen/helpers.js';
import { deliver, forwardedIds, listenViaRelay, payload, redisAvailable, redisRequired, relayAdmin, setUpChannel, startBalancer, startRedis, startRelay, tempDir } from './helpers.js';

/**
 * The relay on Redis Streams with several instances: a real redis-server on a private port, relay
 * processes of the built CLI, a TCP balancer in front of them as a load balancer would be.
 */

const { defer, sink } = perTest();
const available = redisAvailable();
if (!available && redisRequired()) throw new Error('redis-server is not installed, and CI=true or GEMWH_REQUIRE_REDIS=1 requires the Redis tests');

beforeAll(() => {
  compiledDist();
}, 120_000);

describe.skipIf(!available)('gemwh relay on Redis Streams', () => {
  it('two instances on one Redis: the instance a client streams from dies mid-stream, it resumes on the other and receives everything once', async () => {
    const redis = await startRedis(defer);
    const { channel, token } = setUpChannel(redis);
    const a = await startRelay(['--port', '0', '--store', redis], defer);
    const b = await startRelay(['--port', '0', '--store', redis], defer);
    const balancer = await startBalancer([a.url, b.url], defer);
    const app = await sink();
    await listenViaRelay(defer, balancer, channel, token, app, join(tempDir(defer), 'journal.ndjson'));

    const ids: string[] = [];
    const send = async (ingest: string, n: number) => {
      const headers = signedHeaders(payload(n), { id: newId() });
      expect(await deliver(`${ingest}/in/${channel}`, payload(n), headers)).toBe(200);
      ids.push(headers['webhook-id']!);
    };
    // Ingest lands on either instance; the client streams from a (first in the balancer).
    for (let n = 0; n < 20; n++) await send(n % 2 === 0 ? a.url : b.url, n);
    await until('the first deliveries streamed', () => app.requests.length >= 5 || undefined, { timeoutMs: 10_000 });
    await a.kill('SIGKILL');
    for (let n = 20; n < 40; n++) await send(b.url, n);
    await until('all 40 deliveries', () => app.requests.length >= 40 || undefined, { timeoutMs: 20_000, describe: () => `${app.requests.length} forwarded` });
    expect([...forwardedIds(app)].sort()).toEqual([...ids].sort());
    expect(new Set(forwardedIds(app)).size).toBe(40);
  }, 60_000);

  it('a client offline during a burst catches up from its position; channels and tokens are shared by every instance', async () => {
    const redis = await startRedis(defer);
    const { channel, token, tokenId } = setUpChannel(redis);
    const relay = await startRelay(['--port', '0', '--store', redis], defer);
    const app = await sink();
    const journal = join(tempDir(defer), 'journal.ndjson');
    await (await listenViaRelay(defer, relay.url, channel, token, app, journal)).stop();
    const ids: string[] = [];
    for (let n = 0; n < 15; n++) {
      const headers = signedHeaders(payload(n), { id: newId() });
      ids.push(headers['webhook-id']!);
      expect(await deliver(`${relay.url}/in/${channel}`, payload(n), headers)).toBe(200);
    }
    const listen = await listenViaRelay(defer, relay.url, channel, token, app, journal);
    await until('the burst', () => app.requests.length >= 15 || undefined, { timeoutMs: 15_000 });
    expect(forwardedIds(app)).toEqual(ids);
    expect(listen.lines().some((l) => l.type === 'warning' && /catching up 15/.test(String(l.message)))).toBe(true);
    expect(JSON.parse(relayAdmin(['channel', 'list', '--store', redis, '--json']).stdout)).toHaveLength(1);
    expect(relayAdmin(['token', 'revoke', tokenId, '--store', redis]).code).toBe(0);
    await listen.waitFor((l) => l.type === 'warning' && /revoked/.test(String(l.message)), 'the revocation to reach the client', 10_000);
  }, 60_000);
});
