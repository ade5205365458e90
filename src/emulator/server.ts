import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Clock } from '../deps.js';
import { UsageError } from '../errors.js';
import { readBodyLimited } from '../http/read-body.js';
import { createDeliveryEngine } from './deliveries/engine.js';
import { addDeliveryRoutes } from './deliveries/routes.js';
import type { Scheduler } from '../deps.js';
import type { DeliveryAttempt, DeliveryEngine } from './deliveries/types.js';
import { EmulatorHttpError, googleErrorBody, invalidArgument } from './google-error.js';
import { JobManager, DEFAULT_JOB_DELAY_MS, type Job } from './jobs/job-manager.js';
import { addJobRoutes } from './jobs/job-routes.js';
import { EmulatorKeyRing } from './jwks/key-ring.js';
import { addManagementRoutes } from './management-routes.js';
import { Router, type EmulatorRequest, type EmulatorResponse } from './router.js';
import type { UpdateMaskMode } from './fidelity.js';
import { loadStateFile, saveStateFile } from './state-file.js';
import { WebhookStore, type RandomSource } from './store.js';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const EMULATOR_API_VERSIONS = ['v1', 'v1beta'] as const;

export interface RequestLogEntry {
  method: string;
  /** Path only: the query may carry `key=`, which must not reach a log. */
  path: string;
  status: number;
  durationMs: number;
}

export interface StartEmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port); `gemwh emulator` passes 8790. */
  port?: number;
  /** When set, requests must carry exactly this key; otherwise any non-empty key is accepted. */
  apiKey?: string;
  /** Load webhooks from this file and save them to it after every change. */
  stateFile?: string;
  clock?: Clock;
  random?: RandomSource;
  apiVersions?: readonly string[];
  /** PATCH and update_mask: `ignore` as observed on the live API (default), `honor` as the reference reads. */
  updateMask?: UpdateMaskMode;
  maxBodyBytes?: number;
  onRequest?: (entry: RequestLogEntry) => void;
  /** Called with anything a route threw that was not an EmulatorHttpError (answered as 500). */
  onInternalError?: (error: unknown) => void;
  /** Event delivery (src/emulator/deliveries): time scaling, deliberate duplicates, failure rules. */
  delivery?: EmulatorDeliveryOptions;
  /** Long-running jobs (src/emulator/jobs): interactions, batches, videos. */
  jobs?: EmulatorJobOptions;
}

export interface EmulatorJobOptions {
  /** Emulated time from create to the job's end (scaled by delivery.timeScale). Default 2 s. */
  delayMs?: number;
  /** 0..1: share of interactions and batches that end failed. Default 0. */
  failRate?: number;
  /** A job ended but the delivery engine refused its event. */
  onEmitError?: (job: Job, error: unknown) => void;
}

export interface EmulatorDeliveryOptions {
  /** Emulated time runs this many times faster (retry delays, JWKS key retirement). Default 1. */
  timeScale?: number;
  /** 0..1: share of deliveries sent twice on purpose. Default 0. */
  duplicateRate?: number;
  /** Real ms a receiver has to answer. Default 5000. */
  timeoutMs?: number;
  /** The `aud` of dynamic deliveries' JWTs. Default: the URI each delivery is sent to (a guess). */
  jwtAudience?: string;
  /** The `iss` of dynamic deliveries' JWTs. Default: the emulator's base URL (a guess). */
  jwtIssuer?: string;
  /** Consecutive failed attempts that disable a webhook. Default 20. */
  disableAfterFailures?: number;
  /** Requests in flight at most. Default 64. */
  concurrency?: number;
  /** Told about every finished delivery attempt. */
  onAttempt?: (attempt: DeliveryAttempt) => void;
  /** When delivery retries run; default real time (tests advance their own). */
  scheduler?: Scheduler;
}

export interface RunningEmulator {
  /** e.g. `http://127.0.0.1:8790`, no trailing slash: a value for --api-root. */
  url: string;
  host: string;
  port: number;
  store: WebhookStore;
  /** Further modules (delivery, JWKS, jobs) add their routes here. */
  router: Router;
  /** Sends events to webhooks and dynamic URIs (trigger, ping, finished jobs). */
  deliveries: DeliveryEngine;
  /** The RS256 keys of dynamic deliveries, published at /.well-known/jwks.json. */
  keys: EmulatorKeyRing;
  /** Background interactions, batches and video operations created through the job endpoints. */
  jobs: JobManager;
  /** Stops listening and closes open connections; safe to call twice. */
  stop(): Promise<void>;
}

