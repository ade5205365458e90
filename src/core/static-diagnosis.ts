import { looksLikeJwt } from './headers.js';
import { nestsDeeperThan } from './json-nesting.js';
import type { ParsedSignatureHeader, SecretInspection } from './signature-types.js';
import type { HeaderBag, SecretCandidate } from './verdict.js';

/**
 * Plain-words findings for a static delivery that failed verification. Only runs on the failure
 * path, so it may afford to re-sign a dozen variants of the body: each one it finds names the
 * concrete mistake (re-serialised JSON, a lost newline, a renamed header) instead of "bad signature".
 *
 * Anyone can send a failing delivery, so the diagnosis must cost about what verifying does: every
 * variant is made in one linear pass, the JSON re-serialisations (the only part whose cost grows
 * with the shape of the body) are tried only up to JSON_VARIANTS_MAX_BYTES and
 * JSON_VARIANTS_MAX_NESTING levels, and it is a generator that yields after each HMAC, so that a
 * listener can let other requests through between the steps.
 */

/**
 * Bodies larger or deeper than this are not re-serialised as JSON by the diagnosis (the textual
 * variants are still tried). Gemini's events are a few hundred bytes and four levels deep;
 * pretty-printing costs grow with size times depth.
 */
export const JSON_VARIANTS_MAX_BYTES = 4 * 1024;
export const JSON_VARIANTS_MAX_NESTING = 16;

/** Runs a diagnosis generator to its end without yielding to anything. */
export function runToEnd<T>(steps: Generator<void, T>): T {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

const EXPECTED_NAMES = 'gemwh expects webhook-id, webhook-timestamp and webhook-signature (the Standard Webhooks names Gemini sends)';

/** Signature-ish headers under other names, and ours renamed by a proxy. */
export function headerNameFindings(headers: HeaderBag): string[] {
  const ours = new Set(['webhook-id', 'webhook-timestamp', 'webhook-signature']);
  const renamed: string[] = [];
  const foreign: string[] = [];
  let bearerJwt = false;
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (ours.has(lower)) continue;
    const normalised = lower.replace(/_/g, '-').replace(/^(?:http|x)-/, '');
    if (ours.has(normalised)) {
      renamed.push(name);
    } else if (/^svix-/.test(lower) || /signature|webhook/.test(lower)) {
      foreign.push(name);
    } else if (lower === 'authorization') {
      const value = headers[name];
      bearerJwt = typeof value === 'string' && /^bearer\s+[\w-]+\.[\w-]+\.[\w-]*$/i.test(value.trim());
    }
  }
  const findings: string[] = [];
  if (renamed.length > 0) {
    findings.push(
      `Found ${renamed.join(', ')}: the webhook headers arrived under changed names (a proxy or framework rewrote them, e.g. dashes to underscores). ${EXPECTED_NAMES}.`,
    );
  }
  if (foreign.length > 0) {
    findings.push(`Found signature headers under other names: ${foreign.join(', ')}. ${EXPECTED_NAMES}.`);
  }
  if (bearerJwt) {
    findings.push('The Authorization header carries a bearer JWT; dynamic Gemini deliveries put their JWT in webhook-signature instead.');
  }
  if (findings.length === 0) {
    findings.push(
      `${EXPECTED_NAMES}. If the sender is Gemini, check that every proxy between it and this receiver forwards these headers.`,
    );
  }
  return findings;
}

export function timestampFindings(text: string, now: number): string[] {
  const value = text.trim();
  const findings: string[] = [];
  if (/^\d{13}$/.test(value)) {
    findings.push(`webhook-timestamp ${value} looks like milliseconds; it must be seconds since the epoch (${Math.floor(Number(value) / 1000)}).`);
  } else if (/^\d+\.\d+$/.test(value)) {
    findings.push('webhook-timestamp has a fractional part; it must be a whole number of seconds.');
  } else if (/^\d{4}-\d{2}-\d{2}/.test(value) && Number.isFinite(Date.parse(value))) {
    findings.push(
      `webhook-timestamp is a date; it must be seconds since the epoch (${Math.floor(Date.parse(value) / 1000)}).`,
    );
  } else if (value.includes(',')) {
    findings.push('webhook-timestamp holds several values: the header was sent more than once and the values were joined.');
  } else if (value !== text) {
    findings.push('webhook-timestamp has spaces around the number; the signed content uses the header exactly as sent.');
  }
  if (/^\d{10}$/.test(value) && Math.abs(Math.floor(now / 1000) - Number(value)) > 86_400 * 365) {
    findings.push('The timestamp is more than a year away from the time it was checked at: is the clock (or --now) right?');
  }
  return findings;
}

