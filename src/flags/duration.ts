import { UsageError } from '../errors.js';

/**
 * Durations as people type them on a command line: `300` (seconds), `300s`, `5m`, `2h`, `24h`,
 * `1d`, `500ms`, and combinations such as `1h30m`. A bare number means seconds because that is
 * what the Standard Webhooks tolerance and most HTTP headers count in.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;

export const DURATION_FORMS = '300, 300s, 5m, 2h, 24h, 1d, 500ms or 1h30m';

/** Milliseconds; throws UsageError naming `flag` (e.g. `--tolerance`) when the text is not a duration. */
export function parseDuration(text: string, flag = 'duration'): number {
  const value = text.trim().toLowerCase();
  if (/^\d+(?:\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  if (!WHOLE.test(value)) {
    throw new UsageError(`${flag}: "${text}" is not a duration`, {
      hint: `Write a number of seconds or a number with a unit: ${DURATION_FORMS}.`,
    });
  }
  let total = 0;
  for (const match of value.matchAll(PART)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? 's'] ?? 1000);
  }
  return Math.round(total);
}

/**
 * A duration that must be longer than zero, such as a timeout: `0` would make every request fail
 * at once and read as the other side's fault.
 */
export function parsePositiveDuration(text: string, flag = 'duration'): number {
  const ms = parseDuration(text, flag);
  if (ms <= 0) {
    throw new UsageError(`${flag} must be longer than zero, not "${text}"`, {
      hint: `Write a number of seconds or a number with a unit: ${DURATION_FORMS}.`,
    });
  }
  return ms;
}

/** Whole seconds (rounded down), for options such as a verification tolerance. */
export function parseDurationSeconds(text: string, flag = 'duration'): number {
  return Math.floor(parseDuration(text, flag) / 1000);
}

/**
 * A point in time as typed on a command line (`--now` for old captures): epoch seconds, epoch
 * milliseconds (13 digits), or an ISO 8601 time. Returns epoch ms.
 */
export function parseInstant(text: string, flag = 'time'): number {
  const value = text.trim();
  if (/^\d{1,12}(?:\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  if (/^\d{13}$/.test(value)) return Number(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return ms;
  }
  throw new UsageError(`${flag}: "${text}" is not a time`, {
    hint: 'Give seconds since the epoch (1614265330) or an ISO 8601 time (2026-05-04T12:00:00Z).',
  });
}