/** Starts the local WebhookService. Rejects with UsageError when the port is taken or the state file unusable. */
export async function startEmulator(options: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  const clock = options.clock ?? { now: () => Date.now() };
  const random = options.random ?? { bytes: (size: number) => randomBytes(size) };
  const stateFile = options.stateFile;
  const saved = stateFile ? loadStateFile(stateFile) : undefined;
  const store = new WebhookStore({ clock, random, snapshot: saved });
  const delivery = options.delivery ?? {};
  const save = () => {
    if (!stateFile) return;
    const jwtKeys = keys.state();
    saveStateFile(stateFile, { ...store.snapshot(), ...(jwtKeys ? { jwt_keys: jwtKeys } : {}) });
  };
  // A key that cannot be saved still signs: the failure is reported, the delivery goes out.
  const saveKeys = () => {
    try {
      save();
    } catch (error) {
      options.onInternalError?.(new Error(`cannot save the JWT keys to ${stateFile}: ${(error as Error).message}`));
    }
  };
  const keys = new EmulatorKeyRing({ clock, timeScale: delivery.timeScale, restore: saved?.jwt_keys, onChange: saveKeys });
  if (stateFile) {
    // Saving once at start finds an unwritable path now rather than at the first create.
    try {
      save();
    } catch (error) {
      throw new UsageError(`cannot write the emulator state file ${stateFile}: ${(error as Error).message}`, {
        hint: 'Pick a writable path for --state.',
      });
    }
    store.onChange(save);
  }

  const router = new Router();
  addManagementRoutes(router, store, options.apiVersions ?? EMULATOR_API_VERSIONS, options.updateMask);
  let baseUrl = '';
  const deliveries = createDeliveryEngine({ store, keys, clock, random, ...delivery, issuer: () => delivery.jwtIssuer ?? baseUrl });
  addDeliveryRoutes(router, deliveries, keys);
  const jobs = new JobManager({
    clock,
    random,
    delayMs: options.jobs?.delayMs ?? DEFAULT_JOB_DELAY_MS,
    failRate: options.jobs?.failRate ?? 0,
    timeScale: delivery.timeScale,
    emit: (request) => deliveries.emit(request),
    onEmitError: options.jobs?.onEmitError,
  });
  addJobRoutes(router, jobs, options.apiVersions ?? EMULATOR_API_VERSIONS);

  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  // Routing never reads Host, so a request without one is answered like any other rather than
  // with Node's bare 400.
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    void handle(req, res, { router, apiKey: options.apiKey, maxBodyBytes, onRequest: options.onRequest, onInternalError: options.onInternalError });
  });
  server.on('clientError', answerClientError);

  const host = options.host ?? '127.0.0.1';
  try {
    await listen(server, host, options.port ?? 0);
  } catch (error) {
    jobs.stop();
    await deliveries.stop();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;

  baseUrl = `http://${urlHost}:${address.port}`;
  let stopping: Promise<void> | undefined;
  return {
    url: baseUrl,
    host: address.address,
    port: address.port,
    store,
    router,
    deliveries,
    keys,
    jobs,
    stop: () => {
      // Jobs first: a job ending now would hand the stopping engine an event it must refuse.
      jobs.stop();
      stopping ??= deliveries.stop().then(
        () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      );
      return stopping;
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') {
        reject(
          new UsageError(`port ${port} on ${host} is already in use`, {
            hint: 'Another emulator may be running there. Pick another port with --port (0 picks a free one).',
            cause: error,
          }),
        );
      } else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EACCES') {
        reject(new UsageError(`cannot listen on ${host}:${port} (${error.code})`, { hint: 'Check --host and --port.', cause: error }));
      } else {
        reject(error);
      }
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

interface HandlerContext {
  router: Router;
  apiKey?: string;
  maxBodyBytes: number;
  onRequest?: (entry: RequestLogEntry) => void;
  onInternalError?: (error: unknown) => void;
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: HandlerContext): Promise<void> {
  const started = performance.now();
  const method = (req.method ?? 'GET').toUpperCase();
  let path = '/';
  let response: EmulatorResponse;
  try {
    const url = requestUrl(req.url ?? '/');
    path = url.pathname;
    const read = await readBodyLimited(req, ctx.maxBodyBytes, { whenTooLarge: 'drain' });
    // A client that hung up mid-request is gone: nothing to answer, nothing to report.
    if (read.kind === 'aborted') return;
    if (read.kind === 'too_large') throw new BodyTooLarge();
    const body = read.body;
    response = await dispatch(method, url, req, body, ctx);
  } catch (error) {
    // A client that hung up mid-request is gone: nothing to answer, nothing to report.
    if (res.destroyed || req.socket.destroyed) return;
    response = errorResponse(error, ctx);
  }
  send(res, response);
  ctx.onRequest?.({ method, path, status: response.status, durationMs: performance.now() - started });
}

/**
 * The request target as a URL. An origin-form target (`/v1/webhooks`) is only ever a path and a
 * query, even when it starts with `//x:y` (which `new URL(target, base)` would read as a host and
 * throw on); an absolute-form target that does not parse is the client's mistake, a 400.
 */
function requestUrl(target: string): URL {
  try {
    return target.startsWith('/') ? new URL(`http://emulator.invalid${target}`) : new URL(target);
  } catch {
    throw invalidArgument('The request target is not a valid URL: send a path such as /v1/webhooks.');
  }
}

async function dispatch(method: string, url: URL, req: IncomingMessage, body: Buffer, ctx: HandlerContext): Promise<EmulatorResponse> {
  const match = ctx.router.match(method, url.pathname);
  if (match.kind !== 'found') {
    // Google's front end answers an unknown method or path with 404 NOT_FOUND, not 405.
    throw new EmulatorHttpError('NOT_FOUND', `Method not found: ${method} ${url.pathname}`);
  }
  if (match.auth) checkApiKey(req, url, ctx.apiKey);
  const request: EmulatorRequest = {
    method,
    path: url.pathname,
    params: match.params,
    query: url.searchParams,
    headers: req.headers,
    rawBody: body,
    json: () => parseJson(body),
  };
  return match.handler(request);
}

// Mirrors the real API: no key is 401 UNAUTHENTICATED; a wrong key is 400 INVALID_ARGUMENT with
// reason API_KEY_INVALID (that is what generativelanguage.googleapis.com answers, not 401/403).
function checkApiKey(req: IncomingMessage, url: URL, expected: string | undefined): void {
  const header = req.headers['x-goog-api-key'];
  const given = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('key') ?? '';
  if (given === '') {
    throw new EmulatorHttpError(
      'UNAUTHENTICATED',
      'Method doesn\'t allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.',
    );
  }
  if (expected !== undefined && !sameString(given, expected)) {
    throw new EmulatorHttpError('INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'API_KEY_INVALID',
        domain: 'googleapis.com',
        metadata: { service: 'generativelanguage.googleapis.com' },
      },
    ]);
  }
}

