import { describe, expect, it } from 'vitest';
import { formatDuration, isoSeconds } from '../../src/core/duration.js';
import { parseDuration, parseDurationSeconds, parsePositiveDuration } from '../../src/flags/duration.js';
import { UsageError } from '../../src/errors.js';

describe('parseDuration', () => {
  it.each([
    ['300', 300_000],
    ['300s', 300_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['24h', 86_400_000],
    ['1d', 86_400_000],
    ['500ms', 500],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    [' 10S ', 10_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'abc', '5 minutes', '-5s', '5x', 'm5', '1h 30m'])('rejects %j with the flag name and the accepted forms', (text) => {
    try {
      parseDuration(text, '--tolerance');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toContain('--tolerance');
      expect((error as UsageError).hint).toContain('5m');
    }
  });

  it.each(['0', '0s', '0ms', '0.0001s', '0h0m'])('parsePositiveDuration refuses %j: a zero timeout only makes every request fail', (text) => {
    expect(() => parsePositiveDuration(text, '--timeout')).toThrow(UsageError);
    expect(() => parsePositiveDuration(text, '--timeout')).toThrow(`--timeout must be longer than zero, not "${text}"`);
  });

  it('parsePositiveDuration passes on what parseDuration accepts above zero, and its errors', () => {
    expect(parsePositiveDuration('1ms', '--timeout')).toBe(1);
    expect(parsePositiveDuration('10s', '--timeout')).toBe(10_000);
    expect(() => parsePositiveDuration('-5s', '--timeout')).toThrow('--timeout: "-5s" is not a duration');
  });

  it('gives whole seconds', () => {
    expect(parseDurationSeconds('5m')).toBe(300);
    expect(parseDurationSeconds('1500ms')).toBe(1);
  });
});

describe('formatDuration / isoSeconds', () => {
  it('rounds to the largest unit that fits', () => {
    expect(formatDuration(450)).toBe('450 ms');
    expect(formatDuration(1000)).toBe('1 second');
    expect(formatDuration(45_000)).toBe('45 seconds');
    expect(formatDuration(-12 * 60_000)).toBe('12 minutes');
    expect(formatDuration(3 * 3_600_000)).toBe('3 hours');
    expect(formatDuration(3 * 86_400_000)).toBe('3 days');
  });

  it('writes ISO times without milliseconds, and survives absurd values', () => {
    expect(isoSeconds(Date.UTC(2026, 4, 4, 12, 0, 0, 999))).toBe('2026-05-04T12:00:00Z');
    expect(isoSeconds(1e20)).toMatch(/after the epoch/);
  });
});
