import { UsageError } from '../errors.js';

/** Parsers for listen's flag values that have no home in core (sizes, forward headers, ports). */

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