function sameString(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function parseJson(body: Buffer): unknown {
  const text = body.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidArgument(`Invalid JSON payload received. ${(error as Error).message}`);
  }
}

class BodyTooLarge extends Error {}

function errorResponse(error: unknown, ctx: HandlerContext): EmulatorResponse {
  if (error instanceof EmulatorHttpError) return { status: error.httpStatus, body: error.toBody() };
  if (error instanceof BodyTooLarge) {
    return {
      status: 413,
      body: googleErrorBody(413, 'INVALID_ARGUMENT', `Request payload size exceeds the limit: ${ctx.maxBodyBytes} bytes.`),
    };
  }
  ctx.onInternalError?.(error);
  return { status: 500, body: googleErrorBody(500, 'INTERNAL', 'Internal error encountered.') };
}

/**
 * Malformed HTTP (a broken request line or chunk, headers over Node's limit) never reaches a
 * route: Node would answer it with a bare status line. The emulator answers in Google's shape.
 */
function answerClientError(error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex): void {
  if (!socket.writable || (error.code === 'ECONNRESET' && socket.destroyed)) {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const payload = JSON.stringify(
    googleErrorBody(status, 'INVALID_ARGUMENT', tooLarge ? 'Request headers are too large.' : `The request is not valid HTTP: ${error.code ?? error.message}.`),
  );
  // An answer to HEAD has no body, or the client reads it as the start of the next response.
  const head = error.rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
  socket.end(
    `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
      `content-type: application/json; charset=UTF-8\r\ncontent-length: ${Buffer.byteLength(payload)}\r\nconnection: close\r\n\r\n${head ? '' : payload}`,
  );
}

function send(res: ServerResponse, response: EmulatorResponse): void {
  if (res.headersSent || res.destroyed) return;
  const payload = response.body === undefined ? '' : JSON.stringify(response.body);
  res.writeHead(response.status, {
    ...(payload ? { 'content-type': 'application/json; charset=UTF-8' } : {}),
    'content-length': Buffer.byteLength(payload),
    ...response.headers,
  });
  res.end(payload);
}
