import { sign } from '../core/standard-webhooks.js';
import type { HeaderPairs, PreparedSend } from './forwarder.js';
import { TOKEN_EXPIRED_WORDS } from './forward-notes.js';
import type { JournalDeliveryRecord } from './journal-records.js';
import type { ForwardAttempt } from './session-types.js';

/**
 * How a forward is signed. A static delivery that waited (any attempt after the first, or one
 * resumed or read back from the backlog) gets a fresh webhook-timestamp and one v1 signature
 * per valid secret, as Gemini signs its own retries: an app that checks the timestamp would
 * otherwise refuse it for good once it is older than its tolerance.
 */

export type DeliverySigning =
  | { scheme: 'static'; matchedLabel: string }
  /** Epoch ms when the JWT expires, when it says. */
  | { scheme: 'dynamic'; expiresAt?: number };

export interface SigningOptions {
  /** The currently valid secrets of the webhook whose secret `matchedLabel` verified the delivery. */
  signingSecrets?: (matchedLabel: string, delivery?: { body: Buffer; headers: HeaderPairs }) => readonly string[];
  /** --forward-as-received: never re-sign. */
  forwardAsReceived?: boolean;
  /** Epoch ms. */
  now: () => number;
}

export interface SignableDelivery {
  body: Buffer;
  signing?: DeliverySigning;
  /** Resumed from the journal or parked and read back: even its first attempt waited. */
  waited?: boolean;
}

/** The headers of attempt number `attempt` of one forward, and what the journal and the events say about them. */
export function prepareAttempt(delivery: SignableDelivery, headers: HeaderPairs, attempt: number, options: SigningOptions): PreparedSend {
  const signing = delivery.signing;
  if (signing?.scheme === 'dynamic') {
    return signing.expiresAt !== undefined && signing.expiresAt <= options.now() ? { headers, tokenExpired: true } : { headers };
  }
  const asReceived: PreparedSend = { headers, signature: 'as_received', timestamp: headerValue(headers, 'webhook-timestamp') };
  if (signing === undefined || options.forwardAsReceived || (attempt === 1 && !delivery.waited)) return asReceived;
  const webhookId = headerValue(headers, 'webhook-id');
  // Resumed deliveries were verified by another run: let the verifier find their webhook again if need be.
  const secrets = options.signingSecrets?.(signing.matchedLabel, delivery.waited ? { body: delivery.body, headers } : undefined) ?? [];
  if (webhookId === undefined || secrets.length === 0) return asReceived;
  const timestamp = String(Math.floor(options.now() / 1000));
  const signature = secrets.map((secret) => sign(webhookId, timestamp, delivery.body, secret)).join(' ');
  return { headers: withSignature(headers, timestamp, signature), signature: 'resigned', timestamp };
}

/** How a journaled delivery was signed: the secret that matched (static), or when its JWT expires (dynamic). */
export function journaledSigning(record: JournalDeliveryRecord): DeliverySigning | undefined {
  if (record.scheme === 'static') return record.matched ? { scheme: 'static', matchedLabel: record.matched.label } : undefined;
  if (record.scheme !== 'dynamic') return undefined;
  const token = record.headers.find(([name]) => name.toLowerCase() === 'webhook-signature')?.[1];
  try {
    const claims: unknown = JSON.parse(Buffer.from(token?.trim().split('.')[1] ?? '', 'base64url').toString('utf8'));
    const exp = (claims as { exp?: unknown }).exp;
    return { scheme: 'dynamic', expiresAt: typeof exp === 'number' ? exp * 1000 : undefined };
  } catch {
    return { scheme: 'dynamic' };
  }
}

type SigningNote = { signature?: 'resigned'; tokenExpired?: true; note?: string };
const NO_NOTE: SigningNote = Object.freeze({});
const RESIGNED: SigningNote = Object.freeze({ signature: 'resigned' });
const TOKEN_EXPIRED: SigningNote = Object.freeze({ tokenExpired: true, note: TOKEN_EXPIRED_WORDS });

/** The signature note of a forward event: present only when it says something (shared, frozen objects: one per forward was garbage). */
export function signingNote(attempt: ForwardAttempt): Readonly<SigningNote> {
  if (attempt.tokenExpired) return TOKEN_EXPIRED;
  return attempt.signature === 'resigned' ? RESIGNED : NO_NOTE;
}

function headerValue(headers: HeaderPairs, lowerName: string): string | undefined {
  for (const [name, value] of headers) if (name.length === lowerName.length && name.toLowerCase() === lowerName) return value;
  return undefined;
}

/** The headers with webhook-timestamp and webhook-signature replaced in place (the order and the other headers kept). */
function withSignature(headers: HeaderPairs, timestamp: string, signature: string): HeaderPairs {
  return headers.map(([name, value]): [string, string] => {
    const lower = name.toLowerCase();
    if (lower === 'webhook-timestamp') return [name, timestamp];
    if (lower === 'webhook-signature') return [name, signature];
    return [name, value];
  });
}
