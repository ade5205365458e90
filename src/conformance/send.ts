import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { NetworkError } from '../errors.js';
import { createSender as createHttpSender } from '../http/send.js';
import { classifySendError, formatMs, type SendErrorKind } from '../http/send-errors.js';
import { VERSION } from '../version.js';

/**
 * The wire side of the battery, on the one sender (exact bytes, header names sent in the case
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
  error?: { kind: SendErrorKind; message: string };
}

export interface SendOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Accept an untrusted TLS certificate (--insecure). */
  insecure?: boolean;
}

export interface Sender {
  (request: OutgoingRequest): Promise<Exchange>;
  /** Closes the connections the sender still holds. */
  close(): Promise<void>;
}

export async function createSender(url: URL, options: SendOptions): Promise<Sender> {
  const sender = await createHttpSender({ timeoutMs: options.timeoutMs, keepAlive: false, insecure: options.insecure });
  const send = async (outgoing: OutgoingRequest): Promise<Exchange> => {
    const headers: Array<readonly [string, string]> = [];
    // The defaults give way to a case's own header of the same name, whatever its case.
    const given = new Set(outgoing.headers.map(([name]) => name.toLowerCase()));
    if (!given.has('content-type')) headers.push(['Content-Type', 'application/json']);
    if (!given.has('user-agent')) headers.push(['User-Agent', `gemwh-conformance/${VERSION}`]);
    headers.push(...outgoing.headers);
    const result = await sender.send(url, headers, outgoing.body, { signal: options.signal });
    return {
      request: outgoing,
      latencyMs: result.latencyMs,
      ...(result.status !== undefined ? { status: result.status, bodyStart: result.responseStart } : {}),
      ...(result.location !== undefined ? { location: result.location } : {}),
      ...(result.error ? { error: { kind: result.error.kind, message: result.error.message } } : {}),
    };
  };
  return Object.assign(send, { close: () => sender.close() });
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
    const timer = setTimeout(() => done(Object.assign(new Error(`no connection within ${formatMs(timeoutMs)}`), { code: 'ETIMEDOUT' })), timeoutMs);
    function done(error?: Error) {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve();
    }
    socket.on('error', (error) => done(error));
  }).catch((error: NodeJS.ErrnoException) => {
    // "Start your receiver" only when nothing listens there: one that runs but speaks another
    // protocol, or hides behind a name that does not resolve, needs another fix.
    const failure = classifySendError(error, { url, timeoutMs });
    throw new NetworkError(`cannot reach the receiver at ${url.href}: ${failure.message}`, { hint: failure.hint, cause: error });
  });
}

export { formatMs };
