import type { ListenEvent } from '../../src/listen/events.js';
import type { DeliveryDetails } from '../../src/listen/session-types.js';
import type { ListenUiSession } from '../../src/ui/types.js';

/**
 * A listen session without a server: tests emit events by hand, store details for the detail
 * view, and read back what the UI asked for (resends, stop).
 */
export class FakeSession implements ListenUiSession {
  readonly resent: number[] = [];
  stopCalls = 0;
  resendError: Error | undefined;
  /** As a real session cuts bodies for showing (at 256 KiB) unless the whole one is asked for. */
  shownBodyChars = Number.POSITIVE_INFINITY;
  private readonly listeners = new Set<(event: ListenEvent) => void>();
  private readonly past: ListenEvent[] = [];
  private readonly details = new Map<number, DeliveryDetails>();
  private settle!: { resolve: () => void; reject: (error: Error) => void };
  readonly done: Promise<void>;

  constructor(history: ListenEvent[] = []) {
    this.past.push(...history);
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  }

  on(listener: (event: ListenEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  history(): readonly ListenEvent[] {
    return this.past;
  }

  emit(...events: ListenEvent[]): void {
    for (const event of events) {
      this.past.push(event);
      for (const listener of this.listeners) listener(event);
    }
  }

  setDetails(details: DeliveryDetails): void {
    this.details.set(details.seq, details);
  }

  getDelivery(seq: number, options: { wholeBody?: boolean } = {}): DeliveryDetails | undefined {
    const details = this.details.get(seq);
    if (!details || options.wholeBody || details.body.data.length <= this.shownBodyChars) return details;
    return { ...details, body: { ...details.body, data: details.body.data.slice(0, this.shownBodyChars), truncated: true } };
  }

  async resend(seq: number): Promise<void> {
    this.resent.push(seq);
    if (this.resendError) throw this.resendError;
  }

  async stop(reason = 'stopped'): Promise<void> {
    this.stopCalls++;
    if (this.stopCalls === 1) {
      this.emit({ type: 'stopped', at: 0, reason });
      this.settle.resolve();
    }
  }

  fail(error: Error): void {
    this.settle.reject(error);
  }
}

/** Epoch ms for 12:00:00 + seconds on a fixed day, in the local zone the UI formats times in. */
export function localTime(seconds: number): number {
  return new Date(2026, 4, 4, 12, 0, seconds).getTime();
}

export const READY: ListenEvent = {
  type: 'ready',
  at: localTime(0),
  url: 'http://127.0.0.1:8787/webhook',
  forwardTargets: ['http://localhost:3000/hook'],
  verifying: { webhookIds: ['k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f'], secrets: ['whsec_…ab12'], jwks: 'https://example.test/jwks' },
};

/** received → verified → forwarded for one delivery. */
export function deliveredEvents(seq: number, eventType = 'batch.succeeded', latencyMs = 12): ListenEvent[] {
  const at = localTime(seq % 60);
  const webhookId = `msg_${String(seq).padStart(8, '0')}abcdef`;
  return [
    { type: 'received', at, seq, method: 'POST', path: '/webhook', webhookId, eventType, bodyBytes: 90 },
    { type: 'verified', at, seq, webhookId, eventType, scheme: 'static', matched: { label: 'k0h9', inGrace: false }, willForward: true },
    { type: 'forwarded', at: at + latencyMs, seq, target: 'http://localhost:3000/hook', attempt: 1, status: 200, latencyMs, responseStart: 'ok' },
  ];
}

export function detailsFor(seq: number, overrides: Partial<DeliveryDetails> = {}): DeliveryDetails {
  return {
    seq,
    receivedAt: localTime(seq % 60),
    method: 'POST',
    path: '/webhook',
    headers: [
      ['webhook-id', `msg_${seq}`],
      ['webhook-timestamp', '1777896000'],
      ['webhook-signature', 'v1,abc='],
    ],
    body: { encoding: 'utf8', data: '{"type":"batch.succeeded","data":{"id":"batch_1"}}', bytes: 52, truncated: false },
    webhookId: `msg_${seq}`,
    eventType: 'batch.succeeded',
    status: 204,
    outcome: {
      kind: 'verified',
      verdict: {
        ok: true,
        scheme: 'static',
        webhookId: `msg_${seq}`,
        timestamp: 1777896000,
        matched: { label: 'k0h9', index: 0, inGrace: false },
        explanation: 'signature matches secret k0h9',
      },
      willForward: true,
    },
    targets: ['http://localhost:3000/hook'],
    forwards: [
      { target: 'http://localhost:3000/hook', attempt: 1, at: localTime(seq % 60), ok: true, status: 200, latencyMs: 12, responseStart: '{"ok":true}' },
    ],
    ...overrides,
  };
}
