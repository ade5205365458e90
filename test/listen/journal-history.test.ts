import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/listen/journal.js';
import { JOURNAL_FORMAT_VERSION, rotatedJournalPath, type JournalDeliveryRecord } from '../../src/listen/journal-records.js';
import { findDelivery, forwardStatus, listHistory } from '../../src/listen/journal-history.js';

let dir: string;
let file: string;
const TARGET = 'http://localhost:3000/hooks';

function delivery(key: string, overrides: Partial<JournalDeliveryRecord> = {}): JournalDeliveryRecord {
  return {
    kind: 'delivery', v: JOURNAL_FORMAT_VERSION, key, session: key.split('.')[0]!, seq: Number(key.split('.')[1]), at: 1_000,
    method: 'POST', path: '/hooks', headers: [], encoding: 'utf8', body: '{}', bodyBytes: 2, status: 200, outcome: 'verified',
    webhookId: `msg_${key}`, eventType: 'batch.succeeded', targets: [TARGET], ...overrides,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gemwh-history-'));
  file = join(dir, 'journal.ndjson');
  // Small files, so the history spans a rotated file and the current one.
  const journal = await Journal.open({ file, maxBytes: 600, keep: 3, fsync: false });
  const forward = (key: string, attempt: number, ok: boolean, final: boolean, status?: number) =>
    journal.append({ kind: 'forward', v: JOURNAL_FORMAT_VERSION, key, target: TARGET, attempt, at: 2_000, ok, status, latencyMs: 1, final });
  await journal.append(delivery('s1.1'));
  await forward('s1.1', 1, false, false, 503);
  await forward('s1.1', 2, true, true, 200);
  await journal.append(delivery('s1.2'));
  await forward('s1.2', 1, false, false, 503);
  await journal.append(delivery('s1.3', { targets: [] }));
  await journal.close();
  expect(existsSync(rotatedJournalPath(file, 1))).toBe(true);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the journal as a history', () => {
  it('follows a delivery across rotated files: retried then ok, still pending, not forwarded', async () => {
    const { entries } = await listHistory(file, 3, { types: [], verdicts: [], forwardStatuses: [] });
    expect(entries.map((e) => [e.record.key, forwardStatus(e), e.forwards.length])).toEqual([
      ['s1.1', 'ok', 2],
      ['s1.2', 'pending', 1],
      ['s1.3', 'none', 0],
    ]);
    const pending = await listHistory(file, 3, { types: [], verdicts: [], forwardStatuses: ['pending'] });
    expect(pending.entries.map((e) => e.record.key)).toEqual(['s1.2']);
  });

  it('finds one by key prefix with all its attempts', async () => {
    const found = await findDelivery(file, 3, { kind: 'id', id: 'msg_s1.1' });
    expect(found.forwards.map((f) => f.status)).toEqual([503, 200]);
    await expect(findDelivery(file, 3, { kind: 'id', id: 's1.' })).rejects.toThrow(/matches 3 deliveries/);
  });
});
