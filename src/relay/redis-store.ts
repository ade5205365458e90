import type { Redis } from 'ioredis';
import type { ChannelInfo, NewDelivery, RelayStore, StoredDelivery, TokenInfo } from './types.js';

/**
 * The store for several relay instances behind a load balancer: one Redis stream per channel
 * (XADD … MINID ~ trims by retention as it goes), channels and hashed tokens in two hashes. Any
 * instance can serve any client because the position a client resumes from is the stream id.
 * ioredis is imported lazily: the embedded store and every other command never load it.
 */

const PREFIX = 'gemwh:relay:';
const CHANNELS = `${PREFIX}channels`;
const TOKENS = `${PREFIX}tokens`;
const streamKey = (channel: string) => `${PREFIX}stream:${channel}`;
const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

export async function openRedisStore(url: string, retentionMs: number, now: () => number = Date.now): Promise<RelayStore> {
  const { Redis } = await import('ioredis');
  // Fail fast and say so instead of queueing commands forever while Redis is unreachable.
  const options = { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true, connectTimeout: 5000 };
  const client = new Redis(url, options);
  client.on('error', () => {});
  await client.connect();
  return new RedisRelayStore(client, () => {
    const blocking = new Redis(url, { ...options, lazyConnect: false });
    blocking.on('error', () => {});
    return blocking;
  }, url.replace(/\/\/[^@/]*@/, '//…@'), retentionMs, now);
}

interface Watcher {
  lastSeen: string;
  waiters: Set<() => void>;
  idle?: NodeJS.Timeout;
  stop: () => void;
}

class RedisRelayStore implements RelayStore {
  readonly description: string;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly watchers = new Map<string, Watcher>();

  constructor(
    private readonly client: Redis,
    private readonly newBlockingClient: () => Redis,
    url: string,
    private readonly retentionMs: number,
    private readonly now: () => number,
  ) {
    this.description = `redis ${url}`;
  }

  async append(channel: string, delivery: NewDelivery): Promise<string> {
    const meta = JSON.stringify({ at: delivery.receivedAt, path: delivery.path, headers: delivery.headers });
    const minId = Math.max(0, this.now() - this.retentionMs);
    const work = this.client.xadd(streamKey(channel), 'MINID', '~', String(minId), '*', 'm', meta, 'b', delivery.body) as Promise<string | null>;
    this.inFlight.add(work);
    try {
      const id = await work;
      if (id === null) throw new Error('Redis did not store the delivery');
      return id;
    } finally {
      this.inFlight.delete(work);
    }
  }

