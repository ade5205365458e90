import { scanJournal, type PendingForward } from './journal-scan.js';
import type { JournalOptions } from './journal-records.js';

/**
 * Every job in the forward queue holds its body, so an app that is down (or slower than
 * Gemini) for long would grow the queue without end. Past the budget a delivery is "parked":
 * it is journaled and acknowledged as always, but only its key is kept; once the queue has
 * drained to half the budget, parked deliveries are read back from the journal, oldest first.
 * If listen stops first, they are pending in the journal and the next start resumes them.
 */
export interface ForwardBacklogOptions {
  /** Body bytes the forward queue may hold. */
  budget: number;
  /** Where parked deliveries are read back from; without a journal nothing is parked (only warned about). */
  journal?: JournalOptions;
  /** Body bytes the forward queue holds now. */
  heldBytes: () => number;
  /** Epoch ms. */
  now: () => number;
  warn: (message: string) => void;
  /** Forwards a parked delivery read back from the journal, under the seq it was received with. */
  forwardParked: (pending: PendingForward, seq: number) => void;
  /** True once the session is stopping: nothing more is read back. */
  stopping: () => boolean;
}

export class ForwardBacklog {
  /** Parked delivery keys → their seq, oldest first. */
  private readonly parked = new Map<string, number>();
  private unparking = false;
  private warned = false;

  constructor(private readonly options: ForwardBacklogOptions) {}

  get size(): number {
    return this.parked.size;
  }

  /**
   * Whether a delivery of `bytes` (over all its targets) must be parked rather than queued.
   * Once some are parked, later ones queue up behind them: forwards keep the order of arrival.
   */
  mustPark(bytes: number): boolean {
    const held = this.options.heldBytes();
    const over = held + bytes > this.options.budget;
    if (!this.options.journal) {
      if (over && !this.warned) {
        this.warned = true;
        this.options.warn(
          `the app is not keeping up: ${mebibytes(held)} of deliveries wait to be forwarded, all held in memory because ` +
            'there is no journal to park them in (--no-journal)',
        );
      }
      return false;
    }
    return over || this.parked.size > 0;
  }

  park(key: string, seq: number): void {
    if (this.parked.size === 0 && !this.warned) {
      this.warned = true;
      this.options.warn(
        `the app is not keeping up: ${mebibytes(this.options.heldBytes())} of deliveries wait to be forwarded. New ones are journaled and ` +
          'forwarded once those are through (or by the next listen on this journal, if this one stops first)',
      );
    }
    this.parked.set(key, seq);
    // Nothing may be in flight to call it later (one body larger than the whole budget).
    this.maybeUnpark();
  }

  /** Called whenever the queue gets lighter: reads parked deliveries back once it has drained to half the budget. */
  maybeUnpark(): void {
    if (this.parked.size === 0 || this.unparking || this.options.stopping() || this.options.heldBytes() > this.options.budget / 2) return;
    this.unparking = true;
    this.unpark()
      .catch((error: unknown) => this.options.warn(`cannot read parked deliveries back from the journal: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        this.unparking = false;
        this.maybeUnpark();
      });
  }

  private async unpark(): Promise<void> {
    const journal = this.options.journal!;
    const parked = this.parked;
    const wanted = new Set(parked.keys());
    const scan = await scanJournal(journal.file, journal.keep, {
      now: this.options.now(),
      dedupCapacity: 0,
      maxAgeMs: Infinity,
      maxPending: Infinity,
      only: wanted,
      maxPendingBodyBytes: this.options.budget / 2,
    });
    if (this.options.stopping()) return;
    for (const pending of scan.pending) {
      const seq = parked.get(pending.record.key);
      if (seq === undefined) continue;
      parked.delete(pending.record.key);
      this.options.forwardParked(pending, seq);
    }
    if (scan.cutShort) return;
    // Whatever was wanted and not found is no longer in the journal (rotated away, or unreadable).
    const lost = [...wanted].filter((key) => parked.delete(key));
    if (lost.length > 0) {
      this.options.warn(
        `${lost.length} parked deliver${lost.length === 1 ? 'y is' : 'ies are'} no longer in the journal (rotated away?), so ` +
          `${lost.length === 1 ? 'it was' : 'they were'} not forwarded; raise --journal-max-size, or re-send from a kept copy with \`gemwh replay delivery\``,
      );
    }
    if (parked.size === 0) this.warned = false;
  }
}

function mebibytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
