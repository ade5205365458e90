import { encodeBody } from './journal-records.js';
import { DELIVERY_DETAILS_KEPT, type DeliveryDetails } from './session-types.js';
import type { DeliverySigning } from './forward-signing.js';

/** Bodies kept for getDelivery()/resend, counted in bytes so that 1 MiB deliveries cannot pile up. */
const DETAILS_BODY_BUDGET = 64 * 1024 * 1024;
/** getDelivery() shows at most this much of a body. */
const SNAPSHOT_BYTES = 256 * 1024;

/** What the session keeps of one request: for the detail view, resend, and its forwards' bookkeeping. */
export interface DeliveryState {
  key: string;
  details: Omit<DeliveryDetails, 'body'>;
  body: Buffer;
  bodyBytes: number;
  forwardable: boolean;
  /** Attempts made so far per target URL, so that retries and resends count on; made on the first forward. */
  attempts?: Map<string, number>;
  /** How the delivery was signed, for signing a forward that waited afresh (or saying why it cannot be). */
  signing?: DeliverySigning;
  /** Forwarded after waiting (resumed from the journal, or parked and read back): even its first attempt is re-signed. */
  waited?: boolean;
}

/** The most recent requests by seq, bounded by count and by body bytes, oldest evicted first. */
export class DeliveryCache {
  private readonly bySeq = new Map<number, DeliveryState>();
  private bodyBytes = 0;

  keep(state: DeliveryState): void {
    const deliveries = this.bySeq;
    deliveries.set(state.details.seq, state);
    this.bodyBytes += state.body.length;
    for (const [oldSeq, old] of deliveries) {
      if (deliveries.size <= DELIVERY_DETAILS_KEPT && this.bodyBytes <= DETAILS_BODY_BUDGET) break;
      if (oldSeq === state.details.seq) break;
      deliveries.delete(oldSeq);
      this.bodyBytes -= old.body.length;
    }
  }

  get(seq: number): DeliveryState | undefined {
    return this.bySeq.get(seq);
  }

  /**
   * What getDelivery() shows: a copy, the body cut to SNAPSHOT_BYTES unless the whole of it is
   * asked for (an export must send every byte; `truncated` then means only that the receiver
   * itself read no more, a 413).
   */
  details(seq: number, options: { wholeBody?: boolean } = {}): DeliveryDetails | undefined {
    const state = this.bySeq.get(seq);
    if (!state) return undefined;
    const shown = options.wholeBody ? state.body : state.body.subarray(0, SNAPSHOT_BYTES);
    const encoded = encodeBody(shown);
    return {
      ...state.details,
      forwards: [...state.details.forwards],
      body: { encoding: encoded.encoding, data: encoded.body, bytes: state.bodyBytes, truncated: state.bodyBytes > shown.length },
    };
  }
}