  async read(channel: string, after: string | undefined, limit: number): Promise<StoredDelivery[]> {
    const rows = await this.client.xrangeBuffer(streamKey(channel), after === undefined ? '-' : `(${after}`, '+', 'COUNT', limit);
    return rows.map(([id, fields]) => {
      const map = new Map<string, Buffer>();
      for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!.toString(), fields[i + 1]!);
      const meta = JSON.parse(map.get('m')?.toString('utf8') ?? '{}') as { at: number; path: string; headers: Array<[string, string]> };
      return { id: id.toString(), receivedAt: meta.at, path: meta.path, headers: meta.headers, body: map.get('b') ?? Buffer.alloc(0) };
    });
  }

  async tail(channel: string): Promise<string | undefined> {
    const rows = await this.client.xrevrange(streamKey(channel), '+', '-', 'COUNT', 1);
    return rows[0]?.[0];
  }

  async countAfter(channel: string, after: string | undefined, cap: number): Promise<number> {
    if (after === undefined) return Math.min(cap, await this.client.xlen(streamKey(channel)));
    // Ids only would be cheaper, but streams have no such read: count a bounded page.
    const rows = await this.client.xrange(streamKey(channel), `(${after}`, '+', 'COUNT', cap);
    return rows.length;
  }

  async waitForNew(channel: string, after: string | undefined, maxWaitMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const watcher = this.watch(channel, after);
    if (after === undefined ? watcher.lastSeen !== '0-0' : compareIds(watcher.lastSeen, after) > 0) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        watcher.waiters.delete(done);
        signal.removeEventListener('abort', done);
        // A connection per wake-up would cost more than the wait: keep it a while for the next one.
        if (watcher.waiters.size === 0) {
          clearTimeout(watcher.idle);
          watcher.idle = setTimeout(() => {
            if (watcher.waiters.size > 0) return;
            watcher.stop();
            this.watchers.delete(channel);
          }, 30_000);
          watcher.idle.unref();
        }
        resolve();
      };
      const timer = setTimeout(done, maxWaitMs);
      clearTimeout(watcher.idle);
      watcher.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** One blocking XREAD per channel per instance, shared by every client of that channel here. */
  private watch(channel: string, after: string | undefined): Watcher {
    const existing = this.watchers.get(channel);
    if (existing) return existing;
    const blocking = this.newBlockingClient();
    let stopped = false;
    const watcher: Watcher = {
      lastSeen: after ?? '0-0',
      waiters: new Set(),
      stop: () => {
        stopped = true;
        clearTimeout(watcher.idle);
        blocking.disconnect();
      },
    };
    this.watchers.set(channel, watcher);
    void (async () => {
      while (!stopped) {
        try {
          const result = await blocking.xread('COUNT', 1, 'BLOCK', 5000, 'STREAMS', streamKey(channel), watcher.lastSeen);
          const entry = result?.[0]?.[1]?.at(-1);
          if (entry) {
            watcher.lastSeen = entry[0];
            for (const wake of [...watcher.waiters]) wake();
          }
        } catch {
          if (stopped) return;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    })();
    return watcher;
  }

  isValidId(id: string): boolean {
    return STREAM_ID.test(id);
  }

  async createChannel(channel: ChannelInfo): Promise<void> {
    await this.client.hset(CHANNELS, channel.id, JSON.stringify({ name: channel.name, createdAt: channel.createdAt }));
  }

  async getChannel(id: string): Promise<ChannelInfo | undefined> {
    const raw = await this.client.hget(CHANNELS, id);
    return raw === null ? undefined : { id, ...(JSON.parse(raw) as Omit<ChannelInfo, 'id'>) };
  }

  async listChannels(): Promise<ChannelInfo[]> {
    const all = await this.client.hgetall(CHANNELS);
    return Object.entries(all).map(([id, raw]) => ({ id, ...(JSON.parse(raw) as Omit<ChannelInfo, 'id'>) }));
  }

  async deleteChannel(id: string): Promise<boolean> {
    const removed = await this.client.hdel(CHANNELS, id);
    await this.client.del(streamKey(id));
    return removed > 0;
  }

  async createToken(token: TokenInfo): Promise<void> {
    await this.client.hset(TOKENS, token.id, JSON.stringify({ name: token.name, createdAt: token.createdAt, hash: token.hash }));
  }

  async listTokens(): Promise<TokenInfo[]> {
    const all = await this.client.hgetall(TOKENS);
    return Object.entries(all).map(([id, raw]) => ({ id, ...(JSON.parse(raw) as Omit<TokenInfo, 'id'>) }));
  }

  async findTokenByHash(hash: string): Promise<TokenInfo | undefined> {
    return (await this.listTokens()).find((t) => t.hash === hash);
  }

  async revokeToken(id: string): Promise<boolean> {
    return (await this.client.hdel(TOKENS, id)) > 0;
  }

  async prune(now: number): Promise<void> {
    const minId = String(Math.max(0, now - this.retentionMs));
    for (const channel of await this.listChannels()) await this.client.xtrim(streamKey(channel.id), 'MINID', '~', minId);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    for (const watcher of this.watchers.values()) watcher.stop();
    this.watchers.clear();
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}
