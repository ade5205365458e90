import type { Dispatcher } from 'undici';
import { signJwt, webhookClaims } from '../../core/jwt-sign.js';
import { computeSignature, parseSecret } from '../../core/standard-webhooks.js';
import { isoSeconds } from '../../core/duration.js';
import { newWebhookId } from '../../core/webhook-id.js';
import type { Clock } from '../../deps.js';
import { GemwhError } from '../../errors.js';
import { fixtureBody, loadFixture, type WebhookEventPayload } from '../../fixtures/fixtures.js';
import { VERSION } from '../../version.js';
import { EmulatorHttpError, errorInfo, invalidArgument, TRIGGER_REFUSAL } from '../google-error.js';
import type { EmulatorKeyRing } from '../jwks/key-ring.js';
import type { RandomSource, WebhookChange, WebhookStore } from '../store.js';
import {
  DEFAULT_DELIVERY_TIMEOUT_MS,
  DEFAULT_DISABLE_AFTER_FAILURES,
  DEFAULT_RETRY_SCHEDULE,
  retryDelayMs,
  type RetrySchedule,
} from './schedule.js';
import type {
  DeliveryAttempt,
  DeliveryEngine,
  DeliveryFilter,
  EmitRequest,
  EmitResult,
  EmittedDelivery,
  GiveUpReason,
} from './types.js';

/** The `type` of the test delivery PingWebhook sends; Gemini does not document its payload (spec §8.17). */
export const PING_EVENT_TYPE = 'webhook.ping';

/** Attempts kept for attempts() and `gemwh emulator deliveries`; older ones are forgotten. */
export const ATTEMPTS_KEPT = 10_000;

export interface DeliveryEngineOptions {
  store: WebhookStore;
  keys: EmulatorKeyRing;
  /** Wall time: `webhook-timestamp`, JWT `iat`, attempt times. */
  clock: Clock;
  random: RandomSource;
  /** The JWT `iss`: the emulator's base URL (known only once the server listens) unless set. */
  issuer: () => string;
  /** The JWT `aud` of every dynamic delivery; undefined: the URI it is sent to. */
  jwtAudience?: string;
  /** Emulated time runs this many times faster: retry delays are divided by it. Default 1. */
  timeScale?: number;
  /** 0..1: the share of successful deliveries sent a second time on purpose (same webhook-id). */
  duplicateRate?: number;
  /** Real ms a receiver has to answer. Not scaled: a receiver cannot answer faster because time is. */
  timeoutMs?: number;
  schedule?: RetrySchedule;
  disableAfterFailures?: number;
  /** Requests in flight at most. */
  concurrency?: number;
  /** Told about every finished attempt (the emulator logs them on stderr). */
  onAttempt?: (attempt: DeliveryAttempt) => void;
}

interface Delivery {
  id: string;
  eventType: string;
  body: string;
  scheme: 'static' | 'dynamic';
  webhookId?: string;
  /** The dynamic URI; for static deliveries the webhook's uri is read again before every attempt. */
  target: string;
  attemptsMade: number;
  /** Emulated ms from the first attempt to the next one. */
  elapsedMs: number;
  /** Pings are sent once and never count towards auto-disable. */
  isPing: boolean;
  last?: DeliveryAttempt;
}

/** What deliveries need of a webhook, taken from the store's records. */
interface WebhookView {
  id: string;
  uri: string;
  state: string;
  subscribedEvents: string[];
  secrets: Array<{ secret: string; expiresAt: number }>;
}

interface Job {
  delivery: Delivery;
  duplicate: boolean;
}

/**
 * Sends events the way Gemini does (spec §6): at least once, any 2xx acknowledges, anything else
 * (or no answer within timeoutMs) is retried on the schedule in schedule.ts with the same
 * webhook-id and a fresh timestamp and signature; a webhook failing `disableAfterFailures` times
 * in a row is set to disabled_due_to_failed_deliveries in the store.
 */
