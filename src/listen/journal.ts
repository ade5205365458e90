import { closeSync, fdatasync, fstatSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { rotatedJournalPath, type JournalOptions, type JournalRecord } from './journal-records.js';

// The record shapes and readers live in journal-records.ts; re-exported for imports written before the split.
export * from './journal-records.js';

/**
 * The listen journal's writer (the records are in journal-records.ts): one NDJSON line per request (accepted or not) and one per forward attempt,
 * appended, never rewritten. It is what `replay delivery` re-sends and what a restarted listener
 * resumes forwards from.
 *
 * Durability: a delivery is acknowledged only after its line has been handed to the OS with
 * write(2). The page cache survives the process being killed (SIGKILL, a crash); only a power
 * loss or kernel crash can lose it, which `fsync: true` closes at a cost (see the listen bench).
 * Concurrent appends are group-committed: the lines appended during one turn of the event loop
 * go out in a single write at its end (and, with fsync, share one fdatasync).
 */

/** Told once its line is written (no argument) or could not be (the error). Must not throw. */
export type Written = (error?: unknown) => void;

/** The group buffer's usual size; one grown for a huge line is not kept beyond LARGEST_KEPT_BYTES. */
const GROUP_BUFFER_BYTES = 64 * 1024;
const LARGEST_KEPT_BYTES = 1024 * 1024;

export class Journal {
  readonly file: string;
  private fd: number | undefined;
  private size = 0;
  private queue: Written[] = [];
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
    return new Promise<void>((resolve, reject) => this.write(record, (error) => (error === undefined ? resolve() : reject(error))));
  }

  /**
   * append() with a callback instead of a promise: a session writes a line per request, and a
   * promise with its microtask per line is a measurable part of what a delivery costs.
   */
  write(record: JournalRecord, written: Written): void {
    if (this.closed) return written(new Error('journal is closed'));
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
    this.queue.push(written);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => void this.commit());
    }
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
    } catch (error) {
      for (const written of group) written(error);
      return;
    }
    for (const written of group) written();
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

