import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stopLeftoverTunnels, tunnelPidFile, writeTunnelPidFile } from '../../src/tunnel/leftovers.js';
import { perTest } from '../helpers/per-test.js';
import { isAlive } from './standins.js';

const { defer } = perTest();
const DEAD = 2 ** 22 + 4321; // above Linux's default pid_max: certainly not running

function sleeper(name: string) {
  // `exec -a` names the process as a tool would be named in /proc/PID/cmdline.
  const child = spawn('bash', ['-c', `exec -a ${name} sleep 30`], { detached: true, stdio: 'ignore' });
  defer(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  });
  return child;
}

describe('tunnels left by a gemwh killed with SIGKILL', () => {
  const owner = (pid: number) => ({ host: 'laptop', pid });

  it('stops the tunnel of a gemwh that is gone, and leaves a pid now used by another program alone', async () => {
    const state = mkdtempSync(join(tmpdir(), 'gemwh-leftovers-'));
    defer(() => rmSync(state, { recursive: true, force: true }));
    const tunnel = sleeper('cloudflared');
    const reused = sleeper('postgres');
    await new Promise((resolve) => setTimeout(resolve, 100));
    writeTunnelPidFile(tunnelPidFile(state, owner(DEAD)), { owner: DEAD, child: tunnel.pid!, file: '/usr/local/bin/cloudflared' });
    writeTunnelPidFile(tunnelPidFile(state, owner(DEAD + 1)), { owner: DEAD + 1, child: reused.pid!, file: '/usr/local/bin/cloudflared' });
    // A gemwh still running keeps its tunnel.
    writeTunnelPidFile(tunnelPidFile(state, owner(process.pid)), { owner: process.pid, child: reused.pid!, file: 'postgres' });

    const stopped = stopLeftoverTunnels(state, owner(1), (pid) => isAlive(pid));
    expect(stopped).toEqual([{ pid: tunnel.pid, file: '/usr/local/bin/cloudflared' }]);
    await new Promise<void>((resolve) => tunnel.once('exit', () => resolve()));
    expect(isAlive(reused.pid!)).toBe(true);
    expect(existsSync(tunnelPidFile(state, owner(DEAD)))).toBe(false);
    expect(existsSync(tunnelPidFile(state, owner(DEAD + 1)))).toBe(false);
    expect(existsSync(tunnelPidFile(state, owner(process.pid)))).toBe(true);
  });
});
