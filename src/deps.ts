import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { userPaths } from './fs/user-paths.js';

/**
 * What a command writes to: a real stream (Ink renders to it), plus the tty bits gemwh reads.
 * Tests pass a Writable that collects what was written and set isTTY as they need.
 */
export type OutStream = Writable & { isTTY?: boolean; columns?: number };

export interface Io {
  stdout: OutStream;
  stderr: OutStream;
  stdin: Readable & { isTTY?: boolean };
}

/** gemwh's own folders (fs/user-paths.ts: each OS's own places): config (keys, settings), state (journal), cache (JWKS). */
export interface Paths {
  config: string;
  state: string;
  cache: string;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/**
 * Runs work later. Retries wait on it instead of on raw timers, so that a test can advance
 * time (test/helpers/manual-time.ts) instead of sleeping through a backoff.
 */
export interface Scheduler {
  /** Runs `run` after `ms` milliseconds; the returned function cancels it. */
  after(ms: number, run: () => void): () => void;
}

export const realScheduler: Scheduler = {
  after(ms, run) {
    const timer = setTimeout(run, ms);
    return () => clearTimeout(timer);
  },
};

/**
 * Everything a command needs from the outside world, built once in cli.ts (createRealDeps) and
 * by tests with their own values. Nothing below commands/ reads process.* directly.
 */
export interface Deps {
  io: Io;
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  /** Absent: real timers (realScheduler). */
  scheduler?: Scheduler;
  paths: Paths;
  /**
   * The folder gemwh was started in and the user's home: where the project's gemwh.json and .env
   * are looked for (src/config/load.ts). Absent (tests, embedders): no project file, no .env.
   */
  cwd?: string;
  home?: string;
  random: { bytes(size: number): Buffer };
  /** Aborted on SIGINT/SIGTERM: long-running commands stop cleanly when it fires. */
  signal: AbortSignal;
}

export function createRealDeps(signal: AbortSignal): Deps {
  return {
    io: {
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: process.stdin,
    },
    env: process.env,
    clock: { now: () => Date.now() },
    paths: userPaths(process.platform, process.env, homedir()),
    cwd: process.cwd(),
    home: homedir(),
    random: { bytes: (size) => randomBytes(size) },
    signal,
  };
}
