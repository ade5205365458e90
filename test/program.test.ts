import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { EXIT_CODE_TABLE, ExitCode } from '../src/errors.js';
import { buildProgram } from '../src/program.js';
import { makeTestDeps, runGemwh } from './helpers/deps.js';

describe('gemwh program', () => {
  it('prints the version from package.json', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const result = await runGemwh(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(pkg.version);
  });

  it('exits 2 on an unknown option, with a hint on stderr and nothing on stdout', async () => {
    const result = await runGemwh(['--no-such-flag']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^gemwh: unknown option '--no-such-flag'\n\(run with --help/);
  });

  it('reports parse errors of subcommands as JSON on stderr with --json', async () => {
    const result = await runGemwh(['get', '--json']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stdout).toBe('');
    expect(JSON.parse(result.stderr)).toEqual({
      error: { code: 'usage', exitCode: 2, message: "missing required argument 'id'" },
    });
  });

  it('documents every exit code in the README table', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const row of EXIT_CODE_TABLE) {
      expect(readme).toMatch(new RegExp(`\\|\\s*${row.code}\\s*\\|\\s*\`${row.name}\``));
      expect(ExitCode[row.name]).toBe(row.code);
    }
  });

  it('has a README example for every command and subcommand', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const t = makeTestDeps();
    try {
      const program = await buildProgram(t.deps);
      const missing: string[] = [];
      const walk = (command: Command, path: string[]) => {
        for (const sub of command.commands) {
          if (sub.name() === 'help') continue;
          const words = [...path, sub.name()];
          // A command is documented when the README runs it: `gemwh replay fixture ...` in a code block.
          if (!readme.includes(`gemwh ${words.join(' ')}`)) missing.push(words.join(' '));
          walk(sub, words);
        }
      };
      walk(program, []);
      expect(missing).toEqual([]);
    } finally {
      t.cleanup();
    }
  });
});
