/**
 * Output formats shared by every command that prints rows: an aligned table for people on a
 * terminal, TSV for pipes (no padding, no colour, one row a line), JSON for --json.
 */

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
}

/** Aligned columns separated by two spaces; the last column is never padded. */
export function formatTable<Row>(rows: readonly Row[], columns: ReadonlyArray<Column<Row>>): string {
  const cells = [columns.map((c) => c.header), ...rows.map((row) => columns.map((c) => oneLine(c.value(row))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => displayWidth(line[i] ?? ''))));
  return (
    cells
      .map((line) =>
        line
          .map((cell, i) => (i === line.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - displayWidth(cell))))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** Tab-separated, with a header line; tabs and newlines inside values become spaces. */
export function formatTsv<Row>(rows: readonly Row[], columns: ReadonlyArray<Column<Row>>): string {
  const lines = [columns.map((c) => c.header), ...rows.map((row) => columns.map((c) => oneLine(c.value(row))))];
  return lines.map((line) => line.join('\t')).join('\n') + '\n';
}

/** Table on a TTY, TSV otherwise. */
export function formatRows<Row>(rows: readonly Row[], columns: ReadonlyArray<Column<Row>>, isTTY: boolean): string {
  return isTTY ? formatTable(rows, columns) : formatTsv(rows, columns);
}

export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

function oneLine(value: string): string {
  return value.replace(/[\t\r\n]+/g, ' ');
}

/** Counts code points, so ✓ and … take one column each. */
function displayWidth(value: string): number {
  return [...value].length;
}
