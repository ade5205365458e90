import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Paths } from '../../src/deps.js';
import type { StartEmulatorOptions } from '../../src/emulator/server.js';
import { runMain } from '../../src/program.js';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator.js';
import { makeTestDeps, type RunResult, type TestDepsOptions } from '../helpers/deps.js';

/**
 * Several gemwh runs against one emulator that share one config folder, so what `create` stores
 * in the file secret store is there for `list`, `rotate` and `secret show`.
 */
export interface ManageSession {
  emulator: TestEmulator;
  paths: Paths;
  /** Env every run gets: the emulator, its key, the file store, no retries. */
  env: Record<string, string>;
  run(args: string[], options?: TestDepsOptions): Promise<RunResult>;
  stop(): Promise<void>;
}

export async function startManageSession(extraEnv: Record<string, string> = {}, emulatorOptions: StartEmulatorOptions = {}): Promise<ManageSession> {
  const emulator = await startTestEmulator(emulatorOptions);
  const home = mkdtempSync(join(tmpdir(), 'gemwh-manage-'));
  const paths: Paths = { config: join(home, 'config'), state: join(home, 'state'), cache: join(home, 'cache') };
  const env = { ...emulator.env, GEMWH_SECRET_STORE: 'file', GEMWH_API_RETRIES: '0', ...extraEnv };
  return {
    emulator,
    paths,
    env,
    async run(args, options = {}) {
      const t = makeTestDeps({ ...options, env: { ...env, ...options.env } });
      try {
        const code = await runMain(args, { ...t.deps, paths });
        return { code, stdout: t.stdout(), stderr: t.stderr() };
      } finally {
        t.cleanup();
      }
    },
    async stop() {
      await emulator.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The one webhook id a successful plain `gemwh create` prints on stdout. */
export function createdId(result: RunResult): string {
  const id = result.stdout.trim();
  if (result.code !== 0 || !/^[a-z0-9]+$/.test(id)) throw new Error(`create failed (${result.code}): ${result.stderr}`);
  return id;
}

/** `gemwh <command> --help` ends with at least two real examples, and help loads no API call. */
export async function helpExamples(args: string[]): Promise<string[]> {
  const t = makeTestDeps();
  try {
    const code = await runMain([...args, '--help'], t.deps);
    if (code !== 0) throw new Error(`--help exited ${code}: ${t.stderr()}`);
    const help = t.stdout();
    const examples = help.slice(help.indexOf('\nExamples:\n'));
    return examples.split('\n').filter((line) => line.trim().startsWith('$ ') && line.includes('gemwh '));
  } finally {
    t.cleanup();
  }
}