export function createDeliveryEngine(options: DeliveryEngineOptions): DeliveryEngine {
  const { store, keys, clock, random } = options;
  const timeScale = options.timeScale ?? 1;
  const duplicateRate = options.duplicateRate ?? 0;
  const timeoutMs = options.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
  const schedule = options.schedule ?? DEFAULT_RETRY_SCHEDULE;
  const disableAfter = options.disableAfterFailures ?? DEFAULT_DISABLE_AFTER_FAILURES;
  const concurrency = options.concurrency ?? 64;
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new RangeError(`timeScale must be a positive number, got ${timeScale}`);
  if (!(duplicateRate >= 0 && duplicateRate <= 1)) throw new RangeError(`duplicateRate must be within 0..1, got ${duplicateRate}`);

  const attemptLog: DeliveryAttempt[] = [];
  let attemptSeq = 0;
  // A queue with a moving head: shift() on an array of thousands of queued jobs would copy it each time.
  let ready: Job[] = [];
  let readyHead = 0;
  // Fixture files are read once per run: the payload of an event type cannot change under a retry.
  const fixtures = new Map<string, WebhookEventPayload>();
  const targets = new Map<string, { origin: string; path: string }>();
  let active = 0;
  const scheduled = new Map<Delivery, NodeJS.Timeout>();
  const consecutiveFailures = new Map<string, number>();
  const idleWaiters: Array<() => void> = [];
  const secretKeys = new Map<string, Buffer>();
  let stopped = false;
  let stopping: Promise<void> | undefined;
  let agentLoading: Promise<Dispatcher & { destroy(): Promise<void> }> | undefined;
  let agent: (Dispatcher & { destroy(): Promise<void> }) | undefined;
  // The store hands out deep copies; a view rebuilt only when it announces a change keeps them
  // off the per-delivery path.
  let view: Map<string, WebhookView> | undefined;
  const ids = pooledRandom(random);

  const unsubscribe = store.onChange(onStoreChange);

  function webhooks(): Map<string, WebhookView> {
    view ??= new Map(
      store.records().map((record) => [
        record.id,
        {
          id: record.id,
          uri: record.uri,
          state: record.state,
          subscribedEvents: record.subscribed_events,
          secrets: record.secrets.map((s) => ({ secret: s.secret, expiresAt: s.expire_time === undefined ? Infinity : Date.parse(s.expire_time) })),
        },
      ]),
    );
    return view;
  }

  function onStoreChange(change: WebhookChange): void {
    view = undefined;
    const webhook = change.webhook;
    if (change.type === 'pinged') {
      ping(webhook.id);
      return;
    }
    if (change.type === 'deleted' || (change.type === 'updated' && change.fields.includes('state'))) {
      if (change.type === 'updated' && webhook.state === 'enabled') {
        // Re-enabling starts a fresh count, or the next failure would disable it again at once.
        consecutiveFailures.delete(webhook.id);
        return;
      }
      const reason: GiveUpReason =
        change.type === 'updated' && webhook.state === 'disabled_due_to_failed_deliveries' ? 'webhook_auto_disabled' : 'webhook_unavailable';
      for (const [delivery, timer] of scheduled) {
        if (delivery.webhookId !== webhook.id) continue;
        clearTimeout(timer);
        scheduled.delete(delivery);
        giveUp(delivery, reason);
      }
      checkIdle();
    }
  }

  function emit(request: EmitRequest): EmitResult {
    if (stopped) throw new EmulatorHttpError('UNAVAILABLE', 'The emulator is stopping.');
    const now = clock.now();
    const data = { ...request.data };
    const metadata = request.dynamic?.userMetadata ?? request.userMetadata;
    if (metadata !== undefined) data.user_metadata = metadata;
    const body = fixtureBody(request.type, { now, data, fixture: fixtureOf(request.type) });

    if (request.dynamic) {
      const uris = request.dynamic.uris;
      if (uris.length === 0) throw invalidArgument('webhook_config.uris is empty: give at least one URI.');
      for (const uri of uris) checkUri(uri);
      return {
        deliveries: uris.map((uri) => schedule1({ scheme: 'dynamic', eventType: request.type, body, target: uri, isPing: false })),
      };
    }

    const targets = staticTargets(request);
    return {
      deliveries: targets.map((webhook) =>
        schedule1({ scheme: 'static', eventType: request.type, body, target: webhook.uri, webhookId: webhook.id, isPing: false }),
      ),
    };
  }

  function staticTargets(request: EmitRequest): WebhookView[] {
    if (request.webhookIds === undefined) {
      const found: WebhookView[] = [];
      for (const w of webhooks().values()) {
        if (w.state === 'enabled' && (request.ignoreSubscriptions || w.subscribedEvents.includes(request.type))) found.push(w);
      }
      return found;
    }
    return request.webhookIds.map((id) => {
      const webhook = webhooks().get(id);
      if (!webhook) throw new EmulatorHttpError('NOT_FOUND', `Webhook "${id}" was not found.`);
      if (webhook.state !== 'enabled') {
        throw new EmulatorHttpError(
          'FAILED_PRECONDITION',
          `Webhook "${id}" is ${webhook.state}, so it receives no events. Re-enable it with UpdateWebhook (state: enabled).`,
          [errorInfo(TRIGGER_REFUSAL.disabled)],
        );
      }
      if (!request.ignoreSubscriptions && !webhook.subscribedEvents.includes(request.type)) {
        throw new EmulatorHttpError(
          'FAILED_PRECONDITION',
          `Webhook "${id}" is not subscribed to ${request.type} (it subscribes to ${webhook.subscribedEvents.join(', ') || 'nothing'}).`,
          [errorInfo(TRIGGER_REFUSAL.notSubscribed)],
        );
      }
      return webhook;
    });
  }

  function ping(webhookId: string): EmitResult {
    if (stopped) return { deliveries: [] };
    const webhook = store.get(webhookId);
    const now = clock.now();
    const body = JSON.stringify({ type: PING_EVENT_TYPE, version: 'v1', timestamp: isoSeconds(now), data: { webhook_id: webhook.id } });
    return {
      deliveries: [schedule1({ scheme: 'static', eventType: PING_EVENT_TYPE, body, target: webhook.uri, webhookId: webhook.id, isPing: true })],
    };
  }

  function schedule1(init: Pick<Delivery, 'scheme' | 'eventType' | 'body' | 'target' | 'webhookId' | 'isPing'>): EmittedDelivery {
    const delivery: Delivery = {
      id: newWebhookId(ids),
      eventType: init.eventType,
      body: init.body,
      scheme: init.scheme,
      webhookId: init.webhookId,
      target: init.target,
      attemptsMade: 0,
      elapsedMs: 0,
      isPing: init.isPing,
    };
    enqueue({ delivery, duplicate: false });
    const emitted: EmittedDelivery = { deliveryId: delivery.id, target: delivery.target };
    if (delivery.webhookId !== undefined) emitted.webhookId = delivery.webhookId;
    return emitted;
  }

  function fixtureOf(type: string): WebhookEventPayload {
    let fixture = fixtures.get(type);
    if (!fixture) {
      try {
        fixture = loadFixture(type);
      } catch (error) {
        if (error instanceof GemwhError) throw invalidArgument(`${error.message}.${error.hint ? ` ${error.hint}` : ''}`);
        throw error;
      }
      fixtures.set(type, fixture);
    }
    return fixture;
  }

  function enqueue(job: Job): void {
    ready.push(job);
    pump();
  }

  function queued(): number {
    return ready.length - readyHead;
  }

  function pump(): void {
    while (!stopped && active < concurrency && queued() > 0) {
      const job = ready[readyHead++] as Job;
      if (readyHead > 1024 && readyHead * 2 > ready.length) {
        ready = ready.slice(readyHead);
        readyHead = 0;
      }
      active += 1;
      attempt(job).then(settled, settled);
    }
  }

  function settled(): void {
    active -= 1;
    pump();
    checkIdle();
  }

  async function attempt(job: Job): Promise<void> {
    const { delivery } = job;
    let target = delivery.target;
    let secrets: string[] = [];
    if (delivery.scheme === 'static') {
      const webhook = currentWebhook(delivery.webhookId as string);
      if (!webhook || (webhook.state !== 'enabled' && !delivery.isPing)) {
        giveUp(delivery, webhook?.state === 'disabled_due_to_failed_deliveries' ? 'webhook_auto_disabled' : 'webhook_unavailable');
        return;
      }
      target = webhook.uri;
      secrets = webhook.secrets;
    }

    if (!job.duplicate) delivery.attemptsMade += 1;
    const now = clock.now();
    const timestamp = Math.floor(now / 1000);
    const record: DeliveryAttempt = {
      seq: ++attemptSeq,
      deliveryId: delivery.id,
      eventType: delivery.eventType,
      scheme: delivery.scheme,
      ...(delivery.webhookId ? { webhookId: delivery.webhookId } : {}),
      target,
      attempt: delivery.attemptsMade,
      duplicate: job.duplicate,
      at: now,
      timestamp,
      signatures: secrets.length,
      outcome: 'in_flight',
    };
    keep(record);

    let signature: string;
    try {
      if (delivery.scheme === 'static') {
        signature = secrets.map((secret) => `v1,${computeSignature(keyOf(secret), delivery.id, String(timestamp), delivery.body).toString('base64')}`).join(' ');
      } else {
        const key = await keys.current();
        record.kid = key.kid;
        const claims = webhookClaims({
          event: JSON.parse(delivery.body) as unknown,
          body: delivery.body,
          webhookId: delivery.id,
          audience: options.jwtAudience ?? target,
          issuedAt: timestamp,
          issuer: options.issuer(),
        });
        signature = await signJwt(claims, key);
      }
    } catch (error) {
      finish(job, record, { error: `could not sign: ${describe(error)}` });
      return;
    }

    const started = performance.now();
    try {
      const dispatcher = agent ?? (await httpAgent());
      const { origin, path } = targetOf(target);
      // undici's own timers, not an AbortController per request: they cost nothing extra, at the
      // price of their granularity (they tick about every 0.5 s, so 5 s means 5 to 6 s).
      const response = await dispatcher.request({
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        origin,
        path,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': `gemwh-emulator/${VERSION}`,
          'webhook-id': delivery.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signature,
        },
        body: delivery.body,
      });
      // Reading the answer (bounded) frees the connection for the next delivery.
      await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      finish(job, record, { status: response.statusCode, latencyMs: performance.now() - started });
    } catch (error) {
      finish(job, record, { error: describe(error, timeoutMs), latencyMs: performance.now() - started });
    }
  }

  function finish(job: Job, record: DeliveryAttempt, result: { status?: number; error?: string; latencyMs?: number }): void {
    const { delivery } = job;
    if (result.latencyMs !== undefined) record.latencyMs = Math.round(result.latencyMs * 10) / 10;
    if (result.status !== undefined) record.status = result.status;
    const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
    record.outcome = ok ? 'delivered' : 'failed';
    if (!ok) record.error = result.error ?? `HTTP ${result.status}`;
    delivery.last = record;

    if (job.duplicate || stopped) {
      options.onAttempt?.(record);
      return;
    }
    const webhookId = delivery.webhookId;
    if (ok) {
      if (webhookId && !delivery.isPing) consecutiveFailures.delete(webhookId);
      options.onAttempt?.(record);
      if (duplicateRate > 0 && randomUnit() < duplicateRate) enqueue({ delivery, duplicate: true });
      return;
    }

    if (webhookId && !delivery.isPing) {
      const failures = (consecutiveFailures.get(webhookId) ?? 0) + 1;
      consecutiveFailures.set(webhookId, failures);
      if (failures >= disableAfter) autoDisable(webhookId);
    }
    const webhook = webhookId ? currentWebhook(webhookId) : undefined;
    if (delivery.isPing) {
      record.gaveUp = 'not_retried';
    } else if (webhookId && webhook?.state !== 'enabled') {
      record.gaveUp = webhook?.state === 'disabled_due_to_failed_deliveries' ? 'webhook_auto_disabled' : 'webhook_unavailable';
    } else {
      const delay = retryDelayMs(delivery.attemptsMade, schedule);
      if (delivery.elapsedMs + delay > schedule.windowMs) {
        record.gaveUp = 'retries_exhausted';
      } else {
        delivery.elapsedMs += delay;
        const realDelay = delay / timeScale;
        record.nextRetryDelayMs = delay;
        record.nextRetryAt = Math.round(clock.now() + realDelay);
        const timer = setTimeout(() => {
          scheduled.delete(delivery);
          enqueue({ delivery, duplicate: false });
        }, realDelay);
        scheduled.set(delivery, timer);
      }
    }
    options.onAttempt?.(record);
  }

  function autoDisable(webhookId: string): void {
    const webhook = currentWebhook(webhookId);
    if (webhook?.state !== 'enabled') return;
    // The store announces the change; onStoreChange then drops this webhook's pending retries.
    store.update(webhookId, { state: 'disabled_due_to_failed_deliveries' }, ['state']);
  }

  function giveUp(delivery: Delivery, reason: GiveUpReason): void {
    if (delivery.last && delivery.last.gaveUp === undefined) {
      delivery.last.gaveUp = reason;
      delete delivery.last.nextRetryAt;
      delete delivery.last.nextRetryDelayMs;
    }
  }

  function currentWebhook(id: string): { uri: string; state: string; secrets: string[] } | undefined {
    const webhook = webhooks().get(id);
    if (!webhook) return undefined;
    // A secret's 24 h grace ends by the clock, without a store change to announce it.
    const now = clock.now();
    const secrets: string[] = [];
    for (const s of webhook.secrets) if (s.expiresAt > now) secrets.push(s.secret);
    return { uri: webhook.uri, state: webhook.state, secrets };
  }

  function keyOf(secret: string): Buffer {
    let key = secretKeys.get(secret);
    if (!key) {
      key = parseSecret(secret);
      secretKeys.set(secret, key);
    }
    return key;
  }

  function keep(record: DeliveryAttempt): void {
    attemptLog.push(record);
    // Trimming in chunks keeps this O(1) amortised under a flood of deliveries.
    if (attemptLog.length > ATTEMPTS_KEPT * 1.1) attemptLog.splice(0, attemptLog.length - ATTEMPTS_KEPT);
  }

  function randomUnit(): number {
    return random.bytes(4).readUInt32BE(0) / 2 ** 32;
  }

  // undici is loaded with the first delivery: an emulator that never delivers does not pay for it.
  function httpAgent(): Promise<Dispatcher & { destroy(): Promise<void> }> {
    agentLoading ??= import('undici').then(({ Agent }) => {
      agent = new Agent({ connections: concurrency, keepAliveTimeout: 4_000, connect: { timeout: timeoutMs } });
      return agent;
    });
    return agentLoading;
  }

  function targetOf(target: string): { origin: string; path: string } {
    let parsed = targets.get(target);
    if (!parsed) {
      const url = new URL(target);
      parsed = { origin: url.origin, path: `${url.pathname}${url.search}` };
      if (targets.size > 1000) targets.clear();
      targets.set(target, parsed);
    }
    return parsed;
  }

  function idle(): Promise<void> {
    if (isIdle()) return Promise.resolve();
    return new Promise((resolve) => idleWaiters.push(resolve));
  }

  function isIdle(): boolean {
    return active === 0 && queued() === 0 && scheduled.size === 0;
  }

  function checkIdle(): void {
    if (!isIdle()) return;
    for (const wake of idleWaiters.splice(0)) wake();
  }

  return {
    emit,
    ping,
    attempts(filter: DeliveryFilter = {}) {
      const start = Math.max(0, attemptLog.length - ATTEMPTS_KEPT);
      return attemptLog
        .slice(start)
        .filter((a) => (filter.webhookId === undefined || a.webhookId === filter.webhookId) && (filter.deliveryId === undefined || a.deliveryId === filter.deliveryId))
        .map((a) => ({ ...a }));
    },
    idle,
    stop() {
      stopping ??= (async () => {
        stopped = true;
        unsubscribe();
        for (const [delivery, timer] of scheduled) {
          clearTimeout(timer);
          giveUp(delivery, 'emulator_stopped');
        }
        scheduled.clear();
        ready = [];
        readyHead = 0;
        // Destroying the agent aborts requests in flight instead of waiting out their timeouts.
        if (agentLoading) await (await agentLoading).destroy().catch(() => undefined);
        checkIdle();
        await idle();
      })();
      return stopping;
    },
  };
}

