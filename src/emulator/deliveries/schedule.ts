/**
 * The emulator's retry policy. Gemini documents only "exponential backoff for up to 24 hours"
 * and an auto-disable state without a threshold (spec §6), so the numbers here are gemwh's choice:
 *
 *   first retry after 5 s, then each delay doubles (10 s, 20 s, ... 2560 s), capped at 1 h;
 *   no attempt is scheduled more than 24 h (emulated) after the first one: 33 attempts in all;
 *   no jitter, so tests and `gemwh emulator deliveries` can show exact times.
 */

export interface RetrySchedule {
  initialDelayMs: number;
  maxDelayMs: number;
  /** Retries stop once the next one would fall later than this after the first attempt. */
  windowMs: number;
}

export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = {
  initialDelayMs: 5_000,
  maxDelayMs: 3_600_000,
  windowMs: 24 * 3_600_000,
};

/** A webhook whose deliveries failed this many times in a row becomes disabled_due_to_failed_deliveries. */
export const DEFAULT_DISABLE_AFTER_FAILURES = 20;

/** A receiver must answer (headers) within this much real time, or the attempt counts as failed. */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 5_000;

/** The emulated wait after failed attempt number `attempt` (1-based). */
export function retryDelayMs(attempt: number, schedule: RetrySchedule = DEFAULT_RETRY_SCHEDULE): number {
  // 2 ** 40 is already far past any cap; clamping keeps the arithmetic finite.
  const exponent = Math.min(Math.max(attempt - 1, 0), 40);
  return Math.min(schedule.initialDelayMs * 2 ** exponent, schedule.maxDelayMs);
}

/**
 * Emulated offsets (ms after the first attempt) of every attempt a never-answering receiver
 * sees: [0, 5000, 15000, 35000, ...]. The emulation help topic's table and the tests read it.
 */
export function attemptOffsetsMs(schedule: RetrySchedule = DEFAULT_RETRY_SCHEDULE): number[] {
  const offsets = [0];
  let elapsed = 0;
  for (let attempt = 1; ; attempt++) {
    const delay = retryDelayMs(attempt, schedule);
    if (elapsed + delay > schedule.windowMs) return offsets;
    elapsed += delay;
    offsets.push(elapsed);
  }
}
