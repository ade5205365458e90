import { runMain } from '../../src/program.js';
import { makeTestDeps, type TestDeps, type TestDepsOptions } from './deps.js';
import { until as waitUntil } from './until.js';

export interface RunningGemwh {
  t: TestDeps;
  /** Resolves with the exit code. */
  done: Promise<number>;
  /** Exit code (while running: undefined), stdout and stderr, for failure messages. */
  describe(): string;
  /** Polls until `probe` gives a value; throws when gemwh exits first or `timeoutMs` passes. */
  until<T>(what: string, probe: () => T | undefined, timeoutMs?: number): Promise<T>;
  /** The first line on stdout (the emulator's URL, listen's ready record), once printed. */
  firstLine(): Promise<string>;
  /** Aborts deps.signal as Ctrl-C or SIGTERM would and resolves with the exit code; later calls get the same. */
  stop(): Promise<number>;
}

export interface StartGemwhOptions extends Omit<TestDepsOptions, 'signal'> {
  /** Registers the stop to run after the test (perTest().defer). */
  defer(cleanup: () => unknown): void;
  /** Runs before gemwh starts, e.g. to put secrets in the store. */
  setup?: (t: TestDeps) => Promise<void>;
  /** The reason stop() aborts with; default SIGTERM. */
  signal?: 'SIGTERM' | 'SIGINT';
}

/**
 * A long-running `gemwh …args` (emulator, listen) in-process with captured output, stopped after
 * the test. `args` may be made from the test deps, e.g. to put a file in their temporary home.
 */
export async function startGemwh(args: readonly string[] | ((t: TestDeps) => readonly string[]), options: StartGemwhOptions): Promise<RunningGemwh> {
  const { defer, setup, signal, ...depsOptions } = options;
  const controller = new AbortController();
  const t = makeTestDeps({ ...depsOptions, signal: controller.signal });
  await setup?.(t);
  const argv = typeof args === 'function' ? args(t) : args;
  const done = runMain([...argv], t.deps);
  let code: number | undefined;
  void done.then((c) => (code = c));
  const describe = () => `exit code: ${String(code)}\nstdout:\n${t.stdout()}\nstderr:\n${t.stderr()}`;
  const until = <T>(what: string, probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> =>
    waitUntil(what, probe, { timeoutMs, describe, giveUpIf: () => (code === undefined ? undefined : `gemwh ${argv[0]} exited`) });
  let stopped: Promise<number> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      controller.abort(signal ?? 'SIGTERM');
      const result = await done;
      t.cleanup();
      return result;
    })());
  defer(stop);
  return {
    t,
    done,
    describe,
    until,
    firstLine: () => until('a first line on stdout', () => (t.stdout().includes('\n') ? t.stdout().split('\n')[0] : undefined)),
    stop,
  };
}
