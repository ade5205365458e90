import { isoSeconds } from '../../core/duration.js';
import { newWebhookId } from '../../core/webhook-id.js';
import type { Clock } from '../../deps.js';
import { GemwhError } from '../../errors.js';
import { fixtureBody, loadFixture, type WebhookEventPayload } from '../../fixtures/fixtures.js';
import { EmulatorHttpError, invalidArgument } from '../google-error.js';
import type { EmulatorKeyRing } from '../jwks/key-ring.js';
import type { RandomSource, WebhookChange, WebhookStore } from '../store.js';
import { AttemptSender, type AttemptResult } from './attempt.js';
import { AttemptLog } from './attempt-log.js';
import { checkDynamicUri, WebhookDirectory } from './webhook-directory.js';
import {
  DEFAULT_DELIVERY_TIMEOUT_MS,
  DEFAULT_DISABLE_AFTER_FAILURES,
  DEFAULT_RETRY_SCHEDULE,
  retryDelayMs,
  type RetrySchedule,
} from './schedule.js';
import { realScheduler, type Scheduler } from '../../deps.js';
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
  /** When retries run; default real time. Tests pass one they advance by hand. */
  scheduler?: Scheduler;
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
  const scheduler = options.scheduler ?? realScheduler;
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new RangeError(`timeScale must be a positive number, got ${timeScale}`);
  if (!(duplicateRate >= 0 && duplicateRate <= 1)) throw new RangeError(`duplicateRate must be within 0..1, got ${duplicateRate}`);

  const log = new AttemptLog();
  const sender = new AttemptSender({ keys, issuer: options.issuer, jwtAudience: options.jwtAudience, timeoutMs, connections: concurrency });
  // A queue with a moving head: shift() on an array of thousands of queued jobs would copy it each time.
  let ready: Job[] = [];
  let readyHead = 0;
  // Fixture files are read once per run: the payload of an event type cannot change under a retry.
  const fixtures = new Map<string, WebhookEventPayload>();
  let active = 0;
  const scheduled = new Map<Delivery, () => void>();
  const consecutiveFailures = new Map<string, number>();
  const idleWaiters: Array<{ resolve: () => void; retriesToo: boolean }> = [];
  let stopped = false;
  let stopping: Promise<void> | undefined;
  const directory = new WebhookDirectory(store, clock);
  const ids = pooledRandom(random);

  const unsubscribe = store.onChange(onStoreChange);

  function onStoreChange(change: WebhookChange): void {
    directory.invalidate();
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
      for (const [delivery, cancel] of scheduled) {
        if (delivery.webhookId !== webhook.id) continue;
        cancel();
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
      for (const uri of uris) checkDynamicUri(uri);
      return {
        deliveries: uris.map((uri) => schedule1({ scheme: 'dynamic', eventType: request.type, body, target: uri, isPing: false })),
      };
    }

    const targets = directory.staticTargets(request);
    return {
      deliveries: targets.map((webhook) =>
        schedule1({ scheme: 'static', eventType: request.type, body, target: webhook.uri, webhookId: webhook.id, isPing: false }),
      ),
    };
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
      const webhook = directory.current(delivery.webhookId as string);
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
      seq: log.nextSeq(),
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
    log.keep(record);
    const result = await sender.send({ deliveryId: delivery.id, body: delivery.body, scheme: delivery.scheme, target, secrets, timestamp }, record);
    finish(job, record, result);
  }

  function finish(job: Job, record: DeliveryAttempt, result: AttemptResult): void {
    const { delivery } = job;
    if (result.latencyMs !== undefined) record.latencyMs = result.latencyMs;
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
    const webhook = webhookId ? directory.current(webhookId) : undefined;
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
        const timer = scheduler.after(realDelay, () => {
          scheduled.delete(delivery);
          enqueue({ delivery, duplicate: false });
        });
        scheduled.set(delivery, timer);
      }
    }
    options.onAttempt?.(record);
  }

  function autoDisable(webhookId: string): void {
    const webhook = directory.current(webhookId);
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

  function randomUnit(): number {
    return random.bytes(4).readUInt32BE(0) / 2 ** 32;
  }

  function idle(): Promise<void> {
    if (isIdle()) return Promise.resolve();
    return new Promise((resolve) => idleWaiters.push({ resolve, retriesToo: true }));
  }

  function quiet(): Promise<void> {
    if (active === 0 && queued() === 0) return Promise.resolve();
    return new Promise((resolve) => idleWaiters.push({ resolve, retriesToo: false }));
  }

  function isIdle(): boolean {
    return active === 0 && queued() === 0 && scheduled.size === 0;
  }

  function checkIdle(): void {
    if (active !== 0 || queued() !== 0 || idleWaiters.length === 0) return;
    const idleNow = scheduled.size === 0;
    const waiting = idleWaiters.splice(0);
    for (const waiter of waiting) {
      if (idleNow || !waiter.retriesToo) waiter.resolve();
      else idleWaiters.push(waiter);
    }
  }

  return {
    emit,
    ping,
    attempts: (filter?: DeliveryFilter) => log.list(filter),
    idle,
    quiet,
    stop() {
      stopping ??= (async () => {
        stopped = true;
        unsubscribe();
        for (const [delivery, cancel] of scheduled) {
          cancel();
          giveUp(delivery, 'emulator_stopped');
        }
        scheduled.clear();
        ready = [];
        readyHead = 0;
        // Closing the sender ends requests in flight instead of waiting out their timeouts.
        await sender.close();
        checkIdle();
        await idle();
      })();
      return stopping;
    },
  };
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
