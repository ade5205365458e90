import type { Deps } from '../deps.js';
import { InterruptedError, UsageError } from '../errors.js';
import { VERSION } from '../version.js';
import { errorFromResponse, networkError, notJsonError, type RequestDescription, type WebhookOperation } from './api-errors.js';
import { DEFAULT_API_ROOT, DEFAULT_API_VERSION, normalizeApiRoot, resolveApiRoot, resolveApiVersion } from './api-root.js';
import {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  parseRetryAfterMs,
  shouldRetryNetworkError,
  shouldRetryStatus,
  type RetryClass,
  type RetryPolicy,
} from './retry.js';
import type {
  ListWebhooksResponse,
  RevocationBehavior,
  RotateSigningSecretResponse,
  Webhook,
  WebhookApi,
  WebhookInput,
  WebhookUpdate,
} from './types.js';

export interface WebhookApiOptions {
  apiKey: string;
  /** Default https://generativelanguage.googleapis.com; see resolveApiRoot for flag > env > default. */
  apiRoot?: string;
  /** Default v1 (what @google/genai 3.1+ and the guide use); v1beta works too. */
  apiVersion?: string;
  /** Prepended to the User-Agent; default `gemwh/<version>`. */
  userAgent?: string;
  retry?: Partial<RetryPolicy>;
  /** How the client waits between attempts; tests pass one that returns at once. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Epoch ms, for Retry-After dates and the retry time budget. */
  now?: () => number;
  /** Aborting it (Ctrl-C) stops a request in flight or a wait between retries. */
  signal?: AbortSignal;
  /** Per attempt. Default 60 s. */
  timeoutMs?: number;
  /** Told before each retry, e.g. to print "retrying in 2 s" on stderr. */
  onRetry?: (retry: RetryNotice) => void;
}

export interface RetryNotice {
  operation: WebhookOperation;
  /** 1 for the first retry. */
  retry: number;
  delayMs: number;
  /** `503 UNAVAILABLE`, `ECONNREFUSED`, ... */
  reason: string;
}

/** Field order of update_mask; the mask lists exactly the fields the update carries. */
const UPDATE_FIELDS = ['name', 'uri', 'subscribed_events', 'state'] as const;

// Loopback never goes through a proxy, even when HTTPS_PROXY is set for the real API.
const LOOPBACK = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/;

interface OperationRequest {
  operation: WebhookOperation;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** After `/{version}/webhooks`, as a url-template, e.g. `/{id}:ping`. */
  suffix: string;
  webhookId?: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  retryClass: RetryClass;
}

/**
 * gemwh's WebhookService client, built on googleapis-common's createAPIRequest (gaxios underneath),
 * the way generated googleapis clients call it. googleapis-common is loaded on the first request,
 * so importing this module costs nothing at start-up.
 *
 * The API key goes in the `x-goog-api-key` header, never in the URL. gaxios' own retries are off:
 * this client decides what may be repeated (see RetryClass) and honours Retry-After.
 */
export function createWebhookApi(options: WebhookApiOptions): WebhookApi;
/**
 * The form every command uses (the one way to build the client from Deps): the API root comes from
 * `options.apiRoot` (the --api-root flag), else GEMWH_API_ROOT in deps.env, else the real service;
 * GEMWH_API_RETRIES in deps.env caps the retries; Ctrl-C (deps.signal) stops a request, and each
 * retry is announced on stderr.
 */
export function createWebhookApi(deps: Pick<Deps, 'env' | 'clock' | 'signal' | 'io'>, options: WebhookApiOptions): WebhookApi;
export function createWebhookApi(
  depsOrOptions: Pick<Deps, 'env' | 'clock' | 'signal' | 'io'> | WebhookApiOptions,
  maybeOptions?: WebhookApiOptions,
): WebhookApi {
  if (maybeOptions === undefined) return createClient(depsOrOptions as WebhookApiOptions);
  const deps = depsOrOptions as Pick<Deps, 'env' | 'clock' | 'signal' | 'io'>;
  const maxRetries = retriesFromEnv(deps.env.GEMWH_API_RETRIES);
  return createClient({
    now: () => deps.clock.now(),
    signal: deps.signal,
    onRetry: (notice) =>
      deps.io.stderr.write(
        `gemwh: ${notice.operation} failed (${notice.reason}); retry ${notice.retry} in ${formatSeconds(notice.delayMs)}\n`,
      ),
    ...maybeOptions,
    // The user's setting wins over a caller's own retry count.
    ...(maxRetries === undefined ? {} : { retry: { ...maybeOptions.retry, maxRetries } }),
    apiRoot: resolveApiRoot({ flag: maybeOptions.apiRoot, env: deps.env }),
  });
}

