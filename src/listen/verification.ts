import type { KeySource } from '../core/jwt.js';
import type { SecretCandidate, Verdict } from '../core/verdict.js';
import { verifyStatic } from '../core/standard-webhooks.js';
import { verifyDeliveryNow } from '../core/verify.js';
import type { DeliveryVerifier } from './session-options.js';

export interface ListenVerifierOptions {
  /** The secrets static deliveries are checked against; re-read through `reload`. */
  secrets: readonly SecretCandidate[];
  /**
   * Fetches the current secrets again (from the secret store). Called when a static delivery
   * matches none of them, at most once per `reloadIntervalMs`: a rotation done in another
   * terminal is picked up without restarting listen.
   */
  reload?: () => Promise<readonly SecretCandidate[]>;
  reloadIntervalMs?: number;
  keys?: KeySource;
  /** Any one of them will do; empty or undefined: not checked. */
  audience?: readonly string[];
  toleranceSec: number;
  /** Epoch ms. */
  now: () => number;
  /**
   * Rejected static deliveries diagnosed in full per second (DIAGNOSES_PER_SECOND by default);
   * past it a rejection only names its reason, so a flood of forgeries costs what valid deliveries do.
   */
  diagnosesPerSecond?: number;
}

export const DIAGNOSES_PER_SECOND = 20;

/** The verifier, and the secrets a forward that waited is signed afresh with. */
export type ListenVerifier = DeliveryVerifier & {
  /**
   * The currently valid secrets of the webhook whose secret (labelled `matchedLabel`) verified
   * a delivery: Gemini signs with every valid secret of a webhook, and so does a re-signed forward.
   */
  signingSecrets(matchedLabel: string, delivery?: SignedDelivery): string[];
};

/** A delivery as received, for finding which of today's secrets signed it. */
export interface SignedDelivery {
  body: Buffer;
  headers: ReadonlyArray<readonly [string, string]>;
}

export function createListenVerifier(options: ListenVerifierOptions): ListenVerifier {
  let secrets = options.secrets;
  let lastReload = -Infinity;
  const interval = options.reloadIntervalMs ?? 10_000;

  const mayDiagnose = diagnosisBudget(options.diagnosesPerSecond ?? DIAGNOSES_PER_SECOND, options.now);
  // Synchronous for a static delivery: no promise per request unless a JWT or a long diagnosis needs one.
  const check = (rawBody: Buffer, headers: Parameters<DeliveryVerifier>[0]['headers'], now: number): Verdict | Promise<Verdict> =>
    verifyDeliveryNow({ rawBody, headers, now, toleranceSec: options.toleranceSec, secrets, keys: options.keys, audience: options.audience, mayDiagnose });

  /** A static verdict that matched no secret may be down to a rotation done meanwhile: reload once in a while and check again. */
  const afterCheck = (rawBody: Buffer, headers: Parameters<DeliveryVerifier>[0]['headers'], now: number, verdict: Verdict): Verdict | Promise<Verdict> => {
    if (verdict.ok || verdict.scheme !== 'static' || !options.reload) return verdict;
    if (verdict.reason !== 'no_matching_signature' && verdict.reason !== 'bad_secret') return verdict;
    if (options.now() - lastReload < interval) return verdict;
    lastReload = options.now();
    return reloadAndCheck(options.reload, rawBody, headers, now, verdict);
  };
  const reloadAndCheck = async (
    reload: () => Promise<readonly SecretCandidate[]>,
    rawBody: Buffer,
    headers: Parameters<DeliveryVerifier>[0]['headers'],
    now: number,
    verdict: Verdict,
  ): Promise<Verdict> => {
    try {
      secrets = await reload();
    } catch {
      return verdict;
    }
    return await check(rawBody, headers, now);
  };

  const signingSecrets = (matchedLabel: string, delivery?: SignedDelivery): string[] => {
    const now = options.now();
    const ofGroup = (group: string) =>
      secrets.filter((c) => secretGroup(c.label) === group && (c.expiresAt === undefined || c.expiresAt > now)).map((c) => c.secret);
    const found = ofGroup(secretGroup(matchedLabel));
    if (found.length > 0 || !delivery) return found;
    // A delivery journaled by an earlier run whose secrets were labelled otherwise (--secret
    // then, --webhook now): the secret that still verifies it, at its own time, names the webhook.
    const headers: Record<string, string> = {};
    for (const [name, value] of delivery.headers) headers[name.toLowerCase()] = value;
    const sentAt = Number(headers['webhook-timestamp']) * 1000;
    if (!Number.isFinite(sentAt)) return [];
    const verdict = verifyStatic({ rawBody: delivery.body, headers, secrets, now: sentAt });
    return verdict.ok && verdict.scheme === 'static' ? ofGroup(secretGroup(verdict.matched.label)) : [];
  };
  // Without a secret store to reload from, the verdict is final: no extra async step per delivery.
  const verify: DeliveryVerifier = !options.reload
    ? ({ rawBody, headers, now }) => check(rawBody, headers, now)
    : ({ rawBody, headers, now }) => {
        const verdict = check(rawBody, headers, now);
        return verdict instanceof Promise ? verdict.then((v) => afterCheck(rawBody, headers, now, v)) : afterCheck(rawBody, headers, now, verdict);
      };
  return Object.assign(verify, { signingSecrets });
}

/**
 * Which webhook a secret belongs to, from its label: a stored one is labelled with its webhook
 * id (plus " (previous)" in its rotation grace period); secrets given as flags (--secret, --secret-env $NAME) are taken as one
 * webhook's, as a user passes old and new together during a rotation.
 */
function secretGroup(label: string): string {
  if (label.startsWith('--secret') || label.startsWith('$')) return 'flags';
  return label.endsWith(' (previous)') ? label.slice(0, -' (previous)'.length) : label;
}

/** At most `perSecond` yeses in any window of one second (a fixed window: cheap, and fair enough here). */
function diagnosisBudget(perSecond: number, now: () => number): () => boolean {
  let windowStart = -Infinity;
  let used = 0;
  return () => {
    const at = now();
    if (at - windowStart >= 1000) {
      windowStart = at;
      used = 0;
    }
    if (used >= perSecond) return false;
    used++;
    return true;
  };
}
