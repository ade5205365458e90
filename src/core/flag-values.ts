import { UsageError } from '../errors.js';

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
