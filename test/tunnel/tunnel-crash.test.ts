import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compiledDist } from '../helpers/dist.js';
import { startListenChild } from '../helpers/listen-child.js';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator.js';
import { isAlive, makeStandins, type Standins } from './standins.js';

/**
 * The built CLI in a child process with a stand-in tunnel: SIGTERM leaves nothing behind, and
 * after SIGKILL (nothing of gemwh runs) the next start stops the orphaned tunnel and deletes the
 * temporary webhook.
 */

let dist: string;
let home: string;
let emulator: TestEmulator;
let tools: Standins;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  dist = compiledDist();
  home = mkdtempSync(join(tmpdir(), 'gemwh-tunnel-crash-'));
  emulator = await startTestEmulator();
  tools = makeStandins(['cloudflared']);
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  tools.cleanup();
  await emulator.stop();
  rmSync(home, { recursive: true, force: true });
});

function startCli(): Promise<{ child: ChildProcess; stderr: () => string; exited: Promise<number | null> }> {
  return startListenChild({
    dist,
    home,
    args: ['--no-journal', '--tunnel', 'cloudflared'],
    env: { PATH: tools.path, STANDIN_STATE_DIR: tools.stateDir, ...emulator.env },
    children,
    readyTimeoutMs: 30_000,
    readyFirst: false,
  });
}

describe('listen --tunnel in the built CLI', () => {
  it('SIGTERM: the tunnel is stopped and the webhook deleted', async () => {
    const before = new Set(tools.started().map((s) => s.pid));
    const cli = await startCli();
    const tunnel = tools.running().find((s) => !before.has(s.pid))!;
    expect(emulator.store.records()).toHaveLength(1);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(isAlive(tunnel.pid)).toBe(false);
    expect(emulator.store.records()).toEqual([]);
  }, 60_000);

  it('SIGKILL: the tunnel and the webhook outlive gemwh; the next start removes both', async () => {
    const before = new Set(tools.started().map((s) => s.pid));
    const first = await startCli();
    const orphan = tools.running().find((s) => !before.has(s.pid))!;
    const [leftover] = emulator.store.records();
    first.child.kill('SIGKILL');
    await first.exited;
    expect(isAlive(orphan.pid)).toBe(true);
    expect(emulator.store.records()).toEqual([leftover]);

    const second = await startCli();
    expect(second.stderr()).toContain(`(pid ${orphan.pid}), a tunnel left running by an earlier listen`);
    expect(second.stderr()).toContain(`removed ${leftover!.id}`);
    await waitUntil(() => !isAlive(orphan.pid));
    expect(emulator.store.records().map((r) => r.id)).not.toContain(leftover!.id);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(tools.running()).toEqual([]);
    expect(emulator.store.records()).toEqual([]);
  }, 60_000);
});

async function waitUntil(test: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
