// Start-up time of `gemwh --version`, `gemwh --help`, a help topic and every command's `--help` against bare
// Node (`node -e 0`), measured in the same run and interleaved so that machine noise hits all
// alike. Target: median ratio <= 1.3 for each. Runs dist/ through bin/gemwh.js: build first
// (npm run build). The command list is read from src/help-pages/, one page per command.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const runs = Number(process.env.HELP_BENCH_RUNS ?? 15);
const TARGET = 1.3;

if (!existsSync(new URL('../../dist/cli.js', import.meta.url))) {
  console.error('help.bench: dist/cli.js is missing; run npm run build first');
  process.exit(1);
}

function time(args) {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  const elapsed = performance.now() - started;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return elapsed;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const commandPaths = readdirSync(new URL('../../src/help-pages/', import.meta.url))
  .filter((name) => name.endsWith('.txt'))
  .map((name) => name.slice(0, -'.txt'.length).split('-').slice(1))
  .sort((a, b) => a.join(' ').localeCompare(b.join(' ')));
const cases = {
  'node -e 0': ['-e', '0'],
  'gemwh --version': ['bin/gemwh.js', '--version'],
  'gemwh help listening': ['bin/gemwh.js', 'help', 'listening'],
  ...Object.fromEntries(commandPaths.map((path) => [['gemwh', ...path, '--help'].join(' '), ['bin/gemwh.js', ...path, '--help']])),
};
// Warm the file cache so the first sample of any case is not an outlier.
for (const args of Object.values(cases)) time(args);

const names = Object.keys(cases);
const samples = Object.fromEntries(names.map((name) => [name, []]));
for (let i = 0; i < runs; i++) {
  // Rotate which goes first, so no case always runs right after the same other one.
  for (let j = 0; j < names.length; j++) {
    const name = names[(i + j) % names.length];
    samples[name].push(time(cases[name]));
  }
}

const baseline = median(samples['node -e 0']);
const width = Math.max(...names.map((name) => name.length));
console.log(`help.bench: ${runs} runs each, interleaved; target <= ${TARGET}x node -e 0`);
let missed = 0;
for (const name of names) {
  const value = median(samples[name]);
  const ratio = value / baseline;
  const verdict = name === 'node -e 0' ? 'baseline' : ratio <= TARGET ? 'OK' : 'MISSED';
  if (verdict === 'MISSED') missed += 1;
  console.log(`  ${name.padEnd(width)}  median ${value.toFixed(1).padStart(6)} ms  ${ratio.toFixed(2)}x  ${verdict}`);
}
console.log(`  ${names.length - 1 - missed}/${names.length - 1} within ${TARGET}x`);
