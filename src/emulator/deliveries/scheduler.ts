/**
 * When the delivery engine's retries run. Injected, so a test advances time (see
 * test/helpers/manual-scheduler.ts) instead of sleeping through a retry schedule.
 */
export interface Scheduler {
  /** Runs `run` once, `delayMs` real milliseconds from now; returns a handle for cancel(). */
  after(delayMs: number, run: () => void): unknown;
  cancel(handle: unknown): void;
}

/** Real time: setTimeout. */
export const REAL_SCHEDULER: Scheduler = {
  after: (delayMs, run) => setTimeout(run, delayMs),
  cancel: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
