import { UsageError } from '../errors.js';
import { parseDuration } from './duration.js';

/**
 * The parsers of command-line flag values, one family in src/flags/: values.ts (counts, ports,
 * rates, sizes, paths, page size, metadata, grace, ids, non-empty text), duration.ts (durations
 * and instants) and target.ts/route.ts (where deliveries go). Every parser names the flag in its
 * error and says what a good value looks like. Grammars that engines share stay with their
 * concept: event lists (core/events.ts), `K: V` headers (core/headers.ts), `path=value`
 * (core/set-path.ts); parsers that need an engine's types stay beside it (tunnel/tools.ts,
 * relay/filter.ts, listen/public-url.ts).
 */

/** A whole number in [min, max] given to `flag`; the hint, when given, says what a good value looks like. */
export function parseCount(text: string, flag: string, min: number, max: number, hint?: string): number {
  const value = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, not "${text}"`, hint === undefined ? {} : { hint });
  }
  return value;
}

/** A TCP port for `flag`; 0 (any free port) is allowed unless `min` is 1. */
export function parsePort(text: string, options: { flag?: string; min?: 0 | 1; example?: number } = {}): number {
  const { flag = '--port', min = 0, example = 8787 } = options;
  const value = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || value < min || value > 65535) {
    throw new UsageError(`${flag} must be a ${min === 0 ? 'number' : 'port'} from ${min} to 65535, not "${text}"`, {
      hint: min === 0 ? `e.g. ${flag} ${example}, or ${flag} 0 for any free port.` : `e.g. ${flag} ${example}`,
    });
  }
  return value;
}

/** A share from 0 to 1 (`0.25`), or a percentage (`25%`). */
export function parseRate(value: string, flag: string): number {
  const text = value.trim();
  const percent = text.endsWith('%');
  const number = Number(percent ? text.slice(0, -1) : text);
  const rate = percent ? number / 100 : number;
  if (text === '' || text === '%' || !Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new UsageError(`${flag} must be a number from 0 to 1 (or a percentage), got "${value}"`, { hint: `e.g. ${flag} 0.2 or ${flag} 20%.` });
  }
  return rate;
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** `1048576`, `512k`, `1MiB`, `16MB` (units are binary: a kilobyte here is 1024 bytes). */
export function parseByteSize(text: string, flag: string, min = 1): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = SIZE_UNITS[(match?.[2] ?? '').toLowerCase()];
  const value = match && unit !== undefined ? Math.floor(Number(match[1]) * unit) : Number.NaN;
  if (!Number.isFinite(value) || value < min) {
    throw new UsageError(`${flag}: "${text}" is not a size of at least ${min} bytes`, {
      hint: `Write bytes or a number with a unit, e.g. ${flag} 1MiB, 512KiB or 1048576.`,
    });
  }
  return value;
}

/** `--path`: a request path that deliveries must use. */
export function parsePath(text: string): string {
  const path = text.trim();
  if (!path.startsWith('/') || /[\s?#]/.test(path)) {
    throw new UsageError(`--path "${text}" is not a URL path`, { hint: 'Give a path starting with /, without query, e.g. --path /webhook.' });
  }
  return path;
}

/** The largest page the API hands out (webhooks.list page_size). */
export const MAX_PAGE_SIZE = 1000;

/** `--page-size`. */
export function parsePageSize(text: string): number {
  return parseCount(text, '--page-size', 1, MAX_PAGE_SIZE, 'The API returns at most 50 by default and 1000 at most.');
}

/** `--metadata tenant=acme --metadata priority=3`: values are JSON when they parse, text otherwise. */
export function parseMetadata(pairs: readonly string[]): Record<string, unknown> {
  const metadata: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq).trim() : '';
    if (key === '' || key === '__proto__') {
      throw new UsageError(`--metadata "${pair}" is not KEY=VALUE`, { hint: 'e.g. --metadata tenant=acme --metadata job_ref=nightly-42' });
    }
    const text = pair.slice(eq + 1);
    try {
      metadata[key] = JSON.parse(text) as unknown;
    } catch {
      metadata[key] = text;
    }
  }
  return metadata;
}

/** rotate --grace: what happens to the previous signing secrets. */
export type Revocation = 'after_24h' | 'immediately';

// The one grace period the API offers (secrets/current-secrets.ts keeps old secrets that long).
const API_GRACE_MS = 24 * 60 * 60 * 1000;

/** `--grace`: the API offers exactly two behaviours, so only their spellings are accepted. */
export function parseGrace(text: string): Revocation {
  const value = text.trim().toLowerCase();
  if (value === 'immediate' || value === 'immediately' || value === 'none') return 'immediately';
  let ms: number | undefined;
  try {
    ms = parseDuration(value, '--grace');
  } catch {
    ms = undefined;
  }
  if (ms === 0) return 'immediately';
  if (ms === API_GRACE_MS) return 'after_24h';
  throw new UsageError(`--grace "${text}" is not offered by the API`, {
    hint: 'The API offers only two: --grace 24h (previous secrets keep working for 24 hours, the default) or --grace 0 (revoked immediately).',
  });
}

/** replay fixture --id: a webhook-id header value of our choosing. */
export function parseWebhookIdHeader(text: string): string {
  // The id goes into the signed content and a header: a dot or a line break would be ambiguous or unsendable.
  if (!/^[\x21-\x7e]+$/.test(text) || text.includes('.')) {
    throw new UsageError(`--id "${text}" is not usable as a webhook-id`, {
      hint: 'Use printable ASCII without spaces or dots, e.g. msg_2Kq8d7Lr0X.',
    });
  }
  return text;
}

/** A text flag that, when given, must say something (an empty --audience would match nothing). */
export function parseNonEmpty(value: string | undefined, flag: string, example: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') throw new UsageError(`${flag} must not be empty`, { hint: `e.g. ${flag} ${example}, or leave it out.` });
  return value;
}

/** emulator --time-scale: emulated time runs K times faster. */
export function parseTimeScale(text: string): number {
  const timeScale = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !(timeScale > 0)) {
    throw new UsageError(`--time-scale must be a positive number, got "${text}"`, {
      hint: 'e.g. --time-scale 3600 plays an hour of retries in a second.',
    });
  }
  return timeScale;
}