function checkUri(uri: string): void {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw invalidArgument(`webhook_config.uris: "${uri}" is not an absolute URL.`);
  }
  // Gemini presumably wants https; the emulator also takes http so local receivers work.
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidArgument(`webhook_config.uris: "${uri}" must be an http or https URL.`);
  }
}

/**
 * Hands out random bytes from a larger block: one call into the CSPRNG per 128 webhook-ids
 * instead of one per id. The bytes are the same stream, so a seeded test source stays predictable.
 */
function pooledRandom(random: RandomSource): (size: number) => Buffer {
  let pool: Buffer = Buffer.alloc(0);
  let offset = 0;
  return (size) => {
    if (offset + size > pool.length) {
      pool = random.bytes(Math.max(4096, size));
      offset = 0;
    }
    const bytes = pool.subarray(offset, offset + size);
    offset += size;
    return bytes;
  };
}

function describe(error: unknown, timeoutMs?: number): string {
  if (error !== null && typeof error === 'object') {
    const code = (error as { code?: unknown }).code;
    const within = timeoutMs === undefined ? '' : ` within ${timeoutMs} ms`;
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return `timeout: no answer${within}`;
    if (code === 'UND_ERR_CONNECT_TIMEOUT') return `timeout: could not connect${within}`;
    const message = error instanceof Error ? error.message : String(error);
    if (typeof code === 'string' && code.startsWith('E')) return code;
    return message;
  }
  return String(error);
}
