import { createHash } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { formatDuration, isoSeconds } from './duration.js';
import { getHeader, looksLikeJwt } from './headers.js';
import { DEFAULT_TOLERANCE_SEC } from './standard-webhooks.js';
import { MAX_INSPECTED_NESTING, nestsDeeperThan } from './json-nesting.js';
import { headerNameFindings } from './static-diagnosis.js';
import type { DynamicRejectReason, HeaderBag, Rejected, Verdict } from './verdict.js';

/**
 * Dynamic (per-request `webhook_config`) deliveries carry an RS256 JWT in webhook-signature,
 * signed with a key from Google's JWKS (spec §5.2). Core does no network I/O: keys come through
 * a KeySource (src/jwks implements it over HTTP and files).
 */

export type KeyLookup =
  | { status: 'found'; key: JWK }
  | {
      status: 'unknown_kid';
      knownKids: string[];
      /** e.g. "refetched once" or "not refetched: last fetch 12 s ago (cooldown 30 s)". */
      detail?: string;
    }
  | { status: 'unavailable'; error: string };

export interface KeySource {
  /** Where the keys come from (a URL or a file path), for messages. */
  readonly description: string;
  getKey(kid: string): Promise<KeyLookup>;
}

export interface VerifyDynamicInput {
  rawBody: string | Uint8Array;
  headers: HeaderBag;
  /** Epoch ms. */
  now: number;
  /** Clock skew allowed on exp/nbf/iat. */
  toleranceSec?: number;
  /** Checked only when given (any one of several will do): Gemini's `aud`/`iss` values are not documented. */
  audience?: string | readonly string[];
  issuer?: string;
  keys: KeySource;
}

/** The only algorithm Gemini uses; anything else, `none` and HS* included, is refused by name. */
export const JWT_ALGORITHM = 'RS256';

// Importing a JWK costs more than verifying with it; KeySources hand out the same JWK objects
// while their cache holds, so the imported key is kept alongside.
type ImportedKey = Awaited<ReturnType<typeof importJWK>>;
const importedKeys = new WeakMap<JWK, Promise<ImportedKey>>();

function importPublicKey(jwk: JWK): Promise<ImportedKey> {
  let imported = importedKeys.get(jwk);
  if (!imported) {
    // Only the public parts: a JWKS that leaks `d` must not turn this into a private-key import.
    imported = importJWK({ kty: jwk.kty, n: jwk.n, e: jwk.e }, JWT_ALGORITHM);
    importedKeys.set(jwk, imported);
  }
  return imported;
}