/** GEMWH_API_RETRIES=0 turns retries off: scripts that prefer failing fast, and tests of a dead server. */
function retriesFromEnv(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Math.min(Number(value), 10);
}

function formatSeconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
}

function createClient(options: WebhookApiOptions): WebhookApi {
  if (!options.apiKey) {
    throw new UsageError('no API key to call the Gemini API with', {
      hint: 'Pass --api-key, set GEMINI_API_KEY, or store one with `gemwh auth login`.',
    });
  }
  const root = normalizeApiRoot(options.apiRoot ?? DEFAULT_API_ROOT);
  const version = resolveApiVersion(options.apiVersion ?? DEFAULT_API_VERSION);
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const sleep = options.sleep ?? abortableSleep;
  const now = options.now ?? (() => Date.now());
  const timeoutMs = options.timeoutMs ?? 60_000;
  const [product, productVersion] = (options.userAgent ?? `gemwh/${VERSION}`).split('/');

  async function execute<T>(request: OperationRequest): Promise<T> {
    const { createAPIRequest, GaxiosError } = await import('googleapis-common');
    const template = `${root}/{version}/webhooks${request.suffix}`;
    const url = expandForMessages(template, version, request.webhookId, request.query);
    const description: RequestDescription = {
      operation: request.operation,
      method: request.method,
      url,
      webhookId: request.webhookId,
      retryClass: request.retryClass,
      retries: 0,
    };
    const started = now();

    for (let attempt = 0; ; attempt++) {
      description.retries = attempt;
      if (options.signal?.aborted) throw interrupted();
      try {
        const query = Object.fromEntries(Object.entries(request.query ?? {}).filter(([, value]) => value !== undefined));
        const response = await createAPIRequest<string>({
          options: { url: template, method: request.method },
          params: {
            version,
            ...(request.webhookId !== undefined ? { id: request.webhookId } : {}),
            ...query,
            ...(request.body !== undefined ? { requestBody: request.body } : {}),
            headers: { 'x-goog-api-key': options.apiKey },
          },
          requiredParams: request.webhookId !== undefined ? ['id'] : [],
          pathParams: request.webhookId !== undefined ? ['version', 'id'] : ['version'],
          context: {
            _options: {
              responseType: 'text',
              // Every status comes back as a response: this client maps them itself.
              validateStatus: () => true,
              retry: false,
              timeout: timeoutMs,
              signal: options.signal,
              // Fixed, so GOOGLE_CLOUD_UNIVERSE_DOMAIN cannot rewrite the host behind our back.
              universeDomain: 'googleapis.com',
              noProxy: [LOOPBACK],
              userAgentDirectives: [{ product: product ?? 'gemwh', version: productVersion ?? VERSION }],
            },
          },
        });
        const text = typeof response.data === 'string' ? response.data : JSON.stringify(response.data ?? '');
        if (response.status >= 200 && response.status < 300) return parseSuccess<T>(description, response.status, text);
        const retryAfterMs = parseRetryAfterMs(headerValue(response.headers, 'retry-after'), now());
        if (!shouldRetryStatus(request.retryClass, response.status)) {
          throw errorFromResponse(description, response.status, text, retryAfterMs);
        }
        const delay = nextDelay(attempt, retryAfterMs, started);
        if (delay === undefined) throw errorFromResponse(description, response.status, text, retryAfterMs);
        await wait(request.operation, attempt, delay, `HTTP ${response.status}`);
      } catch (error) {
        // gaxios wraps every failure to get a response (refused, reset, timeout, abort) in a GaxiosError without one.
        if (!(error instanceof GaxiosError) || error.response !== undefined) throw error;
        if (options.signal?.aborted) throw interrupted();
        const code = transportCode(error);
        if (!shouldRetryNetworkError(request.retryClass, code)) throw networkError(description, code, transportDetail(error));
        const refusedLocally = code === 'ECONNREFUSED' && LOOPBACK.test(root);
        const delay = refusedLocally && attempt >= policy.maxRetriesRefusedOnLoopback ? undefined : nextDelay(attempt, undefined, started);
        if (delay === undefined) throw networkError(description, code, transportDetail(error));
        await wait(request.operation, attempt, delay, code ?? 'connection error');
      }
    }
  }

  function nextDelay(attempt: number, retryAfterMs: number | undefined, started: number): number | undefined {
    if (attempt >= policy.maxRetries) return undefined;
    if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) return undefined;
    const delay = Math.max(backoffDelayMs(policy, attempt), retryAfterMs ?? 0);
    if (now() - started + delay > policy.maxElapsedMs) return undefined;
    return delay;
  }

  async function wait(operation: WebhookOperation, attempt: number, delayMs: number, reason: string): Promise<void> {
    options.onRetry?.({ operation, retry: attempt + 1, delayMs, reason });
    try {
      await sleep(delayMs, options.signal);
    } catch {
      throw interrupted();
    }
    if (options.signal?.aborted) throw interrupted();
  }

  return {
    create: (input: WebhookInput) =>
      execute<Webhook>({ operation: 'create', method: 'POST', suffix: '', body: input, retryClass: 'once' }),
    list: (params = {}) =>
      execute<ListWebhooksResponse>({
        operation: 'list',
        method: 'GET',
        suffix: '',
        query: { page_size: params.page_size, page_token: params.page_token || undefined },
        retryClass: 'repeatable',
      }),
    get: (id: string) => execute<Webhook>({ operation: 'get', method: 'GET', suffix: '/{id}', webhookId: requireId(id), retryClass: 'repeatable' }),
    update: (id: string, update: WebhookUpdate) => {
      const fields = UPDATE_FIELDS.filter((field) => update[field] !== undefined);
      if (fields.length === 0) {
        return Promise.reject(new UsageError('nothing to update', { hint: 'Give at least one of name, uri, events or state to change.' }));
      }
      const body = Object.fromEntries(fields.map((field) => [field, update[field]]));
      return execute<Webhook>({
        operation: 'update',
        method: 'PATCH',
        suffix: '/{id}',
        webhookId: requireId(id),
        query: { update_mask: fields.join(',') },
        body,
        retryClass: 'once',
      });
    },
    delete: async (id: string) => {
      await execute<unknown>({ operation: 'delete', method: 'DELETE', suffix: '/{id}', webhookId: requireId(id), retryClass: 'repeatable' });
    },
    ping: async (id: string) => {
      await execute<unknown>({ operation: 'ping', method: 'POST', suffix: '/{id}:ping', webhookId: requireId(id), body: {}, retryClass: 'repeatable' });
    },
    rotateSigningSecret: (id: string, revocationBehavior?: RevocationBehavior) =>
      execute<RotateSigningSecretResponse>({
        operation: 'rotateSigningSecret',
        method: 'POST',
        suffix: '/{id}:rotateSigningSecret',
        webhookId: requireId(id),
        body: revocationBehavior ? { revocation_behavior: revocationBehavior } : {},
        retryClass: 'once',
      }),
  };
}

