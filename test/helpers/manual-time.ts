import type { Clock, Scheduler } from '../../src/deps.js';

export interface ManualTime {
  clock: Clock;
  scheduler: Scheduler;
  /** Work waiting for its time. */
  readonly waiting: number;
  /** Every delay asked of the scheduler, in order. */
  readonly delays: number[];
  /** Moves the clock on by `ms`, running what falls due on the way, in order of due time. */
  advance(ms: number): void;
  /** Moves the clock to the next waiting work and runs it; false when nothing waits. */
  next(): boolean;
}

/**
 * A clock and a scheduler that move only when the test says: retry backoffs are stepped through
 * instead of slept through. Starts at `start` (epoch ms).
 */
export function manualTime(start = Date.now()): ManualTime {
  let now = start;
  let order = 0;
  const due = new Map<number, { at: number; run: () => void }>();
  const delays: number[] = [];
  const earliest = () => {
    let found: [number, { at: number; run: () => void }] | undefined;
    for (const entry of due) if (!found || entry[1].at < found[1].at) found = entry;
    return found;
  };
  const runOne = (limit: number): boolean => {
    const found = earliest();
    if (!found || found[1].at > limit) return false;
    due.delete(found[0]);
    now = Math.max(now, found[1].at);
    found[1].run();
    return true;
  };
  return {
    clock: { now: () => now },
    scheduler: {
      after(ms, run) {
        const id = order++;
        delays.push(ms);
        due.set(id, { at: now + Math.max(0, ms), run });
        return () => due.delete(id);
      },
    },
    get waiting() {
      return due.size;
    },
    delays,
    advance(ms) {
      const target = now + ms;
      while (runOne(target));
      now = target;
    },
    next() {
      const found = earliest();
      return found ? runOne(found[1].at) : false;
    },
  };
}
