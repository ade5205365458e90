import type { KeySource } from './jwt.js';
import { getHeader, looksLikeJwt } from './headers.js';
import { verifyStaticSteps } from './standard-webhooks.js';
import type { HeaderBag, SecretCandidate, Verdict } from './verdict.js';

/**
 * One entry point for a delivery of either kind: static webhooks sign with HMAC (`v1,<base64>`
 * entries), dynamic ones put an RS256 JWT in the same webhook-signature header. listen,
 * conformance and `gemwh verify` call this and need not know which one arrived.
 */

export type DeliveryScheme = 'static' | 'dynamic';

/** Which scheme the webhook-signature header uses; undefined when there is none. */
export function detectScheme(headers: HeaderBag): DeliveryScheme | undefined {
  const signature = getHeader(headers, 'webhook-signature', ' ')?.trim();
  if (!signature) return undefined;
  return looksLikeJwt(signature) ? 'dynamic' : 'static';
}

export interface VerifyDeliveryInput {
  rawBody: string | Uint8Array;
  headers: HeaderBag;
  /** Epoch ms. */
  now: number;
  toleranceSec?: number;
  /** For static deliveries. */
  secrets?: readonly SecretCandidate[];
  /** For dynamic deliveries, with the optional claim checks. */
  keys?: KeySource;
  audience?: string | readonly string[];
  issuer?: string;
  /** See VerifyStaticInput.mayDiagnose. */
  mayDiagnose?: () => boolean;
}

export async function verifyDelivery(input: VerifyDeliveryInput): Promise<Verdict> {
  return verifyDeliveryNow(input);
}

/**
 * verifyDelivery without a promise when none is needed: a static delivery is judged on the spot
 * unless diagnosing its failure takes long enough to let the event loop turn (see stepByStep).
 * A server calls this once per request, so a promise and its microtask saved here count.
 */
export function verifyDeliveryNow(input: VerifyDeliveryInput): Verdict | Promise<Verdict> {
  const scheme = detectScheme(input.headers) ?? (input.secrets?.length || !input.keys ? 'static' : 'dynamic');
  if (scheme === 'static') {
    const verdict = stepByStep(verifyStaticSteps({ ...input, secrets: input.secrets ?? [] }));
    return verdict instanceof Promise ? verdict.then((v) => withJwksOnlyNote(v, input)) : withJwksOnlyNote(verdict, input);
  }
  if (!input.keys) {
    const verdict: Verdict = {
      ok: false,
      scheme: 'dynamic',
      reason: 'jwks_unavailable',
      explanation: 'the delivery carries a JWT (a dynamic webhook), but no JWKS was given to check it',
      diagnosis: [
        'Dynamic deliveries are signed with Google’s keys, published as a JWKS; a signing secret cannot verify them.',
      ],
    };
    const id = getHeader(input.headers, 'webhook-id');
    if (id) verdict.webhookId = id;
    return verdict;
  }
  return verifyWithKeys(input, input.keys);
}

function withJwksOnlyNote(verdict: Verdict, input: VerifyDeliveryInput): Verdict {
  if (!verdict.ok && verdict.reason === 'bad_secret' && (input.secrets?.length ?? 0) === 0 && input.keys) {
    verdict.diagnosis.unshift('The delivery is signed with HMAC (a static webhook), but only a JWKS was given: static deliveries need the webhook’s signing secret.');
  }
  return verdict;
}

async function verifyWithKeys(input: VerifyDeliveryInput, keys: KeySource): Promise<Verdict> {
  // jose is only loaded when a JWT actually arrives: static-only sessions never pay for it.
  const { verifyDynamic } = await import('./jwt.js');
  return verifyDynamic({ ...input, keys });
}

/**
 * Runs verification steps, letting the event loop turn between them: a failing delivery's
 * diagnosis then cannot hold up the requests that arrive meanwhile. Synchronous until the first
 * turn: an accepted delivery (which never yields) gets its verdict without a promise.
 */
function stepByStep<T>(steps: Generator<void, T>): T | Promise<T> {
  // A turn of the loop per step would cost more than the steps of a small body: turn once a millisecond.
  const started = performance.now();
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
    if (performance.now() - started >= 1) return stepsAfterTurns(steps);
  }
}

async function stepsAfterTurns<T>(steps: Generator<void, T>): Promise<T> {
  let turned = -Infinity;
  for (;;) {
    if (performance.now() - turned >= 1) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      turned = performance.now();
    }
    const next = steps.next();
    if (next.done) return next.value;
  }
}
