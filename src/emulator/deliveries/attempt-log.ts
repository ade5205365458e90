import type { DeliveryAttempt, DeliveryFilter } from './types.js';

/** Attempts kept for attempts() and `gemwh emulator deliveries`; older ones are forgotten. */
export const ATTEMPTS_KEPT = 10_000;

/**
 * Every attempt the engine made, the most recent ATTEMPTS_KEPT of them. A record is kept when its
 * attempt starts (outcome `in_flight`) and filled in place as it ends, so a listing shows what is
 * in flight too.
 */
export class AttemptLog {
  private records: DeliveryAttempt[] = [];
  private seq = 0;

  /** The `seq` of the next attempt: one more per attempt in this emulator run. */
  nextSeq(): number {
    return ++this.seq;
  }

  keep(record: DeliveryAttempt): void {
    this.records.push(record);
    // Trimming in chunks keeps this O(1) amortised under a flood of deliveries.
    if (this.records.length > ATTEMPTS_KEPT * 1.1) this.records.splice(0, this.records.length - ATTEMPTS_KEPT);
  }

  /** Copies of the kept attempts that match, oldest first. */
  list(filter: DeliveryFilter = {}): DeliveryAttempt[] {
    const start = Math.max(0, this.records.length - ATTEMPTS_KEPT);
    const result: DeliveryAttempt[] = [];
    for (let i = start; i < this.records.length; i++) {
      const a = this.records[i]!;
      if ((filter.webhookId === undefined || a.webhookId === filter.webhookId) && (filter.deliveryId === undefined || a.deliveryId === filter.deliveryId)) {
        result.push({ ...a });
      }
    }
    return result;
  }
}
