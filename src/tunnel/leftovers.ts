import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostLabel, type TempWebhookOwner } from '../listen/public-url.js';
import { killGroup } from './child.js';

/**
 * A tunnel outlives a gemwh killed with SIGKILL (nothing runs then). Each running tunnel has a pid
 * file, <state>/tunnels/<host>-<gemwh pid>.json; the next `listen --tunnel` on this machine stops
 * the tunnels of gemwh processes that are gone, as it removes their temporary webhooks.
 */

interface PidRecord {
  owner: number;
  child: number;
  /** The executable, checked against the running process so that a reused pid is left alone. */
  file: string;
}

export function tunnelPidFile(stateDir: string, owner: TempWebhookOwner): string {
  return join(stateDir, 'tunnels', `${hostLabel(owner.host)}-${owner.pid}.json`);
}

export function writeTunnelPidFile(path: string, record: PidRecord): void {
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  writeFileSync(path, JSON.stringify(record) + '\n', { mode: 0o600 });
}

export function removeTunnelPidFile(path: string): void {
  rmSync(path, { force: true });
}

/** Stops tunnels left running by gemwh processes of this host that no longer run; returns what was stopped. */
export function stopLeftoverTunnels(stateDir: string, owner: TempWebhookOwner, isProcessAlive: (pid: number) => boolean): Array<{ pid: number; file: string }> {
  const dir = join(stateDir, 'tunnels');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const prefix = `${hostLabel(owner.host)}-`;
  const stopped: Array<{ pid: number; file: string }> = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.json')) continue;
    const path = join(dir, name);
    let record: PidRecord;
    try {
      record = JSON.parse(readFileSync(path, 'utf8')) as PidRecord;
    } catch {
      rmSync(path, { force: true });
      continue;
    }
    if (!Number.isInteger(record.owner) || !Number.isInteger(record.child) || record.child <= 1) {
      rmSync(path, { force: true });
      continue;
    }
    if (record.owner === owner.pid || isProcessAlive(record.owner)) continue;
    if (isProcessAlive(record.child) && runs(record.child, record.file)) {
      killGroup(record.child, 'SIGTERM');
      stopped.push({ pid: record.child, file: record.file });
    }
    rmSync(path, { force: true });
  }
  return stopped;
}

/** Whether `pid` still runs `file` (Linux /proc); where that cannot be read, trust the pid file. */
function runs(pid: number, file: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const base = file.split('/').pop()!;
    return argv.some((arg) => arg === file || arg.split('/').pop() === base);
  } catch {
    return process.platform !== 'linux';
  }
}
