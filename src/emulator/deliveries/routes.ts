import { invalidArgument } from '../google-error.js';
import type { EmulatorKeyRing } from '../jwks/key-ring.js';
import type { Router } from '../router.js';
import type { DeliveryAttempt, DeliveryEngine, EmitRequest } from './types.js';

/**
 * The emulator's own control surface. `/_emulator/...` cannot clash with Google's paths (they all
 * start with a version segment or `/.well-known`), and needs the API key like the management
 * routes: a trigger makes the emulator POST to any URI it is given. The JWKS is public, as
 * Google's is.
 */
export const EMULATOR_CONTROL_PREFIX = '/_emulator';
export const JWKS_PATH = '/.well-known/jwks.json';
/** Receivers may cache the key set this long; short, because `jwks rotate --drop-old` is for testing. */
const JWKS_MAX_AGE_SECONDS = 60;

export function addDeliveryRoutes(router: Router, engine: DeliveryEngine, keys: EmulatorKeyRing): void {
  router.add('POST', `${EMULATOR_CONTROL_PREFIX}/trigger`, (req) => {
    const result = engine.emit(parseTriggerRequest(req.json()));
    return {
      status: 200,
      body: {
        deliveries: result.deliveries.map((d) => ({ delivery_id: d.deliveryId, target: d.target, ...(d.webhookId ? { webhook_id: d.webhookId } : {}) })),
      },
    };
  });
  router.add('GET', `${EMULATOR_CONTROL_PREFIX}/deliveries`, (req) => {
    const webhookId = req.query.get('webhook_id') || undefined;
    const deliveryId = req.query.get('delivery_id') || undefined;
    return { status: 200, body: { attempts: engine.attempts({ webhookId, deliveryId }).map(toWireAttempt) } };
  });
  router.add('POST', `${EMULATOR_CONTROL_PREFIX}/jwks/rotate`, async (req) => {
    const body = objectBody(req.json(), 'jwks/rotate');
    const dropOld = body.drop_old;
    if (dropOld !== undefined && typeof dropOld !== 'boolean') throw invalidArgument('drop_old must be true or false.');
    const rotation = await keys.rotate({ dropOld: dropOld === true });
    return {
      status: 200,
      body: {
        kid: rotation.kid,
        keys: rotation.keys.map((k) => ({ kid: k.kid, ...(k.retiresAt !== undefined ? { retire_time: new Date(k.retiresAt).toISOString() } : {}) })),
      },
    };
  });
  router.add(
    'GET',
    JWKS_PATH,
    async () => ({ status: 200, body: await keys.jwks(), headers: { 'cache-control': `public, max-age=${JWKS_MAX_AGE_SECONDS}` } }),
    { auth: false },
  );
}

/** The trigger body: snake_case like the rest of the API. */
export function parseTriggerRequest(value: unknown): EmitRequest {
  const body = objectBody(value, 'trigger');
  const type = body.type;
  if (typeof type !== 'string' || type === '') throw invalidArgument('type is required: the event type to send, e.g. batch.succeeded.');
  const request: EmitRequest = { type };
  if (body.data !== undefined) request.data = plainObject(body.data, 'data');
  if (body.webhook_ids !== undefined) request.webhookIds = stringList(body.webhook_ids, 'webhook_ids');
  if (body.all !== undefined) {
    if (typeof body.all !== 'boolean') throw invalidArgument('all must be true or false.');
    request.ignoreSubscriptions = body.all;
  }
  if (body.webhook_config !== undefined) {
    const config = plainObject(body.webhook_config, 'webhook_config');
    const metadata = config.user_metadata ?? config.userMetadata;
    const userMetadata = metadata === undefined ? undefined : plainObject(metadata, 'webhook_config.user_metadata');
    if (config.uris !== undefined) {
      request.dynamic = { uris: stringList(config.uris, 'webhook_config.uris'), ...(userMetadata ? { userMetadata } : {}) };
    } else if (userMetadata) {
      request.userMetadata = userMetadata;
    }
  }
  if (request.dynamic && (request.webhookIds !== undefined || request.ignoreSubscriptions)) {
    throw invalidArgument('webhook_config.uris replaces the static webhooks: do not combine it with webhook_ids or all.');
  }
  return request;
}

/** An attempt as the endpoint and `gemwh emulator deliveries --json` show it. */
export interface WireAttempt {
  seq: number;
  delivery_id: string;
  event_type: string;
  scheme: 'static' | 'dynamic';
  webhook_id?: string;
  target: string;
  attempt: number;
  duplicate: boolean;
  time: string;
  webhook_timestamp: number;
  signatures: number;
  kid?: string;
  outcome: DeliveryAttempt['outcome'];
  status?: number;
  error?: string;
  latency_ms?: number;
  next_retry_time?: string;
  next_retry_delay_ms?: number;
  gave_up?: DeliveryAttempt['gaveUp'];
}

export function toWireAttempt(a: DeliveryAttempt): WireAttempt {
  return {
    seq: a.seq,
    delivery_id: a.deliveryId,
    event_type: a.eventType,
    scheme: a.scheme,
    ...(a.webhookId ? { webhook_id: a.webhookId } : {}),
    target: a.target,
    attempt: a.attempt,
    duplicate: a.duplicate,
    time: new Date(a.at).toISOString(),
    webhook_timestamp: a.timestamp,
    signatures: a.signatures,
    ...(a.kid ? { kid: a.kid } : {}),
    outcome: a.outcome,
    ...(a.status !== undefined ? { status: a.status } : {}),
    ...(a.error !== undefined ? { error: a.error } : {}),
    ...(a.latencyMs !== undefined ? { latency_ms: a.latencyMs } : {}),
    ...(a.nextRetryAt !== undefined ? { next_retry_time: new Date(a.nextRetryAt).toISOString() } : {}),
    ...(a.nextRetryDelayMs !== undefined ? { next_retry_delay_ms: a.nextRetryDelayMs } : {}),
    ...(a.gaveUp !== undefined ? { gave_up: a.gaveUp } : {}),
  };
}

function objectBody(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidArgument(`The ${what} request body must be a JSON object.`);
  return value as Record<string, unknown>;
}

function plainObject(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidArgument(`${field} must be a JSON object.`);
  return value as Record<string, unknown>;
}

function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) {
    throw invalidArgument(`${field} must be a list of non-empty strings.`);
  }
  return value as string[];
}
