import { ApiError, AuthError, GemwhError, NetworkError, NotFoundError } from '../errors.js';
import { EMULATOR_DEFAULT_PORT } from './api-root.js';
import { wasNeverSent, type RetryClass } from './retry.js';

/**
 * Turns what the WebhookService answered (or failed to) into gemwh's typed errors: Google's own
 * message, plus a hint that says what to do. Matched on HTTP status and Google's error reason,
 * never on message text alone.
 */

export type WebhookOperation = 'create' | 'list' | 'get' | 'update' | 'delete' | 'ping' | 'rotateSigningSecret';

export interface RequestDescription {
  operation: WebhookOperation;
  method: string;
  /** The full URL requested (never carries the API key: that travels in a header). */
  url: string;
  webhookId?: string;
  retryClass: RetryClass;
  /** How many times the request was repeated before giving up. */
  retries: number;
}

export interface GoogleError {
  code?: number;
  message?: string;
  status?: string;
  reasons: string[];
}

export const API_KEY_HINT =
  'Pass a valid Gemini API key with --api-key, set GEMINI_API_KEY, or store one with `gemwh auth login`.';

/** Reads `{"error":{"code","message","status","details"}}`; undefined when the text is not that shape. */
export function parseGoogleError(text: string): GoogleError | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const error = (parsed as { error?: unknown } | null)?.error;
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; message?: unknown; status?: unknown; details?: unknown };
  const reasons = Array.isArray(e.details)
    ? e.details.flatMap((d) => (typeof (d as { reason?: unknown })?.reason === 'string' ? [(d as { reason: string }).reason] : []))
    : [];
  return {
    code: typeof e.code === 'number' ? e.code : undefined,
    message: typeof e.message === 'string' ? e.message : undefined,
    status: typeof e.status === 'string' ? e.status : undefined,
    reasons,
  };
}

export function errorFromResponse(
  request: RequestDescription,
  status: number,
  bodyText: string,
  retryAfterMs?: number,
): GemwhError {
  const google = parseGoogleError(bodyText);
  if (!google) return notJsonError(request, status, bodyText);
  const label = `${status}${google.status ? ` ${google.status}` : ''}`;
  const message = google.message ?? `HTTP ${status}`;
  const options = { httpStatus: status, googleStatus: google.status };
  const onEmulator = !isRealApi(request.url);

  // The real API answers a wrong key with 400 INVALID_ARGUMENT + reason API_KEY_INVALID, not 401.
  if (status === 401 || status === 403 || google.reasons.includes('API_KEY_INVALID')) {
    const hint = onEmulator
      ? `${API_KEY_HINT}\n(An emulator accepts any key unless it was started with --api-key; then exactly that one.)`
      : API_KEY_HINT;
    return new AuthError(`the API refused the request (${label}): ${message}`, { hint });
  }
  if (status === 404 && request.webhookId !== undefined) {
    return new NotFoundError(`no webhook with id "${request.webhookId}" (${label}: ${message})`, {
      hint: 'Run `gemwh list` to see your webhooks and their ids.',
    });
  }
  if (status === 404) {
    return new ApiError(`the server has no webhooks endpoint at ${request.url} (${label}: ${message})`, {
      ...options,
      hint: 'Check --api-root / GEMWH_API_ROOT and --api-version (default v1; v1beta also works).',
    });
  }
  if (status === 400) {
    return new ApiError(`the API rejected the request (${label}): ${message}`, {
      ...options,
      hint: 'Correct the value the message names and run the command again.',
    });
  }
  if (status === 429) {
    return new ApiError(`rate limited by the API (${label}): ${message}${retriedNote(request)}`, {
      ...options,
      hint: rateLimitHint(request, retryAfterMs),
    });
  }
  if (status >= 500) {
    return new ApiError(`the API failed (${label}): ${message}${retriedNote(request)}`, {
      ...options,
      hint: serverFailureHint(request),
    });
  }
  return new ApiError(`the API answered ${label}: ${message}`, { ...options, hint: serverFailureHint(request) });
}

/** A reply that is not JSON at all: the wrong server (a proxy page, a web site) more often than not. */
export function notJsonError(request: RequestDescription, status: number, bodyText: string): ApiError {
  const preview = bodyText.trim().replace(/\s+/g, ' ').slice(0, 80);
  const shown = preview === '' ? 'an empty body' : `"${preview}${bodyText.trim().length > 80 ? '…' : ''}"`;
  return new ApiError(`${request.url} answered ${status} with a reply that is not the API's JSON: ${shown}`, {
    httpStatus: status,
    hint: 'Is --api-root (or GEMWH_API_ROOT) pointing at the Gemini API or at `gemwh emulator`?',
  });
}

export function networkError(request: RequestDescription, code: string | undefined, detail: string): NetworkError {
  const what = code === 'TimeoutError' ? 'timed out' : code ? `${describeCode(code)} (${code})` : detail;
  const lines: string[] = [];
  if (isEmulatorDefault(request.url)) {
    lines.push('Is the emulator running? Start it with `gemwh emulator` in another terminal.');
  } else if (!isRealApi(request.url)) {
    lines.push('Check --api-root / GEMWH_API_ROOT and that the server there is running.');
  } else {
    lines.push('Check your internet connection (and HTTPS_PROXY if you need a proxy).');
  }
  if (request.retryClass === 'once' && !wasNeverSent(code)) {
    lines.push(mayHaveHappened(request));
  }
  return new NetworkError(`cannot reach ${request.url}: ${what}${retriedNote(request)}`, { hint: lines.join('\n') });
}

function describeCode(code: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'ECONNRESET':
      return 'connection reset';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no route to host';
    default:
      return 'connection failed';
  }
}

function retriedNote(request: RequestDescription): string {
  return request.retries > 0 ? ` (retried ${request.retries} time${request.retries === 1 ? '' : 's'})` : '';
}

function rateLimitHint(request: RequestDescription, retryAfterMs: number | undefined): string {
  const wait = retryAfterMs !== undefined ? `The server asked to wait ${Math.ceil(retryAfterMs / 1000)} s; try again after that.` : 'Wait a little and try again.';
  return request.retryClass === 'once'
    ? `${wait}\n(${request.operation} is never retried automatically, so that it cannot happen twice.)`
    : wait;
}

function serverFailureHint(request: RequestDescription): string {
  if (request.retryClass === 'once') return mayHaveHappened(request);
  return 'The problem is on the server side; try again in a while.';
}

function mayHaveHappened(request: RequestDescription): string {
  switch (request.operation) {
    case 'create':
      return 'The webhook may or may not have been created: check with `gemwh list` before creating it again.';
    case 'rotateSigningSecret':
      return `A new secret may have been minted without gemwh seeing it. Check with \`gemwh get ${request.webhookId ?? 'ID'}\`; rotating again with the default 24 h grace is safe.`;
    default:
      return `The change may or may not have been applied: check with \`gemwh get ${request.webhookId ?? 'ID'}\` before trying again.`;
  }
}

function isRealApi(url: string): boolean {
  try {
    return new URL(url).hostname.endsWith('.googleapis.com');
  } catch {
    return false;
  }
}

function isEmulatorDefault(url: string): boolean {
  try {
    const parsed = new URL(url);
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
    return loopback && parsed.port === String(EMULATOR_DEFAULT_PORT);
  } catch {
    return false;
  }
}
