import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../../src/listen/journal.js';
import {
  JOURNAL_FORMAT_VERSION,
  decodeBody,
  encodeBody,
  readJournal,
  rotatedJournalPath,
  type JournalDeliveryRecord,
  type JournalRecord,
} from '../../src/listen/journal-records.js';
import { scanJournal } from '../../src/listen/journal-scan.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gemwh-journal-'));
  dirs.push(dir);
  return join(dir, 'journal.ndjson');
}

function delivery(n: number, extra: Partial<JournalDeliveryRecord> = {}): JournalDeliveryRecord {
  return {
    kind: 'delivery',
    v: JOURNAL_FORMAT_VERSION,
    key: `s.${n}`,
    session: 's',
    seq: n,
    at: Date.now(),
    method: 'POST',
    path: '/',
    headers: [['webhook-id', `msg_${n}`]],
    ...encodeBody(Buffer.from(`{"type":"batch.succeeded","n":${n}}`)),
    bodyBytes: 30,
    status: 200,
    outcome: 'verified',
    webhookId: `msg_${n}`,
    eventType: 'batch.succeeded',
    targets: ['http://localhost:3000/'],
    ...extra,
  };
}

async function all(file: string, keep: number): Promise<JournalRecord[]> {
  const records: JournalRecord[] = [];
  for await (const record of readJournal(file, keep)) records.push(record);
  return records;
}

