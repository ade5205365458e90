import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import type { JournalRecord } from '../../src/listen/journal-records.js';
import { compiledDist } from '../helpers/dist.js';
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
  const child = spawn(process.execPath, [join(dist, 'cli.js'), 'listen', '--port', '0', '--json', ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: home,
      XDG_STATE_HOME: join(home, 'state'),
      XDG_CONFIG_HOME: join(home, 'config'),
      XDG_CACHE_HOME: join(home, 'cache'),
      GEMWH_SECRET_STORE: 'file',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  void exited.then(() => children.delete(child));
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line; stderr: ${stderr}`)), 15_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      const ready = JSON.parse(line) as { type: string; url: string };
      if (ready.type !== 'ready') reject(new Error(`first line is not ready: ${line}`));
      resolve(ready.url);
    });
    child.once('exit', (code) => reject(new Error(`listen exited with ${code}: ${stderr}`)));
  });
  // Keep reading so a full pipe never blocks the child.
  lines.on('line', () => {});
  return { child, url, exited };
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
