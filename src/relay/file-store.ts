import { mkdir, open, readdir, readFile, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomicAsync } from '../fs/atomic-file.js';
import type { ChannelInfo, NewDelivery, RelayStore, StoredDelivery, TokenInfo } from './types.js';

/**
 * The embedded store of one relay instance: per channel an append-only log of NDJSON lines in
 * segment files (`<first id>.log`), appended with one write + fdatasync per group of concurrent
 * deliveries, so a 2xx is only sent for what is on disk. Ids count up from 1 per channel.
 * Channels and hashed tokens live in relay.json, replaced atomically; the admin commands edit it
 * directly and a running relay re-reads it when it changes.
 */

interface Meta {
  channels: Record<string, Omit<ChannelInfo, 'id'>>;
  tokens: Record<string, Omit<TokenInfo, 'id'>>;
}

interface Record_ {
  id: number;
  at: number;
  path: string;
  headers: Array<[string, string]>;
  body: string;
}

interface Segment {
  first: number;
  file: string;
}

/** Records kept in memory per channel: live clients and short catch-ups never read the disk. */
const RECENT_KEPT = 4096;
const SEGMENT_MAX_BYTES = 64 * 1024 * 1024;

class ChannelLog {
  segments: Segment[] = [];
  /** The last id given out; ids up to it may still be on their way to the disk. */
  lastId = 0;
  /** The last id on disk: what readers may see. */
  durableId = 0;
  recent: StoredDelivery[] = [];
  private handle: FileHandle | undefined;
  private handleBytes = 0;
  private segmentOpenedAt = 0;
  private pending: Array<{ line: string; resolve: () => void; reject: (e: unknown) => void }> = [];
  private flushing: Promise<void> | undefined;
  readonly waiters = new Set<() => void>();

  constructor(
    readonly dir: string,
    private readonly rotateAfterMs: number,
    private readonly now: () => number,
  ) {}

  async load(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const names = (await readdir(this.dir)).filter((n) => /^\d+\.log$/.test(n));
    this.segments = names.map((n) => ({ first: Number(n.slice(0, -4)), file: join(this.dir, n) })).sort((a, b) => a.first - b.first);
    const last = this.segments.at(-1);
    if (!last) return;
    const text = await readFile(last.file, 'utf8');
    // A relay killed mid-write leaves a torn last line: it was never acknowledged, so it is cut off.
    const complete = text.lastIndexOf('\n') + 1;
    const records = parseLines(text.slice(0, complete));
    if (complete < Buffer.byteLength(text)) {
      const handle = await open(last.file, 'r+');
      await handle.truncate(Buffer.byteLength(text.slice(0, complete)));
      await handle.close();
    }
    this.lastId = records.at(-1)?.id ?? last.first - 1;
    this.durableId = this.lastId;
    this.recent = records.slice(-RECENT_KEPT).map(toDelivery);
  }

