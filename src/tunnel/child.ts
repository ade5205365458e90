import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * One run of a tunnel tool. It gets a process group of its own (detached), so that stopping it
 * also stops whatever it started (a shell's children, ssh's helpers), and gemwh kills that group
 * on every way out: stop(), a normal exit, and an uncaught crash ('exit' handler). Only SIGKILL of
 * gemwh gets past all of that; the pid file (leftovers.ts) covers it on the next start.
 */
export interface TunnelChild {
  pid: number;
  /** Every line it prints, stdout and stderr alike. */
  onLine(listener: (line: string) => void): void;
  /** The last lines it printed, for error messages. */
  tail(): string[];
  /** Settles when it has exited, with how. */
  readonly exited: Promise<string>;
  /** SIGTERM to its group, SIGKILL after `graceMs`; resolves once it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const TAIL_LINES = 12;
const running = new Set<number>();
let exitHookInstalled = false;

/** Starts `file args` in its own process group; rejects when it cannot be started at all. */
export async function startChild(file: string, args: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<TunnelChild> {
  installExitHook();
  const child = spawn(file, args, { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const pid = child.pid!;
  running.add(pid);
  const listeners: Array<(line: string) => void> = [];
  const tail: string[] = [];
  const onLine = (line: string) => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    for (const listener of listeners) listener(line);
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(pid);
      // Whatever it left in its group goes with it.
      killGroup(pid, 'SIGKILL');
      resolve(signal ? `killed by ${signal}` : `exited with code ${String(code)}`);
    });
  });
  let stopping: Promise<void> | undefined;
  return {
    pid,
    onLine: (listener) => void listeners.push(listener),
    tail: () => [...tail],
    exited,
    stop(graceMs = 3000) {
      stopping ??= (async () => {
        if (!running.has(pid)) return void (await exited);
        killGroup(pid, 'SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
        await Promise.race([exited, late]);
        clearTimeout(timer);
        if (running.has(pid)) killGroup(pid, 'SIGKILL');
        await exited;
      })();
      return stopping;
    },
  };
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers run synchronously even after an uncaught exception: kill what is still running.
  process.on('exit', () => {
    for (const pid of running) killGroup(pid, 'SIGKILL');
  });
}
