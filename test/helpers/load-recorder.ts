import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './dist.js';

export interface LoadEntry {
  specifier: string;
  url: string;
}

export interface LoadRecorder {
  /** A folder for the test's own scripts; removed by cleanup(). */
  work: string;
  /** Runs `node <args>` with the recorder hook; every ESM module resolved goes to the `log` file. */
  run(args: string[], log: string, env?: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }>;
  readLog(log: string): LoadEntry[];
  cleanup(): void;
}

/**
 * Proves what a process loads: a loader hook records every module specifier resolved through the
 * ESM loader, with its resolved URL (CommonJS modules show up in the child's require.cache).
 */
export function createLoadRecorder(prefix: string): LoadRecorder {
  const work = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(
    join(work, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.GEMWH_LOAD_LOG, JSON.stringify({ specifier, url: result.url }) + '\\n');
  return result;
}
`,
  );
  writeFileSync(join(work, 'register.mjs'), `import { register } from 'node:module';\nregister(new URL('./hooks.mjs', import.meta.url));\n`);
  return {
    work,
    run(args, log, env = {}) {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', join(work, 'register.mjs'), ...args], {
          cwd: REPO_ROOT,
          env: { ...process.env, ...env, GEMWH_LOAD_LOG: log },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    },
    readLog: (log) =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as LoadEntry),
    cleanup: () => rmSync(work, { recursive: true, force: true }),
  };
}