  append(delivery: NewDelivery): Promise<string> {
    const id = ++this.lastId;
    const record: Record_ = { id, at: delivery.receivedAt, path: delivery.path, headers: delivery.headers, body: delivery.body.toString('base64') };
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ line: JSON.stringify(record) + '\n', resolve, reject });
      this.flushing ??= this.flush();
    }).then(() => {
      this.durableId = Math.max(this.durableId, id);
      this.recent.push({ ...delivery, id: String(id) });
      if (this.recent.length > RECENT_KEPT) this.recent.splice(0, this.recent.length - RECENT_KEPT);
      for (const wake of this.waiters) wake();
      return String(id);
    });
  }

  /** One write and one fdatasync for every line queued meanwhile (group commit). */
  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0);
      try {
        const firstId = (JSON.parse(batch[0]!.line) as Record_).id;
        const handle = await this.segmentFor(firstId);
        const data = batch.map((p) => p.line).join('');
        await handle.write(data);
        await handle.datasync();
        this.handleBytes += Buffer.byteLength(data);
        for (const p of batch) p.resolve();
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    this.flushing = undefined;
  }

  private async segmentFor(firstId: number): Promise<FileHandle> {
    const tooOld = this.now() - this.segmentOpenedAt > this.rotateAfterMs;
    if (this.handle && this.handleBytes < SEGMENT_MAX_BYTES && !tooOld) return this.handle;
    await this.handle?.close();
    const last = this.segments.at(-1);
    // Reuse the newest segment after a restart while it is young; otherwise start a new one.
    if (!this.handle && last) {
      const info = await stat(last.file);
      if (info.size < SEGMENT_MAX_BYTES && this.now() - info.birthtimeMs < this.rotateAfterMs) {
        this.handle = await open(last.file, 'a');
        this.handleBytes = info.size;
        this.segmentOpenedAt = info.birthtimeMs || this.now();
        return this.handle;
      }
    }
    const file = join(this.dir, `${String(firstId).padStart(16, '0')}.log`);
    this.handle = await open(file, 'a', 0o600);
    this.handleBytes = 0;
    this.segmentOpenedAt = this.now();
    this.segments.push({ first: firstId, file });
    // The new name must survive a crash too: fsync the folder.
    const dirHandle = await open(this.dir, 'r');
    await dirHandle.sync().catch(() => {});
    await dirHandle.close();
    return this.handle;
  }

  async read(after: number, limit: number): Promise<StoredDelivery[]> {
    const oldestRecent = this.recent[0] ? Number(this.recent[0].id) : Infinity;
    if (after + 1 >= oldestRecent) {
      // Ids are ascending but may have gaps (a failed write): search, do not index.
      let low = 0;
      let high = this.recent.length;
      while (low < high) {
        const mid = (low + high) >> 1;
        if (Number(this.recent[mid]!.id) <= after) low = mid + 1;
        else high = mid;
      }
      return this.recent.slice(low, low + limit);
    }
    const out: StoredDelivery[] = [];
    for (let i = 0; i < this.segments.length && out.length < limit; i++) {
      const next = this.segments[i + 1];
      if (next && next.first <= after + 1) continue;
      const text = await readFile(this.segments[i]!.file, 'utf8').catch(() => '');
      for (const record of parseLines(text.slice(0, text.lastIndexOf('\n') + 1))) {
        if (record.id > after && record.id <= this.durableId && out.length < limit) out.push(toDelivery(record));
      }
    }
    return out;
  }

  async prune(cutoff: number): Promise<void> {
    // A segment can go once the segment after it started before the cutoff: all it holds is older.
    while (this.segments.length > 1) {
      const second = this.segments[1]!;
      const firstOfNext = (await this.read(second.first - 1, 1))[0];
      if (!firstOfNext || firstOfNext.receivedAt >= cutoff) break;
      await rm(this.segments[0]!.file, { force: true });
      this.segments.shift();
    }
  }

  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.handle?.close();
    this.handle = undefined;
  }
}

function parseLines(text: string): Record_[] {
  const out: Record_[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      out.push(JSON.parse(line) as Record_);
    } catch {
      // A damaged line (disk trouble) costs that delivery only, not the channel.
    }
  }
  return out;
}

function toDelivery(record: Record_): StoredDelivery {
  return { id: String(record.id), receivedAt: record.at, path: record.path, headers: record.headers, body: Buffer.from(record.body, 'base64') };
}

export class FileRelayStore implements RelayStore {
  readonly description: string;
  private readonly logs = new Map<string, Promise<ChannelLog>>();
  private meta: { value: Meta; mtimeMs: number } | undefined;
  private readonly metaFile: string;

  constructor(
    private readonly dir: string,
    private readonly retentionMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.description = `dir ${dir}`;
    this.metaFile = join(dir, 'relay.json');
  }