export async function verifyDynamic(input: VerifyDynamicInput): Promise<Verdict> {
  const toleranceSec = input.toleranceSec ?? DEFAULT_TOLERANCE_SEC;
  const headerId = getHeader(input.headers, 'webhook-id');
  const fail = (reason: DynamicRejectReason, explanation: string, diagnosis: string[] = [], extra: Partial<Rejected> = {}): Rejected => {
    const verdict: Rejected = { ok: false, scheme: 'dynamic', reason, explanation, diagnosis, ...extra };
    const webhookId = headerId ?? (typeof extra.claims?.jti === 'string' ? extra.claims.jti : undefined);
    if (webhookId) verdict.webhookId = webhookId;
    return verdict;
  };

  const token = getHeader(input.headers, 'webhook-signature')?.trim();
  if (!token) return fail('missing_header', 'missing header webhook-signature', headerNameFindings(input.headers));
  if (!looksLikeJwt(token)) {
    return fail('bad_jwt', 'webhook-signature is not a compact JWT (header.payload.signature)', [
      token.startsWith('v1,')
        ? 'The header holds a v1, HMAC signature: this is a static webhook, verified with its signing secret, not a JWKS.'
        : `It has ${token.split('.').length} dot-separated parts; a JWT has 3.`,
    ]);
  }

  let protectedHeader: ReturnType<typeof decodeProtectedHeader>;
  try {
    protectedHeader = decodeProtectedHeader(token);
  } catch (error) {
    return fail('bad_jwt', `the JWT header cannot be decoded: ${errorMessage(error)}`);
  }
  const alg = protectedHeader.alg;
  if (alg !== JWT_ALGORITHM) {
    return fail(
      'unsupported_alg',
      `the JWT uses alg "${String(alg)}"; only ${JWT_ALGORITHM} is accepted`,
      [
        alg === 'none'
          ? 'An unsigned token (alg "none") proves nothing: anyone can write one.'
          : typeof alg === 'string' && alg.startsWith('HS')
            ? `${alg} is symmetric: a token "signed" with the public RSA key as HMAC secret is the classic algorithm-confusion forgery. Gemini signs with ${JWT_ALGORITHM}.`
            : `Gemini signs dynamic webhooks with ${JWT_ALGORITHM} (RSASSA-PKCS1-v1_5 with SHA-256).`,
      ],
    );
  }
  const kid = protectedHeader.kid;
  if (typeof kid !== 'string' || kid === '') {
    return fail('bad_jwt', 'the JWT header has no kid, so no key can be chosen from the JWKS');
  }

  const lookup = await input.keys.getKey(kid);
  if (lookup.status === 'unavailable') {
    return fail('jwks_unavailable', `the JWKS at ${input.keys.description} is unavailable: ${lookup.error}`, [], { kid });
  }
  if (lookup.status === 'unknown_kid') {
    return fail(
      'unknown_kid',
      `no key with kid "${kid}" in the JWKS at ${input.keys.description}`,
      [
        lookup.knownKids.length > 0 ? `The JWKS holds kid ${lookup.knownKids.map((k) => `"${k}"`).join(', ')}.` : 'The JWKS holds no keys.',
        ...(lookup.detail ? [`JWKS ${lookup.detail}.`] : []),
        'Either the token was signed by someone else, or Google rotated its keys and the JWKS is not updated yet.',
      ],
      { kid },
    );
  }
  const jwk = lookup.key;
  if (jwk.kty !== 'RSA' || (jwk.alg !== undefined && jwk.alg !== JWT_ALGORITHM) || (jwk.use !== undefined && jwk.use !== 'sig')) {
    return fail(
      'unsupported_alg',
      `key "${kid}" in the JWKS is not an ${JWT_ALGORITHM} signing key (kty ${String(jwk.kty)}${jwk.alg ? `, alg ${jwk.alg}` : ''}${jwk.use ? `, use ${jwk.use}` : ''})`,
      [],
      { kid },
    );
  }

  let payload: Uint8Array;
  try {
    const key = await importPublicKey(jwk);
    // The algorithm list is fixed here, never taken from the token.
    ({ payload } = await compactVerify(token, key, { algorithms: [JWT_ALGORITHM] }));
  } catch (error) {
    return fail('bad_jwt', `the JWT signature does not verify with key "${kid}"`, [errorMessage(error)], { kid });
  }

  let claims: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(payload).toString('utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    claims = parsed as Record<string, unknown>;
  } catch (error) {
    return fail('bad_jwt', `the JWT payload is not a JSON object of claims: ${errorMessage(error)}`, [], { kid });
  }

  const problem = checkTimeClaims(claims, Math.floor(input.now / 1000), toleranceSec) ?? checkIdentityClaims(claims, input) ?? checkBodyBinding(claims, input.rawBody);
  if (problem) return fail(problem.reason, problem.explanation, problem.diagnosis, { kid, claims });

  const accepted: Verdict = {
    ok: true,
    scheme: 'dynamic',
    kid,
    claims,
    explanation: `JWT signature verifies with key "${kid}" from ${input.keys.description}`,
  };
  const webhookId = headerId ?? (typeof claims.jti === 'string' ? claims.jti : undefined);
  if (webhookId) accepted.webhookId = webhookId;
  return accepted;
}

interface ClaimProblem {
  reason: DynamicRejectReason;
  explanation: string;
  diagnosis: string[];
}

function checkTimeClaims(claims: Record<string, unknown>, nowSec: number, toleranceSec: number): ClaimProblem | undefined {
  for (const name of ['exp', 'nbf', 'iat'] as const) {
    if (claims[name] !== undefined && typeof claims[name] !== 'number') {
      return { reason: 'bad_jwt', explanation: `the "${name}" claim is not a number of seconds`, diagnosis: [] };
    }
  }
  const { exp, nbf, iat } = claims as { exp?: number; nbf?: number; iat?: number };
  const at = (seconds: number) => `${isoSeconds(seconds * 1000)} (${formatDuration((nowSec - seconds) * 1000)} ${nowSec >= seconds ? 'ago' : 'from now'})`;
  const tolerance = `the tolerance is ${toleranceSec} s`;
  if (exp !== undefined && nowSec > exp + toleranceSec) {
    return { reason: 'jwt_expired', explanation: `the JWT expired at ${at(exp)}`, diagnosis: [`Checked at ${isoSeconds(nowSec * 1000)}; ${tolerance}. For an old capture, verify it at its own time (--now).`] };
  }
  if (nbf !== undefined && nowSec < nbf - toleranceSec) {
    return { reason: 'jwt_expired', explanation: `the JWT is not valid before ${at(nbf)}`, diagnosis: [`${tolerance}; is this machine's clock behind?`] };
  }
  if (iat !== undefined && iat > nowSec + toleranceSec) {
    return { reason: 'jwt_expired', explanation: `the JWT was issued in the future, at ${at(iat)}`, diagnosis: [`${tolerance}; is this machine's clock behind?`] };
  }
  // Without exp, iat is the only thing that stops a captured token from being replayed forever.
  if (exp === undefined && iat !== undefined && nowSec - iat > toleranceSec) {
    return {
      reason: 'jwt_expired',
      explanation: `the JWT has no exp and was issued at ${at(iat)}, outside the replay window`,
      diagnosis: [`${tolerance}. For an old capture, verify it at its own time (--now).`],
    };
  }
  return undefined;
}

