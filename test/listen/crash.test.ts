import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import type { JournalRecord } from '../../src/listen/journal-records.js';
import { compiledDist } from '../helpers/dist.js';
import { startListenChild } from '../helpers/listen-child.js';
import { closedPort, startRecordingServer } from '../helpers/recording-server.js';
import { SECRET, body, signedHeaders } from './helpers.js';

/**
 * "A listener killed with SIGKILL loses no delivery it acknowledged": the real CLI in a child
 * process, a burst of deliveries, SIGKILL in the middle of it, then the journal must hold every
 * delivery that was answered 2xx, and a restarted listener must forward them all to the app.
 */

let dist: string;
let home: string;
const children = new Set<ChildProcess>();

beforeAll(() => {
  dist = compiledDist();
  home = mkdtempSync(join(tmpdir(), 'gemwh-crash-'));
}, 120_000);

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

async function startCli(args: string[]): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null> }> {
  return startListenChild({ dist, home, args, children, readyTimeoutMs: 15_000, readyFirst: true });
}

function journalRecords(file: string): JournalRecord[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as JournalRecord];
      } catch {
        return []; // the last line may be cut by the kill
      }
    });
}

describe('crash safety of the built CLI', () => {
  it('journals every acknowledged delivery before SIGKILL, and a restart forwards them all once the app is up', async () => {
    const journal = join(home, 'journal.ndjson');
    const appPort = await closedPort();
    const common = ['--secret', SECRET, '--journal', journal, '--forward', String(appPort), '--retry-initial', '100ms', '--retry-max', '300ms'];
    const first = await startCli(common);

    const acknowledged: string[] = [];
    const agent = new Agent({ connections: 16 });
    let sent = 0;
    let killed = false;
    const sendOne = async () => {
      const id = `msg_crash_${sent++}`;
      const raw = body('batch.succeeded', id);
      try {
        const response = await request(first.url, { method: 'POST', headers: signedHeaders(raw, { id }), body: raw, dispatcher: agent });
        await response.body.dump();
        if (response.statusCode === 200) acknowledged.push(id);
      } catch {
        // cut off by the kill
      }
      if (acknowledged.length >= 60 && !killed) {
        killed = true;
        first.child.kill('SIGKILL');
      }
    };
    const worker = async () => {
      while (!killed && sent < 2000) await sendOne();
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    await first.exited;
    await agent.close();

    expect(killed).toBe(true);
    expect(acknowledged.length).toBeGreaterThanOrEqual(60);
    const journaled = new Set(
      journalRecords(journal).flatMap((r) => (r.kind === 'delivery' && r.outcome === 'verified' && r.webhookId ? [r.webhookId] : [])),
    );
    const lost = acknowledged.filter((id) => !journaled.has(id));
    expect(lost).toEqual([]);

    // The killed listener left its journal lock behind; the next one takes it over.
    expect(JSON.parse(readFileSync(`${journal}.lock`, 'utf8'))).toMatchObject({ pid: first.child.pid });

    // The app comes up; the restarted listener resumes every pending forward.
    const app = await startRecordingServer(() => ({ status: 200 }), appPort);
    const second = await startCli(common);
    expect(JSON.parse(readFileSync(`${journal}.lock`, 'utf8'))).toMatchObject({ pid: second.child.pid });
    // A second listener on the same journal would resume the same forwards: refused.
    await expect(startCli(common)).rejects.toThrow(new RegExp(`exited with 2: .*the journal .* is in use by another gemwh listen \\(pid ${second.child.pid}\\)`));
    const deadline = Date.now() + 15_000;
    const reached = () => new Set(app.requests.map((r) => String(r.headers['webhook-id'])));
    while (acknowledged.some((id) => !reached().has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(existsSync(`${journal}.lock`)).toBe(false);
    await app.close();
    expect(acknowledged.filter((id) => !reached().has(id))).toEqual([]);
    // Bytes as signed: the app could verify every one itself.
    const sample = app.requests.find((r) => r.headers['webhook-id'] === acknowledged[0])!;
    expect(sample.body.toString()).toBe(body('batch.succeeded', acknowledged[0]));
  }, 60_000);
});