export function signatureHeaderFindings(value: string, parsed: ParsedSignatureHeader): string[] {
  const trimmed = value.trim();
  const findings: string[] = [];
  if (looksLikeJwt(trimmed)) {
    findings.push('webhook-signature holds a JWT: this is a dynamic (per-request) webhook, verified with Google’s JWKS, not a signing secret.');
    return findings;
  }
  if (/^v1a?$/.test(trimmed) || /^v1a?$/.test(parsed.malformed[0] ?? '')) {
    findings.push(
      `The header value is just "${trimmed.split(/\s/)[0]}": it was cut at the first comma. Some frameworks and proxies split header values on commas; read the raw header.`,
    );
  }
  if (/(^|,)t=\d+/.test(trimmed) && /v1=/.test(trimmed)) {
    findings.push('This looks like a Stripe-style signature (t=…,v1=…), not a Standard Webhooks one (v1,<base64>).');
  }
  for (const entry of parsed.malformed) {
    if (/^v1a?$/.test(entry)) continue;
    if (/^[A-Za-z0-9+/]{43}=?$/.test(entry)) {
      findings.push(
        `Entry "${short(entry)}" has no "v1," in front: the list was probably split on commas, or only the signature part was kept.`,
      );
    } else if (entry.startsWith('v1,')) {
      const mac = entry.slice(3).replace(/,$/, '');
      findings.push(
        /^[A-Fa-f0-9]{64}$/.test(mac)
          ? `Entry "${short(entry)}" is hex; Standard Webhooks signatures are base64.`
          : `Entry "${short(entry)}" is not a base64 HMAC-SHA256 (${mac.length} characters, expected 44): it was cut or altered.`,
      );
    } else if (!/^v1a,/.test(entry)) {
      findings.push(`Entry "${short(entry)}" is not of the form v1,<base64>.`);
    }
  }
  if (parsed.otherVersions.length > 0) {
    findings.push(
      `Skipped ${[...new Set(parsed.otherVersions)].join(', ')} entries: v1a is the asymmetric (ed25519) Standard Webhooks scheme; Gemini signs static webhooks with v1 (HMAC-SHA256).`,
    );
  }
  return findings;
}

export interface StaticFailureContext {
  rawBody: string | Uint8Array;
  id: string;
  timestamp: string;
  signatures: ParsedSignatureHeader;
  signatureText: string;
  secrets: readonly SecretCandidate[];
  keys: readonly SecretInspection[];
  /** True when `key` signs `body` (with this delivery's id and timestamp) to one of the given signatures. */
  matches(key: Uint8Array, body: string | Uint8Array): boolean;
}

/** Why no signature matched: what the body or key would have had to be. */
export function diagnoseStaticFailure(context: StaticFailureContext): string[] {
  return runToEnd(diagnoseStaticFailureSteps(context));
}

