/**
 * Lengths of time and instants as gemwh prints them. Reading them from flags is flags/duration.ts.
 */

/**
 * A short human form of a length of time: `45 s`, `12 minutes`, `3 hours`, `2 days`. Rounded to the
 * largest unit that fits, because it is read in diagnostics, not parsed.
 */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (abs < 1000) return `${Math.round(abs)} ms`;
  const seconds = Math.round(abs / 1000);
  if (seconds < 120) return plural(seconds, 'second');
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return plural(minutes, 'minute');
  const hours = Math.round(minutes / 60);
  if (hours < 48) return plural(hours, 'hour');
  return plural(Math.round(hours / 24), 'day');
}

/** `2026-05-04T12:00:00Z`: ISO 8601 without milliseconds, as Gemini's payloads write times. */
export function isoSeconds(epochMs: number): string {
  // Date cannot represent it; a garbled timestamp must not crash a diagnosis.
  if (!Number.isFinite(epochMs) || Math.abs(epochMs) > 8.64e15) return `${Math.floor(epochMs / 1000)} s after the epoch`;
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
