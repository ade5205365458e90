import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPE_NAMES } from '../../src/core/events.js';
import { fixturePath } from '../../src/fixtures/fixtures.js';
import { runGemwh } from '../helpers/deps.js';

describe('gemwh events', () => {
  it('lists every catalog type as TSV when not on a terminal', async () => {
    const result = await runGemwh(['events']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('TYPE\tAPI ENUM\tDESCRIPTION\tFIXTURE');
    expect(lines.slice(1).map((line) => line.split('\t')[0])).toEqual([...EVENT_TYPE_NAMES]);
    expect(result.stdout).toContain('batch.cancelled\tno (guide only)');
    expect(result.stdout).toContain(fixturePath('video.generated'));
  });

  it('aligns columns on a terminal', async () => {
    const result = await runGemwh(['events'], { stdoutIsTTY: true });
    expect(result.stdout).not.toContain('\t');
    expect(result.stdout).toMatch(/^TYPE {2,}API ENUM/);
  });

  it('prints JSON, filtered by a pattern', async () => {
    const result = await runGemwh(['events', 'interaction.*', '--json']);
    expect(result.code).toBe(0);
    const list = JSON.parse(result.stdout) as Array<{ type: string; inApiEnum: boolean; fixture: string }>;
    expect(list.map((e) => e.type)).toEqual(['interaction.requires_action', 'interaction.completed', 'interaction.failed', 'interaction.cancelled']);
    expect(list.find((e) => e.type === 'interaction.cancelled')?.inApiEnum).toBe(false);
  });

  it('prints one type’s fixture exactly as stored, ready to edit', async () => {
    const result = await runGemwh(['events', 'batch.failed']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(readFileSync(fixturePath('batch.failed'), 'utf8'));
    expect(JSON.parse(result.stdout).type).toBe('batch.failed');
  });

  it('refuses an unknown type with a suggestion and exit 2', async () => {
    const result = await runGemwh(['events', 'video.generate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown event type "video.generate" (did you mean "video.generated"?)');
    expect((await runGemwh(['events', 'foo.*'])).code).toBe(2);
  });

  it('ends its help with examples', async () => {
    const result = await runGemwh(['events', '--help']);
    expect(result.stdout).toMatch(/Examples:\n {2}\$ gemwh events\n/);
  });
});