/** diagnoseStaticFailure, yielding after each HMAC it computes. */
export function* diagnoseStaticFailureSteps(context: StaticFailureContext): Generator<void, string[]> {
  const findings = signatureHeaderFindings(context.signatureText, context.signatures);
  // Bytes, not text: the variants below are then one pass each over the body (a regex replace
  // or a string HMAC of a 1 MiB string costs tens to hundreds of milliseconds).
  const bytes =
    typeof context.rawBody === 'string'
      ? Buffer.from(context.rawBody, 'utf8')
      : Buffer.from(context.rawBody.buffer, context.rawBody.byteOffset, context.rawBody.byteLength);
  const keys = context.keys.flatMap((k, i) => (k.ok ? [{ key: k.key, candidate: context.secrets[i] as SecretCandidate }] : []));

  if (bytes.length === 0) {
    findings.push('The body is empty: a body parser probably consumed the request before verification. Verify the raw bytes as received.');
  } else if (bytes.length === 15 && bytes.toString('latin1') === '[object Object]') {
    findings.push('The body is the text "[object Object]": a parsed object was converted to a string. Verify the raw bytes as received.');
  }

  const notTried: string[] = [];
  const bodyMatch = yield* findBodyVariant(bytes, keys, context, notTried);
  if (bodyMatch) findings.push(bodyMatch);

  const keyMatch = bodyMatch ? undefined : yield* findKeyDerivation(context, keys, bytes);
  if (keyMatch) findings.push(keyMatch);

  if (!bodyMatch && !keyMatch) {
    findings.push(...notTried);
    findings.push(
      context.secrets.length === 1
        ? 'No variation of the body or key matches either: most likely this secret is not the one the sender signs with (another webhook’s secret, or an old one after a rotation), or the body, webhook-id or webhook-timestamp changed after signing.'
        : 'No variation of the body or key matches either: most likely none of these secrets is the one the sender signs with, or the body, webhook-id or webhook-timestamp changed after signing.',
    );
  }
  if (context.signatures.v1.length > 1) {
    findings.push(`The header carries ${context.signatures.v1.length} v1 signatures (one per active secret during a rotation); all were tried.`);
  }
  return findings;
}

/**
 * The ways senders commonly re-serialize JSON. Built on JSON.stringify (native, and safe here: the
 * caller checked the nesting depth) plus one linear pass for the Python-style separators.
 */
const JSON_FORMS: ReadonlyArray<{ name: string; write: (value: unknown) => string }> = [
  { name: 'compact JSON (JSON.stringify)', write: (v) => JSON.stringify(v) },
  { name: 'JSON pretty-printed with 2 spaces', write: (v) => JSON.stringify(v, null, 2) },
  { name: 'JSON pretty-printed with 4 spaces', write: (v) => JSON.stringify(v, null, 4) },
  { name: 'compact JSON with sorted keys', write: (v) => JSON.stringify(sortedKeys(v)) },
  { name: 'JSON pretty-printed with sorted keys', write: (v) => JSON.stringify(sortedKeys(v), null, 2) },
  { name: 'JSON with ", " and ": " separators (Python json.dumps)', write: (v) => spacedSeparators(JSON.stringify(v), true) },
  { name: 'JSON with ", " and ": " separators', write: (v) => spacedSeparators(JSON.stringify(v), false) },
];

function sortedKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sortedKeys);
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortedKeys((value as Record<string, unknown>)[key]);
  return sorted;
}

/** Compact JSON with ", " and ": " between items, and (like Python's ensure_ascii) non-ASCII escaped. */
function spacedSeparators(compact: string, asciiOnly: boolean): string {
  const parts: string[] = [];
  let from = 0;
  let inString = false;
  for (let i = 0; i < compact.length; i++) {
    const c = compact.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      else if (asciiOnly && c >= 0x7f) {
        parts.push(compact.slice(from, i), `\\u${c.toString(16).padStart(4, '0')}`);
        from = i + 1;
      }
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x2c || c === 0x3a) {
      parts.push(compact.slice(from, i + 1), ' ');
      from = i + 1;
    }
  }
  parts.push(compact.slice(from));
  return parts.join('');
}

