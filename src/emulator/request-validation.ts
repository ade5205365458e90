import type { RevocationBehavior, WebhookInput, WebhookState } from '../api/types.js';
import { API_EVENT_TYPES } from '../core/events.js';
import type { UpdateMaskMode } from './fidelity.js';
import { invalidArgument } from './google-error.js';
import { UPDATABLE_FIELDS, type UpdatableField, type WebhookChanges } from './store.js';

/**
 * Request bodies as the emulator reads them: snake_case field names only. The live API refuses a
 * lowerCamelCase key on the webhooks endpoints with "Unknown name … Did you mean …" (observed,
 * see src/emulator/fidelity.ts), although proto3 JSON would allow it; any other unknown name is a
 * 400 too. Output-only fields of the resource (id, create_time, ...) are known and ignored.
 * Names are looked up in a Map, never on a plain object: `constructor` or `__proto__` in a body
 * must not find Object.prototype's members.
 */

const WEBHOOK_FIELDS: ReadonlySet<string> = new Set([
  'id',
  'name',
  'uri',
  'subscribed_events',
  'state',
  'new_signing_secret',
  'signing_secrets',
  'create_time',
  'update_time',
]);

const STATES: readonly WebhookState[] = ['enabled', 'disabled', 'disabled_due_to_failed_deliveries'];
const REVOCATIONS: readonly RevocationBehavior[] = ['revoke_previous_secrets_after_h24', 'revoke_previous_secrets_immediately'];


type Fields = Map<string, unknown>;

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

function unknownName(key: string, knownNames: ReadonlySet<string>): never {
  const snake = snakeCase(key);
  const hint = snake !== key && knownNames.has(snake) ? ` Did you mean "${snake}"?` : '';
  throw invalidArgument(`Invalid JSON payload received. Unknown name "${key}": Cannot find field.${hint}`);
}

function readObject(body: unknown, knownNames: ReadonlySet<string>, what: string): Fields {
  const fields: Fields = new Map();
  if (body === undefined || body === null) return fields;
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw invalidArgument(`Invalid JSON payload received. ${what} must be a JSON object.`);
  }
  for (const [key, value] of Object.entries(body)) {
    if (!knownNames.has(key)) unknownName(key, knownNames);
    fields.set(key, value);
  }
  return fields;
}

function readUri(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalidArgument('uri is required: the URL that receives webhook events.');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidArgument(`uri must be an absolute URL, got "${value}".`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalidArgument(`uri must be an http or https URL, got "${value}".`);
  }
  return value;
}

function readEvents(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalidArgument('subscribed_events is required: a non-empty list of event types such as "batch.succeeded".');
  }
  return value.map((event, index) => {
    if (typeof event !== 'string' || !(API_EVENT_TYPES as readonly string[]).includes(event)) {
      throw invalidArgument(
        `Invalid value at 'subscribed_events[${index}]': ${JSON.stringify(event)}. Allowed values: ${API_EVENT_TYPES.join(', ')}.`,
      );
    }
    return event;
  });
}

function readName(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidArgument('name must be a string.');
  return value;
}

/** Enum values come lower case on the wire; proto enum names (upper case) are accepted too. */
function readState(value: unknown): WebhookState {
  const state = typeof value === 'string' ? (value.toLowerCase() as WebhookState) : undefined;
  if (!state || !STATES.includes(state)) {
    throw invalidArgument(`state must be one of ${STATES.join(', ')}; got ${JSON.stringify(value)}.`);
  }
  return state;
}

export function parseWebhookInput(body: unknown): WebhookInput {
  const fields = readObject(body, WEBHOOK_FIELDS, 'The webhook');
  const name = readName(fields.get('name'));
  return {
    ...(name !== undefined ? { name } : {}),
    uri: readUri(fields.get('uri')),
    subscribed_events: readEvents(fields.get('subscribed_events')),
  };
}

/**
 * `ignore` (observed on the live API): the fields present in the body change; the mask is not
 * read at all. `honor` (the reference's
 * reading): with a mask only the named fields change (a named optional field absent from the body
 * is cleared, a named required one is a 400); `*` names them all; without a mask the fields
 * present change.
 */
export function parseWebhookUpdate(
  body: unknown,
  updateMask: string | null,
  mode: UpdateMaskMode = 'ignore',
): { changes: WebhookChanges; fields: UpdatableField[] } {
  const raw = readObject(body, WEBHOOK_FIELDS, 'The webhook update');
  const present = UPDATABLE_FIELDS.filter((field) => raw.get(field) !== undefined);
  const masked = mode === 'honor' && updateMask !== null && updateMask.trim() !== '' ? parseUpdateMask(updateMask) : undefined;
  let fields: UpdatableField[];
  if (masked) {
    fields = masked;
  } else {
    fields = present;
    if (fields.length === 0) {
      throw invalidArgument(`Nothing to update: give at least one of ${UPDATABLE_FIELDS.join(', ')} in the body.`);
    }
  }
  const changes: WebhookChanges = {};
  for (const field of fields) {
    const value = raw.get(field);
    if (value === undefined) continue;
    if (field === 'name') changes.name = readName(value) ?? '';
    if (field === 'uri') changes.uri = readUri(value);
    if (field === 'subscribed_events') changes.subscribed_events = readEvents(value);
    if (field === 'state') changes.state = readState(value);
  }
  return { changes, fields };
}

function parseUpdateMask(updateMask: string): UpdatableField[] {
  const fields: UpdatableField[] = [];
  for (const part of updateMask.split(',')) {
    const path = part.trim();
    if (path === '*') {
      fields.push(...UPDATABLE_FIELDS);
      continue;
    }
    // Query parameters are not body keys: the mask may name a field in either spelling.
    const canonical = snakeCase(path);
    if (!(UPDATABLE_FIELDS as readonly string[]).includes(canonical)) {
      throw invalidArgument(`update_mask names "${path}", which cannot be updated; updatable fields: ${UPDATABLE_FIELDS.join(', ')}.`);
    }
    fields.push(canonical as UpdatableField);
  }
  return [...new Set(fields)];
}

const REVOCATION_FIELDS: ReadonlySet<string> = new Set(['revocation_behavior']);
const NO_FIELDS: ReadonlySet<string> = new Set();

export function parseRevocationBehavior(body: unknown): RevocationBehavior {
  const fields = readObject(body, REVOCATION_FIELDS, 'The request');
  const value = fields.get('revocation_behavior');
  if (value === undefined || value === null || value === 'REVOCATION_BEHAVIOR_UNSPECIFIED' || value === 'revocation_behavior_unspecified') {
    return 'revoke_previous_secrets_after_h24';
  }
  const behavior = typeof value === 'string' ? (value.toLowerCase() as RevocationBehavior) : undefined;
  if (!behavior || !REVOCATIONS.includes(behavior)) {
    throw invalidArgument(`revocation_behavior must be one of ${REVOCATIONS.join(', ')}; got ${JSON.stringify(value)}.`);
  }
  return behavior;
}

/** PingWebhookRequest has no fields; an empty object or no body at all are both fine. */
export function parseEmptyRequest(body: unknown): void {
  readObject(body, NO_FIELDS, 'The request');
}

export function parsePageSize(value: string | null): number | undefined {
  if (value === null || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) throw invalidArgument(`page_size must be an integer, got "${value}".`);
  const size = Number(value);
  if (size < 0) throw invalidArgument(`page_size must not be negative, got ${size}.`);
  return size;
}
