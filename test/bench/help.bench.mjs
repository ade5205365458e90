// `gemwh --help` start-up time against bare Node (`node -e 0`), measured in the same run and
// interleaved so that machine noise hits both alike. Target: median ratio <= 1.4.
// Runs dist/ through bin/gemwh.js: build first (npm run build).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const runs = Number(process.env.HELP_BENCH_RUNS ?? 25);
const TARGET = 1.4;

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

// `replay fixture --help` is rendered by commander with every command module loaded: shown for
// reference (the root help is pre-rendered, see src/cli.ts), without a target.
const cases = {
  baseline: ['-e', '0'],
  help: ['bin/gemwh.js', '--help'],
  subcommand: ['bin/gemwh.js', 'replay', 'fixture', '--help'],
};
// Warm the file cache so the first sample of either is not an outlier.
for (const args of Object.values(cases)) time(args);

const samples = { baseline: [], help: [], subcommand: [] };
const names = Object.keys(cases);
for (let i = 0; i < runs; i++) {
  // Rotate which goes first, so no case always runs right after the same other one.
  for (let j = 0; j < names.length; j++) {
    const name = names[(i + j) % names.length];
    samples[name].push(time(cases[name]));
  }
}

const baseline = median(samples.baseline);
const help = median(samples.help);
const ratio = help / baseline;
console.log(`help.bench: ${runs} runs each, interleaved`);
console.log(`  node -e 0                 median ${baseline.toFixed(1)} ms  (min ${Math.min(...samples.baseline).toFixed(1)})`);
console.log(`  node bin/gemwh.js --help  median ${help.toFixed(1)} ms  (min ${Math.min(...samples.help).toFixed(1)})`);
const subcommand = median(samples.subcommand);
console.log(`  node bin/gemwh.js replay fixture --help  median ${subcommand.toFixed(1)} ms  (${(subcommand / baseline).toFixed(2)}x, for reference)`);
console.log(`  ratio ${ratio.toFixed(2)}x  (target <= ${TARGET}x)  ${ratio <= TARGET ? 'OK' : 'MISSED'}`);
