import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { isUntrustedCertificate, PLAIN_HTTP_WORDS, plainHttpHint, speaksPlainHttp } from '../core/tls-errors.js';
import { NetworkError } from '../errors.js';
import { createAgent, postBytes, UNTRUSTED_CERTIFICATE_HINT, type PostErrorKind } from '../replay/http-post.js';
import { VERSION } from '../version.js';

/**
 * The wire side of the battery, on replay's postBytes (exact bytes, header names sent in the case
 * given, redirects reported and never followed, one deadline per exchange). Conformance adds one
 * rule: a fresh connection per request, so a receiver that crashes is neither masked by nor
 * blamed on a reused keep-alive socket.
 */

export interface OutgoingRequest {
  /** Header names are sent exactly as written here (mixed case is itself a test case). */
  headers: ReadonlyArray<readonly [string, string]>;
  body: string | Buffer;
  /** A correctly signed, ordinary delivery: its latency counts for the response-time case. */
  measured: boolean;
}

export interface Exchange {
  request: OutgoingRequest;
  /** Milliseconds from sending until the answer was read in full (or the request failed). */
  latencyMs: number;
  status?: number;
  location?: string;
  /** The first bytes of the answer, as text. */
  bodyStart?: string;
  /** Set when no answer came: the connection was refused or dropped, or the timeout hit. */
  error?: { kind: PostErrorKind; message: string };
}

export interface SendOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Accept an untrusted TLS certificate (--insecure). */
  insecure?: boolean;
}

export interface Sender {
  (request: OutgoingRequest): Promise<Exchange>;
  /** Closes the sockets the sender still holds. */
  close(): void;
}

export function createSender(url: URL, options: SendOptions): Sender {
  const agent = createAgent(url, { keepAlive: false, insecure: options.insecure });
  const sender = async (outgoing: OutgoingRequest): Promise<Exchange> => {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': `gemwh-conformance/${VERSION}`,
    };
    for (const [name, value] of outgoing.headers) headers[name] = value;
    const body = typeof outgoing.body === 'string' ? Buffer.from(outgoing.body, 'utf8') : outgoing.body;
    const result = await postBytes(url, body, headers, { timeoutMs: options.timeoutMs, signal: options.signal, agent });
    return {
      request: outgoing,
      latencyMs: result.latencyMs,
      ...(result.status !== undefined ? { status: result.status, bodyStart: result.responseStart } : {}),
      ...(result.location !== undefined ? { location: result.location } : {}),
      ...(result.error
        ? { error: result.error.kind === 'timeout' ? { kind: 'timeout', message: `no answer within ${formatMs(options.timeoutMs)}` } : result.error }
        : {}),
    };
  };
  return Object.assign(sender, { close: () => agent.destroy() });
}

/**
 * Opens (and closes) one connection to the receiver, sending nothing, so that a receiver that is
 * not running is reported once, before the battery, instead of as thirty failed cases.
 */
export async function checkReachable(url: URL, timeoutMs: number, insecure = false): Promise<void> {
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  await new Promise<void>((resolve, reject) => {
    const socket =
      url.protocol === 'https:'
        ? tlsConnect({ host, port, servername: /^[\d.:]+$/.test(host) ? undefined : host, rejectUnauthorized: !insecure }, () => done())
        : netConnect({ host, port }, () => done());
    const timer = setTimeout(() => done(new Error(`no connection within ${formatMs(timeoutMs)}`)), timeoutMs);
    function done(error?: Error) {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve();
    }
    socket.on('error', (error) => done(error));
  }).catch((error: NodeJS.ErrnoException) => {
    const failure = unreachable(error, url);
    throw new NetworkError(`cannot reach the receiver at ${url.href}: ${failure.what}`, { hint: failure.hint, cause: error });
  });
}

/**
 * Why a connection to a receiver failed, and what to do: "start your receiver" only when nothing
 * listens there (a receiver that is running but speaks another protocol, or is behind a name
 * that does not resolve, needs another fix).
 */
function unreachable(error: NodeJS.ErrnoException, url: URL): { what: string; hint: string } {
  const code = error.code ?? (error as { errors?: NodeJS.ErrnoException[] }).errors?.[0]?.code;
  if (code === 'ECONNREFUSED') {
    return { what: 'connection refused', hint: `Start your webhook receiver first (it must listen on ${url.host}), then run gemwh conformance again.` };
  }
  if (speaksPlainHttp(error)) return { what: PLAIN_HTTP_WORDS, hint: plainHttpHint(url) };
  if (isUntrustedCertificate(error)) return { what: `untrusted TLS certificate (${error.message})`, hint: UNTRUSTED_CERTIFICATE_HINT };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { what: `host not found (${url.hostname})`, hint: 'Check the host name in the receiver URL.' };
  const what = error.message || code || 'unknown error';
  if (/^no connection within/.test(what)) {
    return { what, hint: `Nothing accepted a connection at ${url.host}: check the host and port (and any firewall in between).` };
  }
  return {
    what,
    hint: `Something at ${url.host} took the connection but the exchange failed: check that it is your webhook receiver and that it speaks ${url.protocol === 'https:' ? 'HTTPS' : 'HTTP'}.`,
  };
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}
