import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compiledDist } from '../helpers/dist.js';
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

async function startCli(): Promise<{ child: ChildProcess; stderr: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [join(dist, 'cli.js'), 'listen', '--port', '0', '--json', '--no-journal', '--tunnel', 'cloudflared'], {
    env: {
      PATH: tools.path,
      HOME: home,
      XDG_STATE_HOME: join(home, 'state'),
      XDG_CONFIG_HOME: join(home, 'config'),
      XDG_CACHE_HOME: join(home, 'cache'),
      GEMWH_SECRET_STORE: 'file',
      STANDIN_STATE_DIR: tools.stateDir,
      ...emulator.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  void exited.then(() => children.delete(child));
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line; stderr: ${stderr}`)), 30_000);
    lines.on('line', (line) => {
      if ((JSON.parse(line) as { type: string }).type !== 'ready') return;
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`listen exited with ${code}: ${stderr}`)));
  });
  return { child, stderr: () => stderr, exited };
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
