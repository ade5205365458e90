// Runs every test/bench/*.bench.mjs in turn, each in its own node process (they print their own
// figures). Exits non-zero only if one of them crashes; figures below a target are reported by
// the benchmark itself, not turned into a failure, because shared CI machines are noisy.
// Benchmarks run against dist/: `npm run build` first.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const dist = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
if (!existsSync(dist)) {
  console.error('dist/ is missing: run `npm run build` first.');
  process.exit(1);
}

const only = process.argv.slice(2);
const files = readdirSync(benchDir)
  .filter((name) => name.endsWith('.bench.mjs'))
  .filter((name) => only.length === 0 || only.some((filter) => name.includes(filter)))
  .sort();

const crashed = [];
for (const name of files) {
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  const result = spawnSync(process.execPath, [fileURLToPath(new URL(name, import.meta.url))], { stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    crashed.push(name);
    console.log(`--- ${name} FAILED (exit ${result.status ?? result.signal}) after ${seconds} s`);
  } else {
    console.log(`--- ${name} done in ${seconds} s`);
  }
}

if (crashed.length > 0) {
  console.error(`\n${crashed.length} benchmark(s) crashed: ${crashed.join(', ')}`);
  process.exit(1);
}
console.log(`\n${files.length} benchmark(s) ran.`);
