import { createHmac, timingSafeEqual } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { ParsedSignatureHeader, SecretInspection } from './signature-types.js';
import { formatDuration, isoSeconds } from './duration.js';
import { getHeader } from './headers.js';
export type { ParsedSignatureHeader, SecretInspection } from './signature-types.js';
import { diagnoseStaticFailureSteps, headerNameFindings, runToEnd, signatureHeaderFindings, timestampFindings } from './static-diagnosis.js';
import type { HeaderBag, Rejected, SecretCandidate, StaticRejectReason, Verdict } from './verdict.js';

/**
 * Standard Webhooks signing (HMAC-SHA256), as Gemini signs static webhook deliveries.
 * Signed content is `${id}.${timestamp}.${rawBody}`; the key is the base64 part of `whsec_…`.
 */

export const SECRET_PREFIX = 'whsec_';

/** Standard Webhooks' (and Gemini's) replay window: 5 minutes either way. */
export const DEFAULT_TOLERANCE_SEC = 300;


const WHERE_SECRETS_COME_FROM =
  'The full signing secret (whsec_…) is shown once: in new_signing_secret when the webhook is created, or in the reply of a rotation.';

/** Checks a secret without throwing, so a verdict can report a bad one among several. */
export function inspectSecret(secret: string): SecretInspection {
  const text = secret.trim();
  if (text === '') return { ok: false, message: 'the signing secret is empty', hint: WHERE_SECRETS_COME_FROM };
  if (/^v1a?,/.test(text)) {
    return {
      ok: false,
      message: 'this is a signature (v1,…) from a webhook-signature header, not a signing secret',
      hint: `Pass the signing secret instead: it starts with whsec_. ${WHERE_SECRETS_COME_FROM}`,
    };
  }
  if (/\.{3}|…/.test(text)) {
    return {
      ok: false,
      message: `"${text}" is a truncated secret, as the API shows it in signing_secrets[].truncated_secret`,
      hint: `${WHERE_SECRETS_COME_FROM} If it is lost, rotate the signing secret to get a new one.`,
    };
  }
  if (/^["'`].*["'`]$/.test(text)) {
    return { ok: false, message: 'the signing secret is wrapped in quotes', hint: 'Pass it without the surrounding quotes.' };
  }
  if (!text.startsWith(SECRET_PREFIX)) {
    const looksBase64 = /^[A-Za-z0-9+/]+={0,2}$/.test(text);
    return {
      ok: false,
      message: 'a signing secret must start with whsec_',
      hint: looksBase64
        ? 'If this is the base64 part of the secret, put whsec_ in front of it.'
        : WHERE_SECRETS_COME_FROM,
    };
  }
  const body = text.slice(SECRET_PREFIX.length);
  if (body === '') return { ok: false, message: 'the signing secret has nothing after whsec_', hint: WHERE_SECRETS_COME_FROM };
  const bad = /[^A-Za-z0-9+/=]/.exec(body);
  if (bad) {
    const urlSafe = bad[0] === '-' || bad[0] === '_';
    return {
      ok: false,
      message: `the signing secret is not base64 after whsec_: unexpected "${bad[0]}" at position ${bad.index + SECRET_PREFIX.length + 1}`,
      hint: urlSafe
        ? 'It looks base64url-encoded; Standard Webhooks secrets use standard base64 (+ and /).'
        : `Copy the whole secret again. ${WHERE_SECRETS_COME_FROM}`,
    };
  }
  // Unpadded base64 is fine (the Python reference library accepts it); a length of 4n+1 is not base64 at all.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.replace(/=+$/, '').length % 4 === 1) {
    return {
      ok: false,
      message: 'the signing secret is not valid base64 after whsec_ (wrong length or misplaced "=")',
      hint: `It was probably cut while copying. ${WHERE_SECRETS_COME_FROM}`,
    };
  }
  return { ok: true, key: Buffer.from(body, 'base64') };
}

/**
 * Real signing secrets carry 32 random bytes (Standard Webhooks allows 24 to 64). A user-given
 * secret under 16 bytes is a placeholder or a fragment, not a secret to sign with; under 24 it is
 * weaker than any service issues.
 */
