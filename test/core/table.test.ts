import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Webhook } from '../../src/api/types.js';
import { displayWidth, formatRows, formatTable, truncateToWidth, type Column } from '../../src/core/table.js';
import type { Deps, OutStream } from '../../src/deps.js';
import { formatWebhookRows } from '../../src/manage/format.js';
import { outputOf, wantsColor } from '../../src/output/output.js';

const now = Date.parse('2026-05-05T12:00:00Z');
const webhook: Webhook = {
  id: 'a1b2c3d4e5f6a7b8c9d0',
  name: 'nightly-batch-webhook',
  uri: 'https://hooks.example.com/gemini/webhooks/batch-and-interaction-events',
  subscribed_events: ['batch.succeeded', 'batch.failed', 'interaction.completed', 'interaction.requires_action'],
  state: 'enabled',
  signing_secrets: [{ truncated_secret: 'whsec_...3frh' }, { truncated_secret: 'whsec_...ab12', expire_time: '2026-05-06T09:00:00Z' }],
};

const widest = (text: string) => Math.max(...text.trimEnd().split('\n').map(displayWidth));

describe('tables that fit the terminal', () => {
  for (const width of [80, 120]) {
    it(`gemwh list with one webhook fits ${width} columns and keeps the id whole`, () => {
      const text = formatWebhookRows([{ webhook, local: 1 }], { tty: true, now, width });
      expect(widest(text)).toBeLessThanOrEqual(width);
      expect(text).toContain(webhook.id);
      expect(text.split('\n')[0]).toMatch(/^ID\s+NAME/);
    });
  }

  it('a pipe keeps full TSV whatever the width', () => {
    const text = formatWebhookRows([{ webhook, local: 1 }], { tty: false, now, width: 40 });
    expect(text.split('\n')[1]!.split('\t')).toContain(webhook.uri);
    expect(text).not.toContain('…');
  });

  it('aligns CJK names by their width on screen, not their length', () => {
    const rows = [
      { name: 'ウェブフック', state: 'enabled' },
      { name: 'plain', state: 'disabled' },
    ];
    const columns: Array<Column<(typeof rows)[number]>> = [
      { header: 'NAME', value: (r) => r.name },
      { header: 'STATE', value: (r) => r.state },
    ];
    const lines = formatTable(rows, columns).trimEnd().split('\n');
    const stateAt = lines.map((line) => displayWidth(line.slice(0, line.search(/(enabled|disabled|STATE)$/))));
    expect(new Set(stateAt).size).toBe(1);
  });

  it('cuts shrinkable columns with …, then drops the droppable ones, then prints one block per row', () => {
    const rows = [{ id: 'id-1', text: 'x'.repeat(60), extra: 'y'.repeat(30) }];
    const columns: Array<Column<(typeof rows)[number]>> = [
      { header: 'ID', value: (r) => r.id },
      { header: 'TEXT', value: (r) => r.text, minWidth: 10 },
      { header: 'EXTRA', value: (r) => r.extra, dropOrder: 1 },
    ];
    const cut = formatTable(rows, columns, 80);
    expect(widest(cut)).toBeLessThanOrEqual(80);
    expect(cut).toContain('…');
    expect(cut).toContain('y'.repeat(30));

    const dropped = formatTable(rows, columns, 45);
    expect(widest(dropped)).toBeLessThanOrEqual(45);
    expect(dropped).not.toContain('EXTRA');

    const vertical = formatTable(rows, columns, 20);
    expect(vertical).toBe(`ID     id-1\nTEXT   ${'x'.repeat(60)}\nEXTRA  ${'y'.repeat(30)}\n`);
  });

  it('never cuts a column without minWidth (a revealed secret stays whole)', () => {
    const secret = `whsec_${'A'.repeat(60)}`;
    const columns: Array<Column<{ s: string }>> = [
      { header: 'WEBHOOK', value: () => 'a1b2c3d4e5f6a7b8c9d0', dropOrder: 1 },
      { header: 'SECRET', value: (r) => r.s },
      { header: 'CREATED', value: () => '3 hours ago', dropOrder: 2 },
    ];
    for (const width of [80, 120, 50]) expect(formatRows([{ s: secret }], columns, { tty: true, width })).toContain(secret);
  });

  it('cuts by display width, keeping wide characters whole', () => {
    expect(truncateToWidth('ウェブフック', 5)).toBe('ウェ…');
    expect(displayWidth(truncateToWidth('ウェブフック', 5))).toBe(5);
    expect(truncateToWidth('short', 10)).toBe('short');
  });
});

describe('the output object', () => {
  const deps = (isTTY: boolean, columns: number | undefined, env: Record<string, string>): Pick<Deps, 'io' | 'env'> => {
    const stdout = Object.assign(new PassThrough(), { isTTY, columns }) as OutStream;
    return { io: { stdout, stderr: stdout, stdin: new PassThrough() }, env };
  };

  it('follows NO_COLOR and FORCE_COLOR, else the terminal', () => {
    expect(wantsColor({}, true)).toBe(true);
    expect(wantsColor({}, false)).toBe(false);
    expect(wantsColor({ NO_COLOR: '1' }, true)).toBe(false);
    expect(wantsColor({ NO_COLOR: '' }, true)).toBe(true);
    expect(wantsColor({ FORCE_COLOR: '1' }, false)).toBe(true);
    expect(wantsColor({ FORCE_COLOR: '0' }, true)).toBe(false);
    expect(wantsColor({ FORCE_COLOR: '1', NO_COLOR: '1' }, true)).toBe(true);
  });

  it('prints tables at the terminal width and TSV in a pipe', async () => {
    const columns: Array<Column<{ t: string }>> = [
      { header: 'A', value: () => 'a' },
      { header: 'T', value: (r) => r.t, minWidth: 5 },
    ];
    const terminal = deps(true, 30, {});
    const chunks: string[] = [];
    terminal.io.stdout.on('data', (c: Buffer) => chunks.push(c.toString()));
    await outputOf(terminal).table([{ t: 'z'.repeat(50) }], columns);
    expect(widest(chunks.join(''))).toBeLessThanOrEqual(30);

    const pipe = deps(false, undefined, {});
    const piped: string[] = [];
    pipe.io.stdout.on('data', (c: Buffer) => piped.push(c.toString()));
    await outputOf(pipe).table([{ t: 'z'.repeat(50) }], columns);
    outputOf(pipe).ndjson({ a: 1 });
    expect(piped.join('')).toBe(`A\tT\na\t${'z'.repeat(50)}\n{"a":1}\n`);
  });
});
