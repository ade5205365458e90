import { looksLikeJwt } from './headers.js';
import type { ParsedSignatureHeader, SecretInspection } from './signature-types.js';
import type { HeaderBag, SecretCandidate } from './verdict.js';

/**
 * Plain-words findings for a static delivery that failed verification. Only runs on the failure
 * path, so it may afford to re-sign a dozen variants of the body: each one it finds names the
 * concrete mistake (re-serialised JSON, a lost newline, a renamed header) instead of "bad signature".
 */

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
  const findings = signatureHeaderFindings(context.signatureText, context.signatures);
  const text = Buffer.isBuffer(context.rawBody)
    ? context.rawBody.toString('utf8')
    : typeof context.rawBody === 'string'
      ? context.rawBody
      : Buffer.from(context.rawBody).toString('utf8');
  const keys = context.keys.flatMap((k, i) => (k.ok ? [{ key: k.key, candidate: context.secrets[i] as SecretCandidate }] : []));

  if (text === '') {
    findings.push('The body is empty: a body parser probably consumed the request before verification. Verify the raw bytes as received.');
  } else if (text === '[object Object]') {
    findings.push('The body is the text "[object Object]": a parsed object was converted to a string. Verify the raw bytes as received.');
  }

  const bodyMatch = findBodyVariant(text, (variant) => keys.find((k) => context.matches(k.key, variant)));
  if (bodyMatch) findings.push(bodyMatch);

  const keyMatch = findKeyDerivation(context, keys);
  if (keyMatch) findings.push(keyMatch);

  if (!bodyMatch && !keyMatch) {
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

interface SerializeOptions {
  indent: number;
  itemSeparator: string;
  keySeparator: string;
  sortKeys: boolean;
  asciiOnly: boolean;
}

function serialize(value: unknown, options: SerializeOptions, depth = 0): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value) ?? 'null';
    return options.asciiOnly ? text.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : text;
  }
  const pad = (level: number) => (options.indent > 0 ? '\n' + ' '.repeat(options.indent * level) : '');
  const separator = options.indent > 0 ? ',' : options.itemSeparator;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((item) => serialize(item, options, depth + 1));
    return `[${pad(depth + 1)}${items.join(separator + pad(depth + 1))}${pad(depth)}]`;
  }
  const keys = Object.keys(value);
  if (options.sortKeys) keys.sort();
  if (keys.length === 0) return '{}';
  const items = keys.map(
    (key) => `${serialize(key, options)}${options.keySeparator}${serialize((value as Record<string, unknown>)[key], options, depth + 1)}`,
  );
  return `{${pad(depth + 1)}${items.join(separator + pad(depth + 1))}${pad(depth)}}`;
}

const JSON_FORMS: ReadonlyArray<{ name: string; options: SerializeOptions }> = [
  { name: 'compact JSON (JSON.stringify)', options: { indent: 0, itemSeparator: ',', keySeparator: ':', sortKeys: false, asciiOnly: false } },
  { name: 'JSON pretty-printed with 2 spaces', options: { indent: 2, itemSeparator: ',', keySeparator: ': ', sortKeys: false, asciiOnly: false } },
  { name: 'JSON pretty-printed with 4 spaces', options: { indent: 4, itemSeparator: ',', keySeparator: ': ', sortKeys: false, asciiOnly: false } },
  { name: 'compact JSON with sorted keys', options: { indent: 0, itemSeparator: ',', keySeparator: ':', sortKeys: true, asciiOnly: false } },
  { name: 'JSON pretty-printed with sorted keys', options: { indent: 2, itemSeparator: ',', keySeparator: ': ', sortKeys: true, asciiOnly: false } },
  { name: 'JSON with ", " and ": " separators (Python json.dumps)', options: { indent: 0, itemSeparator: ', ', keySeparator: ': ', sortKeys: false, asciiOnly: true } },
  { name: 'JSON with ", " and ": " separators', options: { indent: 0, itemSeparator: ', ', keySeparator: ': ', sortKeys: false, asciiOnly: false } },
];

function findBodyVariant(text: string, matchFor: (variant: string) => { candidate: SecretCandidate } | undefined): string | undefined {
  const tried = new Set([text]);
  const attempt = (variant: string, explain: (label: string) => string): string | undefined => {
    if (tried.has(variant)) return undefined;
    tried.add(variant);
    const hit = matchFor(variant);
    return hit ? explain(hit.candidate.label) : undefined;
  };

  const textual: Array<[string, (label: string) => string]> = [
    [text.replace(/\s+$/, ''), (l) => `The signature matches the body without its trailing whitespace/newline with secret ${l}: the capture gained a newline (an editor or echo adds one). Verify the exact bytes received.`],
    [text + '\n', (l) => `The signature matches the body with a final newline with secret ${l}: the capture lost it (shell $(…) strips it). Verify the exact bytes received.`],
    [text.replace(/\r\n/g, '\n'), (l) => `The signature matches the body with LF line endings with secret ${l}: something converted line endings to CRLF.`],
    [text.replace(/^\uFEFF/, ''), (l) => `The signature matches the body without its byte-order mark with secret ${l}: an editor added a BOM.`],
  ];
  for (const [variant, explain] of textual) {
    const found = attempt(variant, explain);
    if (found) return found;
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  for (const form of JSON_FORMS) {
    const found = attempt(
      serialize(parsed, form.options),
      (l) =>
        `The body is the same JSON as what was signed, but re-serialized: with secret ${l}, the signature matches it written as ${form.name}. Verify the raw bytes, not parsed-and-restringified JSON.`,
    );
    if (found) return found;
  }
  return undefined;
}

/** The pre-launch key derivations (spec §8 item 16): the secret's text used as the key. */
function findKeyDerivation(
  context: StaticFailureContext,
  keys: ReadonlyArray<{ candidate: SecretCandidate }>,
): string | undefined {
  for (const { candidate } of keys) {
    const secret = candidate.secret.trim();
    const derivations: Array<[Uint8Array, string]> = [
      [Buffer.from(secret, 'utf8'), 'the whole secret text (whsec_ included)'],
      [Buffer.from(secret.slice('whsec_'.length), 'utf8'), 'the text after whsec_, not base64-decoded'],
    ];
    for (const [key, how] of derivations) {
      if (context.matches(key, context.rawBody)) {
        return `The signature was made with ${how} as the HMAC key (with secret ${candidate.label}). Standard Webhooks keys are the base64-decoded bytes after whsec_; the sender derives its key the wrong way.`;
      }
    }
  }
  return undefined;
}

function short(entry: string): string {
  return entry.length > 24 ? `${entry.slice(0, 20)}…` : entry;
}