export const MIN_SECRET_BYTES = 16;
export const WEAK_SECRET_BYTES = 24;

export function secretLengthProblem(key: Buffer): { refuse: boolean; message: string } | undefined {
  if (key.length >= WEAK_SECRET_BYTES) return undefined;
  const refuse = key.length < MIN_SECRET_BYTES;
  return {
    refuse,
    message: `the signing secret has only ${key.length} byte(s) after whsec_; real ones have 32 (Standard Webhooks: 24 to 64)${refuse ? '' : ', so this one is weak'}`,
  };
}

/** The HMAC key of a `whsec_` secret; a UsageError saying what is wrong with it otherwise. */
export function parseSecret(secret: string): Buffer {
  const inspection = inspectSecret(secret);
  if (!inspection.ok) throw new UsageError(inspection.message, { hint: inspection.hint });
  return inspection.key;
}

/** Kept for callers written against the first version of this module. */
export const secretKey = parseSecret;

// Deliveries are verified against the same few secrets over and over: decoding each once is
// a measurable part of the per-delivery cost. Bounded so a long session cannot grow it.
const keyCache = new Map<string, SecretInspection>();
const KEY_CACHE_LIMIT = 256;

function cachedInspection(secret: string): SecretInspection {
  let inspection = keyCache.get(secret);
  if (inspection === undefined) {
    inspection = inspectSecret(secret);
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
    keyCache.set(secret, inspection);
  }
  return inspection;
}

/** The raw HMAC-SHA256 over `${id}.${timestamp}.${rawBody}`. */
export function computeSignature(key: Uint8Array, id: string, timestamp: string, rawBody: string | Uint8Array): Buffer {
  // One update() per call into the crypto binding is measurably cheaper for the small bodies
  // webhooks carry; a string body can be joined for free.
  if (typeof rawBody === 'string') return createHmac('sha256', key).update(`${id}.${timestamp}.${rawBody}`).digest();
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(rawBody).digest();
}

/** The `v1,<base64>` signature for one delivery. `rawBody` is signed byte for byte. */
export function sign(id: string, timestamp: number | string, rawBody: string | Uint8Array, secret: string): string {
  return `v1,${computeSignature(parseSecret(secret), id, String(timestamp), rawBody).toString('base64')}`;
}

const BASE64_MAC = /^[A-Za-z0-9+/]{43}=?$/;

/**
 * Splits `v1,<a> v1,<b> v1a,<c>`. A trailing comma is tolerated because node joins repeated
 * headers with ", " and the MAC still has to match byte for byte.
 */
export function parseSignatureHeader(value: string): ParsedSignatureHeader {
  const parsed: ParsedSignatureHeader = { v1: [], otherVersions: [], malformed: [] };
  for (const raw of value.includes(' ') ? value.split(' ') : [value]) {
    if (raw === '') continue;
    const entry = raw.endsWith(',') ? raw.slice(0, -1) : raw;
    const comma = entry.indexOf(',');
    if (comma < 1) {
      parsed.malformed.push(raw);
      continue;
    }
    const version = entry.slice(0, comma);
    const signature = entry.slice(comma + 1);
    if (version === 'v1' && BASE64_MAC.test(signature)) {
      parsed.v1.push(Buffer.from(signature, 'base64'));
    } else if (version !== 'v1' && /^v\d+[a-z]*$/.test(version)) {
      parsed.otherVersions.push(version);
    } else {
      parsed.malformed.push(raw);
    }
  }
  return parsed;
}

export interface VerifyStaticInput {
  /** Exactly the bytes received; a string is taken as its UTF-8 encoding. */
  rawBody: string | Uint8Array;
  headers: HeaderBag;
  /** Every secret that may have signed it (current and in-grace ones after a rotation). */
  secrets: readonly SecretCandidate[];
  /** Epoch ms. */
  now: number;
  toleranceSec?: number;
  /**
   * Asked once, only when a failure is about to be diagnosed (the body variants and key
   * derivations cost several times the verification): false answers with DIAGNOSIS_SKIPPED instead.
   * A server under a flood of forgeries uses it to keep a rejection as cheap as an acceptance.
   */
  mayDiagnose?: () => boolean;
}

