import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

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

/** gemwh's own folders, XDG style: config (keys, settings), state (journal), cache (JWKS). */
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
  random: { bytes(size: number): Buffer };
  /** Aborted on SIGINT/SIGTERM: long-running commands stop cleanly when it fires. */
  signal: AbortSignal;
}

export function xdgPaths(env: Readonly<Record<string, string | undefined>>, home = homedir()): Paths {
  const base = (name: string, fallback: string) => {
    const value = env[name];
    // XDG says relative values are invalid and must be ignored.
    return value && value.startsWith('/') ? value : join(home, fallback);
  };
  return {
    config: join(base('XDG_CONFIG_HOME', '.config'), 'gemwh'),
    state: join(base('XDG_STATE_HOME', '.local/state'), 'gemwh'),
    cache: join(base('XDG_CACHE_HOME', '.cache'), 'gemwh'),
  };
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
    paths: xdgPaths(process.env),
    random: { bytes: (size) => randomBytes(size) },
    signal,
  };
}