function checkIdentityClaims(claims: Record<string, unknown>, input: VerifyDynamicInput): ClaimProblem | undefined {
  const expected = typeof input.audience === 'string' ? [input.audience] : (input.audience ?? []);
  if (expected.length > 0) {
    const aud = claims.aud;
    const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
    if (!audiences.some((a) => expected.includes(a))) {
      return {
        reason: 'jwt_claim_mismatch',
        explanation: `the JWT's audience is ${aud === undefined ? 'missing' : JSON.stringify(aud)}, expected ${expected.map((a) => `"${a}"`).join(' or ')}`,
        diagnosis: ['Gemini does not document the aud value; compare it with the aud of a delivery you trust.'],
      };
    }
  }
  if (input.issuer !== undefined && claims.iss !== input.issuer) {
    return {
      reason: 'jwt_claim_mismatch',
      explanation: `the JWT's issuer is ${claims.iss === undefined ? 'missing' : JSON.stringify(claims.iss)}, expected "${input.issuer}"`,
      diagnosis: [],
    };
  }
  return undefined;
}

const DIGEST_CLAIMS = ['body_sha256', 'body_hash', 'payload_sha256', 'payload_hash'];

/**
 * The body travels unsigned next to the token. When the claims carry the event or a digest of
 * the body, a body that says something else was altered (or belongs to another delivery).
 */
function checkBodyBinding(claims: Record<string, unknown>, rawBody: string | Uint8Array): ClaimProblem | undefined {
  const bytes = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
  const mismatch = (explanation: string, ...diagnosis: string[]): ClaimProblem => ({
    reason: 'jwt_claim_mismatch',
    explanation,
    diagnosis: [...diagnosis, 'Trust the signed claims, not the body; if the body was re-serialized on the way, verify the raw bytes.'],
  });

  for (const name of DIGEST_CLAIMS) {
    const claimed = claims[name];
    if (typeof claimed !== 'string') continue;
    const digest = createHash('sha256').update(bytes).digest();
    const forms = [digest.toString('hex'), digest.toString('base64'), digest.toString('base64url')];
    if (!forms.includes(claimed) && !forms.includes(claimed.toLowerCase())) {
      return mismatch(`the body's SHA-256 does not match the "${name}" claim`, `Body SHA-256 is ${forms[0]}, the claim says ${claimed}.`);
    }
  }

  const eventClaim = parseEventClaim(claims.event);
  const carriesEvent = eventClaim !== undefined || typeof claims.type === 'string' || claims.data !== undefined;
  if (!carriesEvent || bytes.length === 0) return undefined;

  // The token is valid, but the body next to it is anyone's: no event nests this deep, and parsing one that does costs far more than its size.
  if (nestsDeeperThan(bytes, MAX_INSPECTED_NESTING)) {
    return mismatch(`the JWT carries the event, but the body nests more than ${MAX_INSPECTED_NESTING} levels deep, so it cannot be that event`);
  }
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    return mismatch('the JWT carries the event, but the body is not JSON');
  }
  if (eventClaim !== undefined) {
    const difference = firstDifference(eventClaim, body, 'event');
    if (difference) return mismatch(`the body differs from the event in the JWT: ${difference}`);
    return undefined;
  }
  const bodyObject = (body !== null && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  if (typeof claims.type === 'string' && bodyObject.type !== claims.type) {
    return mismatch(`the JWT says type "${claims.type}" but the body says ${describe(bodyObject.type)}`);
  }
  // The envelope fields travel as top-level claims next to `type` (gemwh's own signer does this).
  for (const field of ['data', 'version', 'timestamp'] as const) {
    if (claims[field] === undefined || (field !== 'data' && typeof claims.type !== 'string')) continue;
    const difference = firstDifference(claims[field], bodyObject[field], field);
    if (difference) return mismatch(`the body differs from the JWT claims: ${difference}`);
  }
  return undefined;
}

function parseEventClaim(value: unknown): unknown {
  if (typeof value === 'string') {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value === null ? undefined : value;
}

/** The path of the first value that differs, in words; undefined when deeply equal. */
function firstDifference(signed: unknown, received: unknown, path: string): string | undefined {
  if (signed === received) return undefined;
  if (signed !== null && received !== null && typeof signed === 'object' && typeof received === 'object') {
    if (Array.isArray(signed) !== Array.isArray(received)) return `${path} is ${describe(received)} in the body, ${describe(signed)} in the JWT`;
    const keys = new Set([...Object.keys(signed), ...Object.keys(received)]);
    for (const key of keys) {
      const difference = firstDifference((signed as Record<string, unknown>)[key], (received as Record<string, unknown>)[key], `${path}.${key}`);
      if (difference) return difference;
    }
    return undefined;
  }
  return `${path} is ${describe(received)} in the body, ${describe(signed)} in the JWT`;
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