export const DIAGNOSIS_SKIPPED =
  'The usual mistakes (a re-serialised body, a changed newline, another key derivation) were not tried for this delivery: too many rejected deliveries arrived at once. `gemwh verify` on the captured delivery tries them all.';

/** Verifies a Standard Webhooks (static, HMAC) delivery. Pure: time comes in as `now`. */
export function verifyStatic(input: VerifyStaticInput): Verdict {
  return runToEnd(verifyStaticSteps(input));
}

/**
 * verifyStatic as steps: it yields only while diagnosing a failure (after each HMAC of a body
 * variant), so that a server can answer other requests in between. An accepted delivery never yields.
 */
export function* verifyStaticSteps(input: VerifyStaticInput): Generator<void, Verdict> {
  const { headers, rawBody, now } = input;
  const toleranceSec = input.toleranceSec ?? DEFAULT_TOLERANCE_SEC;
  const id = getHeader(headers, 'webhook-id');
  const timestampText = getHeader(headers, 'webhook-timestamp');
  const signatureText = getHeader(headers, 'webhook-signature', ' ');

  if (!id || !timestampText || !signatureText) {
    const missing = [
      id ? undefined : 'webhook-id',
      timestampText ? undefined : 'webhook-timestamp',
      signatureText ? undefined : 'webhook-signature',
    ].filter((name): name is string => name !== undefined);
    return reject('missing_header', `missing header${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, headerNameFindings(headers), id);
  }

  const timestamp = /^\d{1,15}$/.test(timestampText) ? Number(timestampText) : NaN;
  if (Number.isNaN(timestamp)) {
    return reject(
      'bad_timestamp',
      `webhook-timestamp "${timestampText}" is not a whole number of seconds since the epoch`,
      timestampFindings(timestampText, now),
      id,
    );
  }

  const signatures = parseSignatureHeader(signatureText);
  const keys: SecretInspection[] = [];
  for (const candidate of input.secrets) keys.push(cachedInspection(candidate.secret));
  const nowSec = Math.floor(now / 1000);
  const skew = nowSec - timestamp;

  if (!keys.some((k) => k.ok)) {
    const problems = input.secrets.map((candidate, i) => {
      const inspection = keys[i] as SecretInspection;
      return inspection.ok ? '' : `Secret ${candidate.label}: ${inspection.message}. ${inspection.hint}`;
    });
    return reject(
      'bad_secret',
      input.secrets.length === 0 ? 'no signing secret to verify against' : 'none of the signing secrets given can be used',
      input.secrets.length === 0 ? [WHERE_SECRETS_COME_FROM] : problems.filter((p) => p !== ''),
      id,
    );
  }

  const diagnoseFailure = function* (): Generator<void, string[]> {
    if (input.mayDiagnose && !input.mayDiagnose()) return [DIAGNOSIS_SKIPPED];
    return yield* diagnoseStaticFailureSteps(failureContext());
  };
  const failureContext = () => ({
    rawBody,
    id,
    timestamp: timestampText,
    signatures,
    signatureText,
    secrets: input.secrets,
    keys,
    matches: (key: Uint8Array, body: string | Uint8Array) => {
      return matchesAny(signatures.v1, computeSignature(key, id, timestampText, body));
    },
  });

  // MACs are computed even when the timestamp is out of window: the diagnosis can then say
  // whether only the clock is wrong.
  let matchIndex = -1;
  const expiredMatches: number[] = [];
  if (signatures.v1.length > 0) {
    for (let i = 0; i < keys.length; i++) {
      const inspection = keys[i] as SecretInspection;
      if (!inspection.ok) continue;
      if (!matchesAny(signatures.v1, computeSignature(inspection.key, id, timestampText, rawBody))) continue;
      const expiresAt = (input.secrets[i] as SecretCandidate).expiresAt;
      if (expiresAt !== undefined && expiresAt <= now) {
        expiredMatches.push(i);
      } else if (matchIndex < 0) {
        matchIndex = i;
      }
    }
  }

  if (skew > toleranceSec || -skew > toleranceSec) {
    const tooOld = skew > 0;
    const diagnosis = [
      `The delivery was signed at ${isoSeconds(timestamp * 1000)}, ${Math.abs(skew)} seconds${
        Math.abs(skew) >= 120 ? ` (${formatDuration(skew * 1000)})` : ''
      } ${tooOld ? 'before' : 'after'} the time it is checked at (${isoSeconds(now)}); the tolerance is ${toleranceSec} seconds either way.`,
      ...timestampFindings(timestampText, now),
    ];
    if (signatures.v1.length === 0) {
      diagnosis.push('Besides the time, webhook-signature holds no usable v1 signature.', ...signatureHeaderFindings(signatureText, signatures));
    } else if (matchIndex < 0) {
      diagnosis.push('Besides the time, the signature does not match either:', ...(yield* diagnoseFailure()));
    }
    if (matchIndex >= 0) {
      const label = (input.secrets[matchIndex] as SecretCandidate).label;
      diagnosis.push(
        `The signature itself is valid (it matches secret ${label}), so only the time is off: ${
          tooOld
            ? `this is a replayed or old delivery, or the receiving clock is ahead. To check an old capture, verify it at its own time (--now ${timestamp}).`
            : 'the clock of the receiving machine is behind, or the sender’s is ahead.'
        }`,
      );
    }
    return reject(
      tooOld ? 'too_old' : 'too_new',
      `webhook-timestamp is ${Math.abs(skew)} seconds ${tooOld ? 'in the past' : 'in the future'} (tolerance ${toleranceSec} s)`,
      diagnosis,
      id,
    );
  }

  if (signatures.v1.length === 0) {
    const onlyOtherVersions = signatures.malformed.length === 0 && signatures.otherVersions.length > 0;
    return reject(
      onlyOtherVersions ? 'no_matching_signature' : 'malformed_signature',
      onlyOtherVersions
        ? `webhook-signature has no v1 (HMAC-SHA256) signature, only ${unique(signatures.otherVersions).join(', ')}`
        : 'webhook-signature holds no usable v1,<base64> signature',
      signatureHeaderFindings(signatureText, signatures),
      id,
    );
  }

  if (matchIndex >= 0) {
    const candidate = input.secrets[matchIndex] as SecretCandidate;
    const inGrace = candidate.expiresAt !== undefined;
    return {
      ok: true,
      scheme: 'static',
      webhookId: id,
      timestamp,
      matched: { label: candidate.label, index: matchIndex, inGrace },
      explanation: `signature matches secret ${candidate.label}${
        inGrace && candidate.expiresAt !== undefined
          ? `, which is in its grace period after a rotation and stops working at ${isoSeconds(candidate.expiresAt)}`
          : ''
      }`,
    };
  }

  const diagnosis: string[] = [];
  for (const i of expiredMatches) {
    const candidate = input.secrets[i] as SecretCandidate;
    const expiresAt = candidate.expiresAt as number;
    diagnosis.push(
      `The signature matches secret ${candidate.label}, which expired at ${isoSeconds(expiresAt)} (${formatDuration(now - expiresAt)} ago): the sender still signs with a secret that was rotated out, or this delivery is older than the rotation.`,
    );
  }
  keys.forEach((inspection, i) => {
    if (!inspection.ok) diagnosis.push(`Secret ${(input.secrets[i] as SecretCandidate).label} was skipped: ${inspection.message}.`);
  });
  diagnosis.push(...(yield* diagnoseFailure()));
  const secretsTried = input.secrets.length === 1 ? 'the secret tried' : `any of the ${input.secrets.length} secrets tried`;
  return reject(
    'no_matching_signature',
    signatures.v1.length === 1
      ? `the signature does not match ${secretsTried}`
      : `none of the ${signatures.v1.length} v1 signatures matches ${secretsTried}`,
    diagnosis,
    id,
  );
}

/** Constant-time per comparison; which entry matched is no secret. */
function matchesAny(signatures: readonly Buffer[], mac: Buffer): boolean {
  for (const signature of signatures) {
    if (timingSafeEqual(signature, mac)) return true;
  }
  return false;
}

function reject(reason: StaticRejectReason, explanation: string, diagnosis: string[], webhookId?: string): Rejected {
  const verdict: Rejected = { ok: false, scheme: 'static', reason, explanation, diagnosis };
  if (webhookId) verdict.webhookId = webhookId;
  return verdict;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
