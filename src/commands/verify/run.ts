import { readFile } from 'node:fs/promises';
import { formatVerdict } from '../../core/format-verdict.js';
import type { KeySource } from '../../core/jwt.js';
import { redactSecret } from '../../core/redact.js';
import { formatJson } from '../../core/table.js';
import type { SecretCandidate, Verdict } from '../../core/verdict.js';
import { detectScheme, verifyDelivery } from '../../core/verify.js';
import type { Deps } from '../../deps.js';
import { UsageError, VerificationFailedError } from '../../errors.js';
import { createRemoteJwksSource, createStaticJwksSource, DEFAULT_JWKS_URL, parseJwks } from '../../jwks/jwks-source.js';
import { secretsFromFlags, secretsFromStore, warnWeakSecrets, type SecretFlags } from '../../secrets/secret-flags.js';
import { parseHeaderLine } from '../../core/headers.js';
import { decodeBody } from '../../listen/journal-records.js';
import { addHeader, parseHeaderFile, type CapturedHeaders } from '../../verify/capture.js';
import type { CommandContext } from '../context.js';

export interface VerifyOptions {
  /** A file path, or `-` for stdin; optional when `headersFile` is a whole HTTP message. */
  body?: string;
  /** `name: value` strings from --header. */
  headerLines: string[];
  headersFile?: string;
  /** Secrets from --secret, in order. */
  secrets: string[];
  /** --secret-env names, in order; each variable holds one or more secrets (space-separated). */
  secretEnv: string[];
  /**
   * --webhook: these webhooks' current secrets from the secret store, labelled with the webhook
   * id and their rotation expiry. Tried after --secret and --secret-env.
   */
  webhookIds: string[];
  jwksUrl?: string;
  jwksFile?: string;
  audience?: string;
  issuer?: string;
  /** Epoch ms to verify at; default the clock. */
  now?: number;
  toleranceSec: number;
  json: boolean;
  /** A delivery from the listen journal instead of --body/--headers. */
  delivery?: string;
  journal?: string;
}

/** Verifies one captured delivery offline and prints the verdict; throws when it is not valid. */
export async function runVerify(options: VerifyOptions, ctx: CommandContext): Promise<Verdict> {
  const { deps } = ctx;
  const recorded = options.delivery === undefined ? undefined : await recordedDelivery(options.delivery, options, deps);
  const { headers, bodyFromHeadersFile } = await readHeaders(options, deps, recorded?.headers);
  const rawBody = recorded?.body ?? (await readBody(options, bodyFromHeadersFile, deps));
  const secrets = await secretCandidates(options, ctx);
  const scheme = detectScheme(headers);

  let keys: KeySource | undefined;
  if (options.jwksFile) keys = await readJwksFile(options.jwksFile, deps);
  else if (options.jwksUrl || scheme === 'dynamic') {
    keys = createRemoteJwksSource({ url: options.jwksUrl ?? DEFAULT_JWKS_URL, now: () => deps.clock.now(), signal: deps.signal });
  }
  if (scheme === 'static' && secrets.length === 0) {
    throw new UsageError('no signing secret to verify this delivery with', {
      hint: 'It is a static (HMAC) delivery: pass --secret whsec_… (repeatable), --secret-env VAR or --webhook ID.',
    });
  }

  // A recorded delivery is judged as of when it arrived: verified now, every one older than the
  // tolerance would be too_old, which says nothing about why it was accepted or refused then.
  const now = options.now ?? recorded?.at ?? deps.clock.now();
  const verdict = await verifyDelivery({
    rawBody,
    headers,
    now,
    toleranceSec: options.toleranceSec,
    secrets,
    keys,
    audience: options.audience,
    issuer: options.issuer,
  });

  deps.io.stdout.write(options.json ? formatJson(verdict) : formatVerdict(verdict, now));
  if (!verdict.ok) {
    throw new VerificationFailedError(`the delivery failed verification: ${verdict.reason}`, {
      hint: options.json ? 'The verdict on stdout says why.' : 'The diagnosis above says why.',
    });
  }
  return verdict;
}

interface RecordedDelivery {
  headers: CapturedHeaders;
  body: Buffer;
  at: number;
}

