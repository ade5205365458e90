import { isUntrustedCertificate, PLAIN_HTTP_WORDS, plainHttpHint, speaksPlainHttp } from '../core/tls-errors.js';

// The one place that says why a request to a receiver got no answer, and what to do about it:
// listen's forwards, the emulator's deliveries, replay and conformance all word failures here.

/**
 * `tls`: the receiver's certificate is not trusted here (the case --insecure exists for);
 * `plain_http`: an https:// URL names a plain-HTTP receiver; `aborted`: stopped by the caller.
 */
export type SendErrorKind = 'refused' | 'timeout' | 'dns' | 'tls' | 'plain_http' | 'reset' | 'aborted' | 'other';

export interface SendFailure {
  kind: SendErrorKind;
  /** What happened, short enough for a table cell: `connection refused`, `timed out: no answer within 5 s`. */
  message: string;
  /** What to do about it, one sentence or two. */
  hint: string;
}

/** What to do when a receiver's certificate is not trusted: the hint of every command that sends to one. */
export const UNTRUSTED_CERTIFICATE_HINT =
  "The receiver's TLS certificate is not trusted here. For a local receiver with a self-signed certificate add --insecure; " +
  'or make its CA trusted with NODE_EXTRA_CA_CERTS=/path/to/ca.pem.';

export interface FailureContext {
  url: URL;
  /** The deadline of the exchange, for the words of a timeout. */
  timeoutMs: number;
}

interface ErrorLike {
  code?: string;
  message?: string;
  cause?: unknown;
  errors?: unknown[];
}

/**
 * Classifies a failed exchange. Node puts the system error on the error itself, undici in
 * `cause`, and a connection tried on both 127.0.0.1 and ::1 fails with an AggregateError whose
 * message is empty and whose `errors` hold the real ones: all three are looked through.
 */
export function classifySendError(error: unknown, context: FailureContext): SendFailure {
  const err = (error ?? {}) as ErrorLike;
  const inner = innermost(err);
  const code = inner.code ?? err.code;
  const detail = inner.message || err.message || code || String(error);
  const { url } = context;
  switch (code) {
    case 'ECONNREFUSED':
      return {
        kind: 'refused',
        message: 'connection refused',
        hint: `Is the receiver running? Start your webhook receiver first (it must listen on ${url.host}), or check the host and port.`,
      };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { kind: 'dns', message: `host not found (${url.hostname})`, hint: 'Check the host name in the URL.' };
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return {
        kind: 'timeout',
        message: `timed out: no connection within ${formatMs(context.timeoutMs)}`,
        hint: `Nothing accepted a connection at ${url.host}: check the host and port (and any firewall in between).`,
      };
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return timedOut(context);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      if (speaksPlainHttp(err)) break;
      return {
        kind: 'reset',
        message: `connection closed without an answer (${detail})`,
        hint:
          `Something at ${url.host} took the connection, then closed it without an answer: check that it is your webhook receiver, ` +
          `that it speaks ${url.protocol === 'https:' ? 'HTTPS' : 'HTTP'}, and its log for a crash.`,
      };
  }
  if (speaksPlainHttp(err) || speaksPlainHttp(inner)) return { kind: 'plain_http', message: PLAIN_HTTP_WORDS, hint: plainHttpHint(url) };
  if (isUntrustedCertificate({ code })) return { kind: 'tls', message: `untrusted TLS certificate (${detail})`, hint: UNTRUSTED_CERTIFICATE_HINT };
  const tls = code?.startsWith('ERR_TLS') || code?.startsWith('ERR_SSL') || /certificate|SSL|TLS/i.test(detail);
  return {
    kind: 'other',
    message: tls ? `TLS failed (${detail})` : detail,
    hint: tls
      ? `The TLS handshake with ${url.host} failed: check that it serves HTTPS with a certificate for ${url.hostname}.`
      : `Something at ${url.host} took the connection but the exchange failed: check that it is your webhook receiver and that it speaks ${url.protocol === 'https:' ? 'HTTPS' : 'HTTP'}.`,
  };
}

/** The failure of an exchange that hit its deadline. */
export function timedOut(context: FailureContext): SendFailure {
  return {
    kind: 'timeout',
    message: `timed out: no answer within ${formatMs(context.timeoutMs)}`,
    hint: 'The receiver took the connection but did not answer in time: acknowledge first and do the work afterwards, or raise --timeout.',
  };
}

/** The failure of an exchange its caller stopped. */
export function aborted(reason: string): SendFailure {
  return { kind: 'aborted', message: `aborted: ${reason}`, hint: 'Nothing to do: it was stopped on purpose.' };
}

function innermost(error: ErrorLike): ErrorLike {
  let current = error;
  for (let depth = 0; depth < 4; depth++) {
    const next = (current.cause ?? current.errors?.[0]) as ErrorLike | undefined;
    if (!next || typeof next !== 'object') break;
    current = next;
  }
  return current;
}

/** `150 ms`, `5 s`, `2.5 s`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}