function* findBodyVariant(
  bytes: Buffer,
  keys: ReadonlyArray<{ key: Uint8Array; candidate: SecretCandidate }>,
  context: StaticFailureContext,
  notTried: string[],
): Generator<void, string | undefined> {
  const tried: Array<string | Buffer> = [bytes];
  const triedBefore = (variant: string | Buffer) =>
    tried.some((t) => (typeof t === 'string' || typeof variant === 'string' ? t === variant : t.length === variant.length && t.equals(variant)));
  function* attempt(variant: string | Buffer, explain: (label: string) => string): Generator<void, string | undefined> {
    if (triedBefore(variant)) return undefined;
    tried.push(variant);
    for (const { key, candidate } of keys) {
      const hit = context.matches(key, variant);
      yield;
      if (hit) return explain(candidate.label);
    }
    return undefined;
  }

  const textual: Array<[Buffer, (label: string) => string]> = [
    [withoutTrailingWhitespace(bytes), (l) => `The signature matches the body without its trailing whitespace/newline with secret ${l}: the capture gained a newline (an editor or echo adds one). Verify the exact bytes received.`],
    [Buffer.concat([bytes, NEWLINE]), (l) => `The signature matches the body with a final newline with secret ${l}: the capture lost it (shell $(…) strips it). Verify the exact bytes received.`],
    [crlfToLf(bytes), (l) => `The signature matches the body with LF line endings with secret ${l}: something converted line endings to CRLF.`],
    [hasBom(bytes) ? bytes.subarray(3) : bytes, (l) => `The signature matches the body without its byte-order mark with secret ${l}: an editor added a BOM.`],
  ];
  for (const [variant, explain] of textual) {
    const found = yield* attempt(variant, explain);
    if (found) return found;
  }

  let first = 0;
  while (first < bytes.length && isAsciiWhitespace(bytes[first]!)) first++;
  if (bytes[first] !== 0x7b && bytes[first] !== 0x5b) return undefined; // only objects and arrays get re-serialized
  if (bytes.length > JSON_VARIANTS_MAX_BYTES) {
    notTried.push(`The body is over ${JSON_VARIANTS_MAX_BYTES / 1024} KiB, so re-serialized forms of its JSON were not tried.`);
    return undefined;
  }
  if (nestsDeeperThan(bytes, JSON_VARIANTS_MAX_NESTING)) {
    notTried.push(`The body's JSON nests more than ${JSON_VARIANTS_MAX_NESTING} levels deep, so re-serialized forms of it were not tried.`);
    return undefined;
  }
  const text = bytes.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  for (const form of JSON_FORMS) {
    const found = yield* attempt(
      form.write(parsed),
      (l) =>
        `The body is the same JSON as what was signed, but re-serialized: with secret ${l}, the signature matches it written as ${form.name}. Verify the raw bytes, not parsed-and-restringified JSON.`,
    );
    if (found) return found;
  }
  return undefined;
}

/** The pre-launch key derivations (spec §8 item 16): the secret's text used as the key. */
function* findKeyDerivation(
  context: StaticFailureContext,
  keys: ReadonlyArray<{ candidate: SecretCandidate }>,
  bytes: Buffer,
): Generator<void, string | undefined> {
  for (const { candidate } of keys) {
    const secret = candidate.secret.trim();
    const derivations: Array<[Uint8Array, string]> = [
      [Buffer.from(secret, 'utf8'), 'the whole secret text (whsec_ included)'],
      [Buffer.from(secret.slice('whsec_'.length), 'utf8'), 'the text after whsec_, not base64-decoded'],
    ];
    for (const [key, how] of derivations) {
      const hit = context.matches(key, bytes);
      yield;
      if (hit) {
        return `The signature was made with ${how} as the HMAC key (with secret ${candidate.label}). Standard Webhooks keys are the base64-decoded bytes after whsec_; the sender derives its key the wrong way.`;
      }
    }
  }
  return undefined;
}

const NEWLINE = Buffer.from('\n');

function isAsciiWhitespace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

function withoutTrailingWhitespace(bytes: Buffer): Buffer {
  let end = bytes.length;
  while (end > 0 && isAsciiWhitespace(bytes[end - 1]!)) end--;
  return bytes.subarray(0, end);
}

function crlfToLf(bytes: Buffer): Buffer {
  if (bytes.indexOf('\r\n') === -1) return bytes;
  const out = Buffer.allocUnsafe(bytes.length);
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0d && bytes[i + 1] === 0x0a) continue;
    out[length++] = bytes[i]!;
  }
  return out.subarray(0, length);
}

function hasBom(bytes: Buffer): boolean {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

function short(entry: string): string {
  return entry.length > 24 ? `${entry.slice(0, 20)}…` : entry;
}
