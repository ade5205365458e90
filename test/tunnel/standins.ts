import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const STANDIN = fileURLToPath(new URL('./standins/standin.cjs', import.meta.url));

export interface Standins {
  /** Folder with executables named cloudflared, ngrok and fake-tunnel. */
  bin: string;
  /** Where each started stand-in writes {pid, tool, url}. */
  stateDir: string;
  /** PATH with the stand-ins first (and node's folder, for nothing else the tools need). */
  path: string;
  /** Stand-ins started so far: pid, tool and the URL they printed. */
  started(): Array<{ pid: number; tool: string; url: string }>;
  /** Those still running. */
  running(): Array<{ pid: number; tool: string; url: string }>;
  /** Kills every stand-in still running and removes the folders. */
  cleanup(): void;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Executables that stand in for the real tunnel tools (see standins/standin.cjs). */
export function makeStandins(tools: readonly string[] = ['cloudflared', 'ngrok', 'fake-tunnel']): Standins {
  const root = mkdtempSync(join(tmpdir(), 'gemwh-standins-'));
  const bin = join(root, 'bin');
  const stateDir = join(root, 'state');
  mkdirSync(bin);
  mkdirSync(stateDir);
  for (const tool of tools) {
    const file = join(bin, tool);
    // exec: the process the tunnel supervisor starts is node itself, with the tool's name in argv.
    writeFileSync(file, `#!/bin/sh\nexec '${process.execPath}' '${STANDIN}' ${tool} "$@"\n`);
    chmodSync(file, 0o755);
  }
  const started = () =>
    readdirSync(stateDir).flatMap((name) => {
      try {
        return [JSON.parse(readFileSync(join(stateDir, name), 'utf8')) as { pid: number; tool: string; url: string }];
      } catch {
        return [];
      }
    });
  return {
    bin,
    stateDir,
    path: [bin, '/usr/bin', '/bin'].join(delimiter),
    started,
    running: () => started().filter((s) => isAlive(s.pid)),
    cleanup() {
      for (const { pid } of started()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
