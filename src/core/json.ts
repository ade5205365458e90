/** Pretty JSON with a final newline, as every --json prints it. Apart from core/table.ts, so printing JSON does not load string-width. */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
