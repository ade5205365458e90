import { isUtf8 } from 'node:buffer';
import { closeSync, createReadStream, fdatasync, fstatSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ForwardAttempt } from './session-types.js';

/**
 * The listen journal: one NDJSON line per request (accepted or not) and one per forward attempt,
 * appended, never rewritten. It is what `replay delivery` re-sends and what a restarted listener
 * resumes forwards from.
 *
 * Durability: a delivery is acknowledged only after its line has been handed to the OS with
 * write(2). The page cache survives the process being killed (SIGKILL, a crash); only a power
 * loss or kernel crash can lose it, which `fsync: true` closes at a cost (see the listen bench).
 * Concurrent appends are group-committed: the lines appended during one turn of the event loop
 * go out in a single write at its end (and, with fsync, share one fdatasync).
 */

export const JOURNAL_FORMAT_VERSION = 1;

export type BodyEncoding = 'utf8' | 'base64';

export interface JournalDeliveryRecord {
  kind: 'delivery';
  v: number;
  /** Unique across runs: `<session>.<seq>`. Forward records point back to it. */
  key: string;
  session: string;
  seq: number;
  /** Epoch ms when the request arrived. */
  at: number;
  method: string;
  path: string;
  headers: Array<[string, string]>;
  encoding: BodyEncoding;
  body: string;
  bodyBytes: number;
  /** True when only the start of the body was read (413). */
  truncated?: boolean;
  /** The status the listener answered. */
  status: number;
  outcome: 'verified' | 'rejected' | 'duplicate';
  reason?: string;
  explanation?: string;
  webhookId?: string;
  eventType?: string;
  scheme?: 'static' | 'dynamic';
  matched?: { label: string; inGrace: boolean };
  /** Where it was to be forwarded (full URLs); empty or absent when it was not. */
  targets?: string[];
  /** For a duplicate: the key of the first delivery with the same webhook-id, when known. */
  duplicateOf?: string;
  /** Verified dynamic deliveries: what besides webhookId they are deduplicated on (the JWT's jti and signature). */
  dedupKeys?: string[];
}

/** One forward attempt (the same fields the session reports), keyed to its delivery record. */
export interface JournalForwardRecord extends ForwardAttempt {
  kind: 'forward';
  v: number;
  /** The delivery record's key. */
  key: string;
  webhookId?: string;
  /** True when no retry follows (success, or an answer that retrying cannot change). */
  final: boolean;
}

export type JournalRecord = JournalDeliveryRecord | JournalForwardRecord;

export interface JournalOptions {
  file: string;
  /** Rotate once the file would grow beyond this many bytes. */
  maxBytes: number;
  /** How many rotated files (FILE.1 … FILE.N) to keep besides the current one. */
  keep: number;
  /** fdatasync after every group commit (survives power loss; slower). */
  fsync: boolean;
}

export const DEFAULT_JOURNAL_MAX_BYTES = 16 * 1024 * 1024;
export const DEFAULT_JOURNAL_KEEP = 4;

/** `journal.ndjson` → `journal.1.ndjson`; a name without extension gets `.1` appended. */
export function rotatedJournalPath(file: string, index: number): string {
  const ext = extname(file);
  const stem = ext ? file.slice(0, -ext.length) : file;
  return `${stem}.${index}${ext}`;
}

/** Every journal file, oldest first (FILE.keep … FILE.1, FILE). Missing ones are included; readers skip them. */
export function journalFilesOldestFirst(file: string, keep: number): string[] {
  const files: string[] = [];
  for (let i = keep; i >= 1; i -= 1) files.push(rotatedJournalPath(file, i));
  files.push(file);
  return files;
}

/** `decoded`: the body's UTF-8 text when the caller already decoded it, null when it is not UTF-8. */
export function encodeBody(body: Buffer, decoded?: string | null): { encoding: BodyEncoding; body: string } {
  const text = decoded === undefined ? (isUtf8(body) ? body.toString('utf8') : null) : decoded;
  return text !== null ? { encoding: 'utf8', body: text } : { encoding: 'base64', body: body.toString('base64') };
}

export function decodeBody(record: Pick<JournalDeliveryRecord, 'encoding' | 'body'>): Buffer {
  return Buffer.from(record.body, record.encoding === 'base64' ? 'base64' : 'utf8');
}

interface Pending {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** The group buffer's usual size; one grown for a huge line is not kept beyond LARGEST_KEPT_BYTES. */
const GROUP_BUFFER_BYTES = 64 * 1024;
const LARGEST_KEPT_BYTES = 1024 * 1024;

export class Journal {
  readonly file: string;
  private fd: number | undefined;
  private size = 0;
  private queue: Pending[] = [];
  /** The lines of the group being formed, UTF-8 encoded straight into one buffer reused from group to group. */
  private group = Buffer.allocUnsafe(GROUP_BUFFER_BYTES);
  private groupBytes = 0;
  private scheduled = false;
  /** An fdatasync in flight (fsync mode); the next group waits for it. */
  private syncing: Promise<void> | undefined;
  private closed = false;

  private constructor(private readonly options: JournalOptions) {
    this.file = options.file;
  }

  /** The folder must exist: checkJournalFile (journal-check.ts) makes it, one level at a time. */
  static async open(options: JournalOptions): Promise<Journal> {
    const journal = new Journal(options);
    journal.openFile();
    return journal;
  }

