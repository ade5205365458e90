import { UsageError } from '../errors.js';

/**
 * The parsers of command-line flag values that are no core concept: counts, ports, rates, sizes,
 * paths, page sizes. Values with a grammar of their own that engines share live with their
 * concept in core/ (durations, targets, event lists, `K: V` headers, `path=value`); commands
 * import both, never a copy. Every parser names the flag in its error and says what a good
 * value looks like.
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
