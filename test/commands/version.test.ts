import { describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';
import { runGemwh } from '../helpers/deps.js';

describe('the spellings people type', () => {
  it('`gemwh version`, `-v`, `-V` and `--version` all print the version', async () => {
    for (const argv of [['version'], ['-v'], ['-V'], ['--version']]) {
      const result = await runGemwh(argv);
      expect(result.code, argv.join(' ')).toBe(0);
      expect(result.stdout).toBe(`${VERSION}\n`);
    }
    const json = JSON.parse((await runGemwh(['version', '--json'])).stdout) as Record<string, string>;
    expect(json).toMatchObject({ version: VERSION, node: process.versions.node });
  });

  it('`gemwh help replay fixture` shows the help of fixture, not of replay', async () => {
    const nested = await runGemwh(['help', 'replay', 'fixture']);
    expect(nested.code).toBe(0);
    expect(nested.stdout).toMatch(/^Usage: gemwh replay fixture /);
    expect((await runGemwh(['help', 'replay'])).stdout).toMatch(/^Usage: gemwh replay /);
    expect((await runGemwh(['help', 'deliveries', 'export'])).stdout).toMatch(/^Usage: gemwh deliveries export /);
  });

  it('the root help shows the one-command demo', async () => {
    expect((await runGemwh(['--help'])).stdout).toContain('$ gemwh listen --emulator --demo');
  });
});