  /**
   * Resolves once the record's line has been written to the file (and fsynced with `fsync`).
   * Lines appended during one turn of the event loop are written together at the end of it.
   */
  append(record: JournalRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error('journal is closed'));
    const line = JSON.stringify(record);
    // At most 3 bytes per UTF-16 unit (JSON.stringify leaves no lone surrogate), plus the newline.
    const room = line.length * 3 + 1;
    if (this.groupBytes + room > this.group.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.group.length * 2, this.groupBytes + room));
      this.group.copy(grown, 0, 0, this.groupBytes);
      this.group = grown;
    }
    this.groupBytes += this.group.write(line, this.groupBytes, 'utf8');
    this.group[this.groupBytes++] = 0x0a;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.commit());
      }
    });
  }

  /** Writes what is queued, then closes the file. Later appends are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.commit();
    await this.syncing;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private openFile(): void {
    // 0600: bodies and signature headers are not secret-grade, but they are the user's data.
    this.fd = openSync(this.file, 'a+', 0o600);
    this.size = fstatSync(this.fd).size;
    if (this.size > 0) {
      // A listener killed mid-write can leave a line without its newline; the next record must
      // not be glued onto it (that would make both unreadable).
      const last = Buffer.alloc(1);
      readSync(this.fd, last, 0, 1, this.size - 1);
      if (last[0] !== 0x0a) this.writeAll(Buffer.from('\n'));
    }
  }

  /**
   * One write(2) for the whole group, on the main thread: a page-cache write of a few kilobytes
   * takes microseconds, while a round trip through libuv's thread pool costs far more under load
   * (measured in the listen bench). Only the fsync, which can take milliseconds, goes off-thread.
   */
  private async commit(): Promise<void> {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const group = this.queue;
    this.queue = [];
    const data = this.group.subarray(0, this.groupBytes);
    this.groupBytes = 0;
    try {
      try {
        if (this.size > 0 && this.size + data.length > this.options.maxBytes) this.rotate();
        this.writeAll(data);
      } finally {
        // Written (or failed) synchronously: the buffer is free for the next group.
        if (this.group.length > LARGEST_KEPT_BYTES) this.group = Buffer.allocUnsafe(GROUP_BUFFER_BYTES);
      }
      if (this.options.fsync) {
        // Groups keep forming while a sync runs; each waits for the sync before its own.
        const previous = this.syncing;
        const sync = (async () => {
          await previous;
          await datasync(this.fd!);
        })();
        this.syncing = sync;
        await sync;
        if (this.syncing === sync) this.syncing = undefined;
      }
      for (const p of group) p.resolve();
    } catch (error) {
      for (const p of group) p.reject(error);
    }
  }

  private writeAll(data: Buffer): void {
    if (this.fd === undefined) throw new Error('journal is not open');
    let offset = 0;
    while (offset < data.length) offset += writeSync(this.fd, data, offset, data.length - offset);
    this.size += data.length;
  }

  private rotate(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    const keep = this.options.keep;
    if (keep <= 0) {
      unlinkIfPresent(this.file);
    } else {
      unlinkIfPresent(rotatedJournalPath(this.file, keep));
      for (let i = keep - 1; i >= 1; i -= 1) renameIfPresent(rotatedJournalPath(this.file, i), rotatedJournalPath(this.file, i + 1));
      renameIfPresent(this.file, rotatedJournalPath(this.file, 1));
    }
    this.openFile();
  }
}

function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}

function unlinkIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    ignoreMissing(error);
  }
}

function renameIfPresent(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    ignoreMissing(error);
  }
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}

export interface ReadJournalStats {
  /** Lines that did not parse as a record (a line torn by a crash, foreign content). */
  skippedLines: number;
}

/**
 * Reads every record, oldest file first, line by line (a file is never loaded whole). Lines that
 * do not parse are counted and skipped: the last line of a killed listener may be cut short.
 */
export async function* readJournal(file: string, keep: number, stats?: ReadJournalStats): AsyncGenerator<JournalRecord> {
  for (const path of journalFilesOldestFirst(file, keep)) {
    // Only regular files: a journal pointed at a device (/dev/null, /dev/full) has nothing to read back.
    if (!(await isRegularFile(path))) continue;
    const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line === '') continue;
      const record = parseRecord(line);
      if (record) yield record;
      else if (stats) stats.skippedLines += 1;
    }
  }
}

function parseRecord(line: string): JournalRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Partial<JournalRecord>;
  if (typeof record.key !== 'string') return undefined;
  if (record.kind === 'delivery' && typeof record.body === 'string' && Array.isArray(record.headers)) {
    return record as JournalDeliveryRecord;
  }
  if (record.kind === 'forward' && typeof record.target === 'string') return record as JournalForwardRecord;
  return undefined;
}

async function isRegularFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The default journal location: `<state dir>/journal.ndjson`. */
export function defaultJournalPath(stateDir: string): string {
  return join(stateDir, 'journal.ndjson');
}

/**
 * Where `listen --emulator` journals by default. Its deliveries are signed with the emulator's
 * secret: in the user's journal a later `listen` would resume them into the real app (which
 * refuses them) and `replay delivery --last` would pick them.
 */
export function emulatorJournalPath(stateDir: string): string {
  return join(stateDir, 'emulator-journal.ndjson');
}