function requireId(id: string): string {
  if (typeof id !== 'string' || id.trim() === '') {
    throw new UsageError('a webhook id is required', { hint: 'Run `gemwh list` to see your webhooks and their ids.' });
  }
  return id;
}

function parseSuccess<T>(request: RequestDescription, status: number, text: string): T {
  // DeleteWebhook and PingWebhook answer `{}`; an empty body is the same thing.
  if (text.trim() === '') return {} as T;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw notJsonError(request, status, text);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw notJsonError(request, status, text);
  return parsed as T;
}

/** The URL as error messages show it: the same expansion url-template does, without the key. */
function expandForMessages(template: string, version: string, id: string | undefined, query: OperationRequest['query']): string {
  const path = template.replace('{version}', encodeURIComponent(version)).replace('{id}', encodeURIComponent(id ?? ''));
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) search.set(key, String(value));
  const qs = search.toString();
  return qs ? `${path}?${qs}` : path;
}

function headerValue(headers: unknown, name: string): string | undefined {
  // gaxios hands back node-fetch's Headers (not the global class) or a plain object.
  const get = (headers as { get?: unknown } | undefined)?.get;
  if (typeof get === 'function') return (get.call(headers, name) as string | null) ?? undefined;
  if (headers && typeof headers === 'object') {
    const value = (headers as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}

function transportCode(error: Error): string | undefined {
  // The system error code (ECONNREFUSED) may sit on the error, its cause, or the cause's cause.
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    // The only abort that reaches here is gaxios' per-attempt timeout: a user abort (our signal)
    // is handled before the code is asked for.
    const name = (current as { name?: unknown }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return 'TimeoutError';
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function transportDetail(error: Error): string {
  return error.message || 'connection failed';
}

function interrupted(): InterruptedError {
  return new InterruptedError('interrupted before the API answered', {
    hint: 'For create, update and rotate, check with `gemwh list` / `gemwh get ID` whether the change happened.',
  });
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
