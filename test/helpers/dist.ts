import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

let cached: string | undefined;
let built: string | undefined;

/**
 * A compiled gemwh to run as a child process: dist/ when it is at least as new as src/ (CI runs
 * `npm run build` before `npm test`), otherwise a fresh build in node_modules/.cache, so that a
 * stale dist/ can neither pass nor fail these tests and dist/ is never rewritten under other
 * tests that use it. The build sits inside the package (dependencies resolve) next to a copy of
 * package.json and a link to src/ (version and fixtures are read relative to the code).
 * Returns the folder holding cli.js.
 */
export function compiledDist(): string {
  if (cached) return cached;
  const dist = join(REPO_ROOT, 'dist');
  if (existsSync(join(dist, 'cli.js')) && statSync(join(dist, 'cli.js')).mtimeMs >= newestMtime(join(REPO_ROOT, 'src'))) {
    cached = dist;
    return dist;
  }
  built = join(REPO_ROOT, 'node_modules', '.cache', 'gemwh-test-dist', String(process.pid));
  const outDir = join(built, 'dist');
  mkdirSync(built, { recursive: true });
  copyFileSync(join(REPO_ROOT, 'package.json'), join(built, 'package.json'));
  if (!existsSync(join(built, 'src'))) symlinkSync(join(REPO_ROOT, 'src'), join(built, 'src'));
  // Errors in files unrelated to the test still emit JavaScript; a missing cli.js is what counts.
  spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--outDir', outDir], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (!existsSync(join(outDir, 'cli.js'))) throw new Error(`building gemwh into ${outDir} produced no cli.js`);
  cached = outDir;
  return outDir;
}

/** Removes the temporary build, if compiledDist() made one. */
export function cleanupCompiledDist(): void {
  if (built) {
    rmSync(built, { recursive: true, force: true });
    // The shared parent goes too unless another test process is building in it (then rmdir fails).
    try {
      rmdirSync(dirname(built));
    } catch {
      // not empty
    }
  }
  built = undefined;
  cached = undefined;
}
