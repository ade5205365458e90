import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ForwardAttempt } from './session-types.js';

/**
 * What the listen journal holds and how it is read back: one NDJSON line per request (accepted
 * or not) and one per forward attempt. journal.ts writes it, journal-scan.ts finds what is
 * pending in it, journal-lock.ts keeps a second listener off it, journal-check.ts checks its path.
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