describe('journal', () => {
  it('keeps every line of concurrent appends intact and in append order', async () => {
    const file = tempFile();
    const journal = await Journal.open({ file, maxBytes: 1 << 24, keep: 1, fsync: false });
    await Promise.all(Array.from({ length: 200 }, (_, i) => journal.append(delivery(i))));
    await journal.close();
    const records = await all(file, 1);
    expect(records.map((r) => (r as JournalDeliveryRecord).seq)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('resolves an append only once its line is in the file', async () => {
    const file = tempFile();
    const journal = await Journal.open({ file, maxBytes: 1 << 24, keep: 1, fsync: true });
    await journal.append(delivery(1));
    expect(readFileSync(file, 'utf8')).toContain('"key":"s.1"');
    await journal.close();
  });

  it('write() calls back once per line, when its group is in the file, and with an error once closed', async () => {
    const file = tempFile();
    const journal = await Journal.open({ file, maxBytes: 1 << 24, keep: 1, fsync: false });
    const calls: Array<{ seq: number; error: unknown; inFile: boolean }> = [];
    const written = new Promise<void>((resolve) => {
      for (const seq of [1, 2, 3]) {
        journal.write(delivery(seq), (error) => {
          calls.push({ seq, error, inFile: readFileSync(file, 'utf8').includes(`"key":"s.${seq}"`) });
          if (calls.length === 3) resolve();
        });
      }
    });
    // Group-committed at the end of the loop's turn, not during write().
    expect(calls).toEqual([]);
    await written;
    expect(calls).toEqual([1, 2, 3].map((seq) => ({ seq, error: undefined, inFile: true })));
    await journal.close();
    let late: unknown;
    journal.write(delivery(4), (error) => (late = error));
    expect(late).toBeInstanceOf(Error);
    expect(readFileSync(file, 'utf8')).not.toContain('"key":"s.4"');
  });

  it('rotates at the size limit, keeps N older files, and reads them back oldest first', async () => {
    const file = tempFile();
    const lineBytes = JSON.stringify(delivery(11)).length + 1;
    const journal = await Journal.open({ file, maxBytes: lineBytes * 3, keep: 2, fsync: false });
    for (let i = 0; i < 12; i += 1) await journal.append(delivery(i));
    await journal.close();
    expect(existsSync(rotatedJournalPath(file, 1))).toBe(true);
    expect(existsSync(rotatedJournalPath(file, 2))).toBe(true);
    expect(existsSync(rotatedJournalPath(file, 3))).toBe(false);
    expect(rotatedJournalPath(file, 1)).toMatch(/journal\.1\.ndjson$/);
    const seqs = (await all(file, 2)).map((r) => (r as JournalDeliveryRecord).seq);
    // 3 files × 3 lines: the first three deliveries were rotated out.
    expect(seqs).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('skips a line cut short by a crash, and the next append starts on a fresh line', async () => {
    const file = tempFile();
    const journal = await Journal.open({ file, maxBytes: 1 << 24, keep: 1, fsync: false });
    await journal.append(delivery(1));
    await journal.close();
    appendFileSync(file, JSON.stringify(delivery(2)).slice(0, 40));
    const reopened = await Journal.open({ file, maxBytes: 1 << 24, keep: 1, fsync: false });
    await reopened.append(delivery(3));
    await reopened.close();
    const stats = { skippedLines: 0 };
    const seqs: number[] = [];
    for await (const r of readJournal(file, 1, stats)) seqs.push((r as JournalDeliveryRecord).seq);
    expect(seqs).toEqual([1, 3]);
    expect(stats.skippedLines).toBe(1);
  });

  it('stores UTF-8 bodies as text and anything else as base64, both round-tripping exactly', () => {
    const text = Buffer.from('{"a":"é ✓"}');
    const binary = Buffer.from([0x7b, 0xff, 0xc3, 0x28, 0xf0, 0x9f, 0x98]);
    expect(encodeBody(text).encoding).toBe('utf8');
    expect(encodeBody(binary).encoding).toBe('base64');
    expect(decodeBody(encodeBody(text)).equals(text)).toBe(true);
    expect(decodeBody(encodeBody(binary)).equals(binary)).toBe(true);
  });
});

describe('scanJournal', () => {
  it('finds deliveries whose targets never settled, seeds dedup, and skips old ones', async () => {
    const file = tempFile();
    const journal = await Journal.open({ file, maxBytes: 1 << 24, keep: 1, fsync: false });
    const now = Date.now();
    await journal.append(delivery(1));
    await journal.append(delivery(2));
    await journal.append(delivery(3, { at: now - 48 * 3600_000 }));
    await journal.append(delivery(4, { outcome: 'rejected', status: 401 }));
    const forward = (key: string, attempt: number, ok: boolean, final: boolean) =>
      journal.append({ kind: 'forward', v: 1, key, target: 'http://localhost:3000/', attempt, at: now, ok, latencyMs: 1, final });
    await forward('s.1', 1, false, false);
    await forward('s.1', 2, true, true);
    await forward('s.2', 1, false, false);
    await forward('s.2', 2, false, false);
    await journal.close();
    const scan = await scanJournal(file, 1, { now, dedupCapacity: 2, maxAgeMs: 24 * 3600_000, maxPending: 10 });
    expect(scan.pending.map((p) => p.record.key)).toEqual(['s.2']);
    expect(scan.pending[0]!.targets.get('http://localhost:3000/')).toBe(2);
    // Capacity 2: the two most recent accepted ids.
    expect(scan.recentIds.map((r) => r.webhookId)).toEqual(['msg_2', 'msg_3']);
  });

  it('reads back only the keys asked for, oldest first, up to a byte limit (and always at least one)', async () => {
    const file = tempFile();
    const journal = await Journal.open({ file, maxBytes: 1 << 24, keep: 1, fsync: false });
    for (let n = 1; n <= 5; n++) await journal.append(delivery(n));
    await journal.close();
    const scan = (maxPendingBodyBytes: number) =>
      scanJournal(file, 1, { now: Date.now(), dedupCapacity: 0, maxAgeMs: Infinity, maxPending: Infinity, only: new Set(['s.2', 's.4', 's.5']), maxPendingBodyBytes });
    // Each body is 30 bytes.
    const two = await scan(60);
    expect(two.pending.map((p) => p.record.key)).toEqual(['s.2', 's.4']);
    expect(two.cutShort).toBe(true);
    const all = await scan(1000);
    expect(all.pending.map((p) => p.record.key)).toEqual(['s.2', 's.4', 's.5']);
    expect(all.cutShort).toBe(false);
    const one = await scan(10);
    expect(one.pending.map((p) => p.record.key)).toEqual(['s.2']);
    expect(one.cutShort).toBe(true);
  });
});
