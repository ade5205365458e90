import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HeaderBag, Verdict } from '../core/verdict.js';
import type { ReadyEvent } from './events.js';
import type { HeaderPairs, RetryPolicy } from './forwarder.js';
import type { JournalOptions } from './journal-records.js';
import type { LockOwner } from './journal-lock.js';
import type { ReceiverLimits } from './receiver.js';
import type { RoutingOptions } from './routing.js';

/** Checks one delivery. Static and dynamic verification (and the JWKS behind it) hide behind this. */
export type DeliveryVerifier = (input: { rawBody: Buffer; headers: HeaderBag; now: number }) => Verdict | Promise<Verdict>;

export interface ListenSessionOptions extends RoutingOptions, ReceiverLimits {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Only this path is accepted (others get 404); undefined accepts every path. */
  path?: string;
  verify: DeliveryVerifier;
  /** What `ready` reports as the verification setup (already redacted). */
  verifying: ReadyEvent['verifying'];
  /** `--header 'K: V'` pairs added to every forward. */
  extraHeaders: HeaderPairs;
  forwardTimeoutMs: number;
  /** Accept an https app's untrusted TLS certificate (a local self-signed one). */
  forwardInsecure?: boolean;
  forwardConcurrency: number;
  retry: RetryPolicy;
  /** Undefined: no journal (--no-journal): no crash safety, no resume, dedup only in memory. */
  journal?: JournalOptions;
  dedupCapacity: number;
  resume: { maxAgeMs: number; maxDeliveries: number };
  /** How long stop() waits for requests and forwards in flight. */
  stopGraceMs: number;
  /**
   * Body bytes the forward queue may hold in memory while the app is slow or down. Past it,
   * deliveries are only journaled and read back once the queue has drained (with a journal).
   */
  forwardBacklogBytes?: number;
  /** Who locks the journal against a second listener (the CLI passes its process); no lock without. */
  journalOwner?: LockOwner;
  /** Answers requests that are not deliveries (a tunnel's reachability probe) before anything else sees them. */
  intercept?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /**
   * Runs once the port is open, before `ready`: e.g. a tunnel started towards the port. What it
   * returns goes into `ready`; when it throws, the session closes and the start fails with it.
   */
  beforeReady?: (url: string) => Promise<Pick<ReadyEvent, 'publicUrl'> & { webhookIds?: string[] }>;
  /**
   * The currently valid secrets of the webhook a static delivery was verified with (by its
   * matched label): a forward that waited (a retry, a resend, a resumed or parked one) is signed
   * afresh with them, so an app that checks the timestamp still takes it. Without: as received.
   */
  signingSecrets?: (matchedLabel: string, delivery?: { body: Buffer; headers: HeaderPairs }) => readonly string[];
  /** --forward-as-received: every attempt carries the headers as received, even when re-signing is possible. */
  forwardAsReceived?: boolean;
}

export const LISTEN_DEFAULTS = {
  host: '127.0.0.1',
  port: 8787,
  forwardTimeoutMs: 30_000,
  forwardConcurrency: 16,
  dedupCapacity: 50_000,
  resume: { maxAgeMs: 24 * 60 * 60 * 1000, maxDeliveries: 10_000 },
  stopGraceMs: 5_000,
  forwardBacklogBytes: 64 * 1024 * 1024,
} as const;
