import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import type { Deps, OutStream } from '../../src/deps.js';
import { runMain } from '../../src/program.js';

export interface CapturedStream {
  stream: OutStream;
  text(): string;
}

export function captureStream(isTTY = false, columns = 100): CapturedStream {
  let buffer = '';
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      buffer += chunk.toString();
      callback();
    },
  }) as OutStream;
  stream.isTTY = isTTY;
  stream.columns = columns;
  return { stream, text: () => buffer };
}

export interface TestDepsOptions {
  env?: Record<string, string | undefined>;
  /** Fixed epoch ms; default the real clock. */
  now?: number;
  stdin?: string | Readable;
  stdoutIsTTY?: boolean;
  /** A terminal on stderr: progress lines are drawn there. */
  stderrIsTTY?: boolean;
  /** The terminal's width when stdoutIsTTY; default 100. */
  stdoutColumns?: number;
  stdinIsTTY?: boolean;
  signal?: AbortSignal;
  /** The folder gemwh runs in (its gemwh.json and .env are found from there); default none. */
  cwd?: string;
  /** The user's home (the walk up for gemwh.json stops there); default none. */
  userHome?: string;
}

export interface TestDeps {
  deps: Deps;
  stdout: () => string;
  stderr: () => string;
  /** Temp folder holding config/state/cache; removed by cleanup(). */
  home: string;
  cleanup(): void;
}

/** Deps for running commands in-process: captured output, temp XDG folders, a test keychain service. */
export function makeTestDeps(options: TestDepsOptions = {}): TestDeps {
  const home = mkdtempSync(join(tmpdir(), 'gemwh-test-'));
  const out = captureStream(options.stdoutIsTTY ?? false, options.stdoutColumns);
  const err = captureStream(options.stderrIsTTY ?? false);
  let stdin: Readable & { isTTY?: boolean };
  if (typeof options.stdin === 'string') {
    stdin = Readable.from([Buffer.from(options.stdin)]);
  } else if (options.stdin) {
    stdin = options.stdin;
  } else {
    const empty = new PassThrough();
    empty.end();
    stdin = empty;
  }
  stdin.isTTY = options.stdinIsTTY ?? false;
  const deps: Deps = {
    io: { stdout: out.stream, stderr: err.stream, stdin },
    env: { GEMWH_KEYCHAIN_SERVICE: 'gemwh-test', ...options.env },
    clock: { now: () => options.now ?? Date.now() },
    paths: { config: join(home, 'config'), state: join(home, 'state'), cache: join(home, 'cache') },
    random: { bytes: (size) => Buffer.from(crypto.getRandomValues(new Uint8Array(size))) },
    signal: options.signal ?? new AbortController().signal,
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    ...(options.userHome !== undefined ? { home: options.userHome } : {}),
  };
  return {
    deps,
    stdout: out.text,
    stderr: err.text,
    home,
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `gemwh ...args` in-process with fresh test deps and returns what it printed. */
export async function runGemwh(args: string[], options: TestDepsOptions = {}): Promise<RunResult> {
  const t = makeTestDeps(options);
  try {
    const code = await runMain(args, t.deps);
    return { code, stdout: t.stdout(), stderr: t.stderr() };
  } finally {
    t.cleanup();
  }
}
