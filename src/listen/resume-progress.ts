import { countText, type Progress } from '../core/progress.js';
import type { ListenEvent } from './events.js';

/**
 * How far the forwards an earlier run left pending have got: a `resumed` delivery is settled once
 * each of its targets has either accepted it or failed with no retry left. Fed every session
 * event; memory is bounded by the resume limit (LISTEN_DEFAULTS.resume.maxDeliveries).
 */
export interface ResumeTracker {
  /** Returns true when the event changed the count. */
  see(event: ListenEvent): boolean;
  readonly total: number;
  readonly settled: number;
}

export function createResumeTracker(): ResumeTracker {
  const owed = new Map<number, Set<string>>();
  let total = 0;
  let settled = 0;
  const settle = (seq: number, target: string): boolean => {
    const targets = owed.get(seq);
    if (!targets?.delete(target) || targets.size > 0) return false;
    owed.delete(seq);
    settled++;
    return true;
  };
  return {
    see(event) {
      switch (event.type) {
        case 'resumed':
          if (event.targets.length === 0) return false;
          owed.set(event.seq, new Set(event.targets));
          total++;
          return true;
        case 'forwarded':
          return settle(event.seq, event.target);
        case 'forward_failed':
          return event.nextAttemptAt === undefined && settle(event.seq, event.target);
        default:
          return false;
      }
    },
    get total() {
      return total;
    },
    get settled() {
      return settled;
    },
  };
}

/** The words of the progress line; undefined once nothing is left to wait for. */
export function resumeProgressText(tracker: Pick<ResumeTracker, 'total' | 'settled'>): string | undefined {
  if (tracker.settled >= tracker.total) return undefined;
  return countText(tracker.settled, tracker.total, 'forwards resumed from the journal done');
}

/**
 * Shows the resume's progress on `progress` as events arrive; the line goes away once every
 * resumed forward has settled, or when the session stops.
 */
export function showResumeProgress(progress: Progress): (event: ListenEvent) => void {
  const tracker = createResumeTracker();
  return (event) => {
    if (event.type === 'stopped') {
      progress.done();
      return;
    }
    if (!tracker.see(event)) return;
    const text = resumeProgressText(tracker);
    if (text === undefined) progress.done();
    else progress.update(text);
  };
}
