import type { Scheduler } from '../../src/deps.js';

/**
 * A scheduler whose time moves only when the test says so: retry schedules play out at once and
 * the test reads the exact delays asked for, instead of sleeping and measuring.
 */
export class ManualScheduler implements Scheduler {
  /** Virtual ms since the scheduler was made. */
  now = 0;
  private timers: Array<{ at: number; run: () => void; order: number }> = [];
  private order = 0;
  /** Every delay asked for, in order. */
  readonly delays: number[] = [];

  after(delayMs: number, run: () => void): () => void {
    const timer = { at: this.now + delayMs, run, order: this.order++ };
    this.delays.push(delayMs);
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  get pending(): number {
    return this.timers.length;
  }

  /** Moves time to the earliest timer and runs it; false when none is left. */
  runNext(): boolean {
    if (this.timers.length === 0) return false;
    const next = this.timers.reduce((a, b) => (b.at < a.at || (b.at === a.at && b.order < a.order) ? b : a));
    this.timers = this.timers.filter((timer) => timer !== next);
    this.now = Math.max(this.now, next.at);
    next.run();
    return true;
  }
}