  private async readMeta(): Promise<Meta> {
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(this.metaFile)).mtimeMs;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { channels: {}, tokens: {} };
      throw error;
    }
    if (this.meta && this.meta.mtimeMs === mtimeMs) return this.meta.value;
    const value = JSON.parse(await readFile(this.metaFile, 'utf8')) as Meta;
    this.meta = { value, mtimeMs };
    return value;
  }

  private async editMeta(edit: (meta: Meta) => boolean): Promise<boolean> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const meta = structuredClone(await this.readMeta());
    const changed = edit(meta);
    if (changed) {
      await writeFileAtomicAsync(this.metaFile, JSON.stringify(meta, null, 2) + '\n', { mode: 0o600 });
      this.meta = undefined;
    }
    return changed;
  }

  private log(channel: string): Promise<ChannelLog> {
    let log = this.logs.get(channel);
    if (!log) {
      const created = new ChannelLog(join(this.dir, 'channels', channel), Math.max(60_000, this.retentionMs / 8), this.now);
      log = created.load().then(() => created);
      log.catch(() => this.logs.delete(channel));
      this.logs.set(channel, log);
    }
    return log;
  }

  async append(channel: string, delivery: NewDelivery): Promise<string> {
    return (await this.log(channel)).append(delivery);
  }

  async read(channel: string, after: string | undefined, limit: number): Promise<StoredDelivery[]> {
    return (await this.log(channel)).read(after === undefined ? 0 : Number(after), limit);
  }

  async tail(channel: string): Promise<string | undefined> {
    const last = (await this.log(channel)).durableId;
    return last === 0 ? undefined : String(last);
  }

  async countAfter(channel: string, after: string | undefined, cap: number): Promise<number> {
    const log = await this.log(channel);
    const first = log.segments[0]?.first ?? 1;
    return Math.min(cap, Math.max(0, log.durableId - Math.max(after === undefined ? 0 : Number(after), first - 1)));
  }

  async waitForNew(channel: string, after: string | undefined, maxWaitMs: number, signal: AbortSignal): Promise<void> {
    const log = await this.log(channel);
    // Only what is on disk counts: waking for an id still being written would spin the reader.
    if (log.durableId > Number(after ?? 0) || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        log.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, maxWaitMs);
      log.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  isValidId(id: string): boolean {
    return /^\d{1,15}$/.test(id);
  }

  async createChannel(channel: ChannelInfo): Promise<void> {
    await this.editMeta((meta) => {
      meta.channels[channel.id] = { name: channel.name, createdAt: channel.createdAt };
      return true;
    });
  }

  async getChannel(id: string): Promise<ChannelInfo | undefined> {
    const found = (await this.readMeta()).channels[id];
    return found && Object.hasOwn((await this.readMeta()).channels, id) ? { id, ...found } : undefined;
  }

  async listChannels(): Promise<ChannelInfo[]> {
    return Object.entries((await this.readMeta()).channels).map(([id, c]) => ({ id, ...c }));
  }

  async deleteChannel(id: string): Promise<boolean> {
    const removed = await this.editMeta((meta) => {
      if (!Object.hasOwn(meta.channels, id)) return false;
      delete meta.channels[id];
      return true;
    });
    if (removed) await rm(join(this.dir, 'channels', id), { recursive: true, force: true });
    return removed;
  }

  async createToken(token: TokenInfo): Promise<void> {
    await this.editMeta((meta) => {
      meta.tokens[token.id] = { name: token.name, createdAt: token.createdAt, hash: token.hash };
      return true;
    });
  }

  async listTokens(): Promise<TokenInfo[]> {
    return Object.entries((await this.readMeta()).tokens).map(([id, t]) => ({ id, ...t }));
  }

  async findTokenByHash(hash: string): Promise<TokenInfo | undefined> {
    return (await this.listTokens()).find((t) => t.hash === hash);
  }

  async revokeToken(id: string): Promise<boolean> {
    return this.editMeta((meta) => {
      if (!Object.hasOwn(meta.tokens, id)) return false;
      delete meta.tokens[id];
      return true;
    });
  }

  async prune(now: number): Promise<void> {
    for (const log of this.logs.values()) await (await log).prune(now - this.retentionMs);
  }

  async close(): Promise<void> {
    for (const log of this.logs.values()) await (await log.catch(() => undefined))?.close();
  }
}