async function recordedDelivery(id: string, options: VerifyOptions, deps: Deps): Promise<RecordedDelivery> {
  const { findDelivery, journalLocation } = await import('../../listen/journal-history.js');
  const { file, keep } = journalLocation(options, deps);
  const { record } = await findDelivery(file, keep, { kind: 'id', id });
  if (record.truncated) {
    throw new UsageError(`delivery ${record.webhookId ?? record.key} was cut at the size limit: the journal has only the start of its body`, {
      hint: 'Its signature covers the whole body, which was not recorded.',
    });
  }
  const headers: CapturedHeaders = {};
  for (const [name, value] of record.headers) addHeader(headers, name, value);
  return { headers, body: decodeBody(record), at: record.at };
}

async function readHeaders(
  options: VerifyOptions,
  deps: Deps,
  recorded?: CapturedHeaders,
): Promise<{ headers: CapturedHeaders; bodyFromHeadersFile?: Buffer }> {
  const headers: CapturedHeaders = { ...recorded };
  let bodyFromHeadersFile: Buffer | undefined;
  if (options.headersFile) {
    const parsed = parseHeaderFile(await readInput(options.headersFile, '--headers', deps), options.headersFile);
    Object.assign(headers, parsed.headers);
    bodyFromHeadersFile = parsed.body;
  }
  // --header lines replace a file's value of the same name: they are the user's correction.
  const fromFlags: CapturedHeaders = {};
  for (const line of options.headerLines) {
    const [name, value] = parseHeaderLine(line);
    addHeader(fromFlags, name, value);
  }
  Object.assign(headers, fromFlags);
  if (Object.keys(headers).length === 0) {
    throw new UsageError('no headers given', {
      hint: "Pass --headers FILE (header lines or JSON) or --header 'webhook-id: …' for each of webhook-id, webhook-timestamp, webhook-signature.",
    });
  }
  return { headers, bodyFromHeadersFile };
}

async function readBody(options: VerifyOptions, fromHeadersFile: Buffer | undefined, deps: Deps): Promise<Buffer> {
  if (options.body !== undefined) return readInput(options.body, '--body', deps);
  if (fromHeadersFile) return fromHeadersFile;
  throw new UsageError('no body given', {
    hint: 'Pass --body FILE with the exact bytes received (or --body - to read stdin), or give --headers a whole saved HTTP request (headers, a blank line, then the body). Do not re-format the JSON.',
  });
}

async function readInput(path: string, flag: string, deps: Deps): Promise<Buffer> {
  if (path === '-') {
    if (deps.io.stdin.isTTY) {
      throw new UsageError(`${flag} - reads stdin, but stdin is a terminal`, { hint: `Pipe the data in, or pass a file: ${flag} FILE.` });
    }
    const chunks: Buffer[] = [];
    for await (const chunk of deps.io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`${flag}: cannot read ${path}${code === 'ENOENT' ? ': no such file' : code === 'EISDIR' ? ': it is a folder' : `: ${(error as Error).message}`}`, {
      hint: 'Check the path.',
    });
  }
}

/** A JWKS file is input like the body: unreadable or invalid is a usage error, not a verdict. */
async function readJwksFile(path: string, deps: Deps): Promise<KeySource> {
  const content = await readInput(path, '--jwks-file', deps);
  try {
    return createStaticJwksSource(parseJwks(JSON.parse(content.toString('utf8'))), path);
  } catch (error) {
    throw new UsageError(`--jwks-file: ${path} is not a JWKS: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'Give a JSON file of the form {"keys": [{"kty": "RSA", "kid": "…", "n": "…", "e": "AQAB"}]}.',
    });
  }
}

/** The verdict prints the label of the secret that matched: a flag's secret shows redacted beside it. */
async function secretCandidates(options: VerifyOptions, ctx: CommandContext): Promise<SecretCandidate[]> {
  const { deps } = ctx;
  const flags: SecretFlags = {
    secrets: options.secrets,
    secretEnv: options.secretEnv,
    webhookIds: options.webhookIds,
  };
  const fromFlags = secretsFromFlags(flags, deps.env, { numbering: 'when-several', envList: true });
  warnWeakSecrets(fromFlags, deps);
  return [...fromFlags.map((c) => ({ ...c, label: `${c.label} (${redactSecret(c.secret)})` })), ...(await secretsFromStore(flags, ctx))];
}
