import { join } from 'node:path';
import { startGemwh, type RunningGemwh, type StartGemwhOptions } from './start-gemwh.js';

export type Line = Record<string, unknown>;

export interface ListenCli extends RunningGemwh {
  /** The journal listen writes, in the test's temporary home. */
  journal: string;
  /** The NDJSON lines printed so far. */
  lines(): Line[];
  /** The first line that passes `test`; throws when listen exits first or `timeoutMs` passes. */
  waitFor(test: (line: Line) => boolean, what: string, timeoutMs?: number): Promise<Line>;
}

export type ListenCliOptions = Pick<StartGemwhOptions, 'defer' | 'env' | 'setup' | 'signal'>;

/**
 * `gemwh listen --port 0 --journal <home>/journal.ndjson …args` in-process, for tests that read
 * its NDJSON (stdout is not a TTY). Resolves as soon as it runs: wait for `ready` with waitFor().
 */
export async function startListenCli(args: readonly string[], options: ListenCliOptions): Promise<ListenCli> {
  const journalIn = (home: string) => join(home, 'journal.ndjson');
  const listen = await startGemwh((t) => ['listen', '--port', '0', '--journal', journalIn(t.home), ...args], options);
  const lines = () =>
    listen.t
      .stdout()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Line);
  return {
    ...listen,
    journal: journalIn(listen.t.home),
    lines,
    waitFor: (test, what, timeoutMs) => listen.until(what, () => lines().find(test), timeoutMs),
  };
}
