import stringWidth from 'string-width';

/**
 * Output formats shared by every command that prints rows: an aligned table for people on a
 * terminal, TSV for pipes (no padding, no colour, one row a line), JSON for --json.
 */

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  /** The column may be cut (with …) down to this many columns when the terminal is narrow. */
  minWidth?: number;
  /** The column may be left out when the terminal is narrow; lower numbers go first. */
  dropOrder?: number;
}

/** Where a table goes: a terminal (with its width, when known) or a pipe. */
export interface TableTarget {
  tty: boolean;
  /** The terminal's width in columns; undefined when unknown (the table is then never cut). */
  width?: number;
}

const GAP = 2;
/** Below this a one-line row is no longer worth reading: rows print as `FIELD  value` blocks. */
const NARROWEST_TABLE = 40;

/**
 * Aligned columns separated by two spaces; the last column is never padded. Given a width, the
 * table fits it: cuttable columns shrink first, then droppable ones go, and when it still does not
 * fit each row becomes a block of `HEADER  value` lines.
 */
export function formatTable<Row>(rows: readonly Row[], columns: ReadonlyArray<Column<Row>>, width?: number): string {
  const cells = rows.map((row) => columns.map((c) => oneLine(c.value(row))));
  if (width === undefined) return renderTable(columns.map((c) => c.header), cells, naturalWidths(columns, cells));

  let kept = columns.map((_, i) => i);
  for (;;) {
    const headers = kept.map((i) => columns[i]!.header);
    const keptCells = cells.map((line) => kept.map((i) => line[i]!));
    const widths = fitWidths(
      kept.map((i) => columns[i]!),
      naturalWidths(headers.map((header) => ({ header })), keptCells),
      width,
    );
    if (widths) return renderTable(headers, keptCells, widths);
    const droppable = kept.filter((i) => columns[i]!.dropOrder !== undefined);
    if (droppable.length === 0 || width < NARROWEST_TABLE) break;
    const next = droppable.reduce((a, b) => (columns[b]!.dropOrder! < columns[a]!.dropOrder! ? b : a));
    kept = kept.filter((i) => i !== next);
  }
  return renderVertical(columns.map((c) => c.header), cells);
}

/** Tab-separated, with a header line; tabs and newlines inside values become spaces. */
export function formatTsv<Row>(rows: readonly Row[], columns: ReadonlyArray<Column<Row>>): string {
  const lines = [columns.map((c) => c.header), ...rows.map((row) => columns.map((c) => oneLine(c.value(row))))];
  return lines.map((line) => line.join('\t')).join('\n') + '\n';
}

/** A table that fits the terminal on a TTY, full TSV otherwise. */
export function formatRows<Row>(rows: readonly Row[], columns: ReadonlyArray<Column<Row>>, target: TableTarget): string {
  return target.tty ? formatTable(rows, columns, target.width) : formatTsv(rows, columns);
}

export { formatJson } from './json.js';

/** Columns on screen: CJK and emoji take two, combining marks and escapes none. */
export function displayWidth(value: string): number {
  return stringWidth(value);
}

/** `value` cut to at most `width` columns, ending in … when something was cut. */
export function truncateToWidth(value: string, width: number): string {
  if (displayWidth(value) <= width) return value;
  if (width <= 0) return '';
  let out = '';
  let used = 0;
  for (const char of value) {
    const w = displayWidth(char);
    if (used + w > width - 1) break;
    out += char;
    used += w;
  }
  return out + '…';
}

function naturalWidths(columns: ReadonlyArray<{ header: string }>, cells: string[][]): number[] {
  return columns.map((c, i) => Math.max(displayWidth(c.header), ...cells.map((line) => displayWidth(line[i] ?? ''))));
}

/** Widths that fit `total` by cutting the widest cuttable columns, or undefined when none do. */
function fitWidths(columns: ReadonlyArray<{ header: string; minWidth?: number }>, natural: number[], total: number): number[] | undefined {
  const widths = [...natural];
  let overflow = widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1) - total;
  while (overflow > 0) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++) {
      const min = Math.max(columns[i]!.minWidth ?? Infinity, displayWidth(columns[i]!.header));
      if (widths[i]! > min && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    }
    if (widest < 0) return undefined;
    const min = Math.max(columns[widest]!.minWidth!, displayWidth(columns[widest]!.header));
    const cut = Math.min(overflow, widths[widest]! - min, Math.max(1, Math.ceil(overflow / 2)));
    widths[widest]! -= cut;
    overflow -= cut;
  }
  return widths;
}

function renderTable(headers: string[], cells: string[][], widths: number[]): string {
  return (
    [headers, ...cells]
      .map((line) =>
        line
          .map((cell, i) => {
            const fitted = truncateToWidth(cell, widths[i]!);
            return i === line.length - 1 ? fitted : fitted + ' '.repeat(widths[i]! - displayWidth(fitted));
          })
          .join(' '.repeat(GAP))
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** One block per row, `HEADER  value` a line, blocks apart by an empty line: nothing is cut. */
function renderVertical(headers: string[], cells: string[][]): string {
  const labelWidth = Math.max(...headers.map(displayWidth));
  return cells
    .map((line) => line.map((cell, i) => `${headers[i]!}${' '.repeat(labelWidth - displayWidth(headers[i]!))}  ${cell}`.trimEnd()).join('\n') + '\n')
    .join('\n');
}

function oneLine(value: string): string {
  return value.replace(/[\t\r\n]+/g, ' ');
}
