import type { RevocationBehavior, WebhookInput, WebhookState } from '../api/types.js';
import { invalidArgument } from './google-error.js';
import { UPDATABLE_FIELDS, type UpdatableField, type WebhookChanges } from './store.js';

/**
 * Request bodies as the emulator reads them. Like Google's proto3 JSON parser, field names are
 * accepted in snake_case and lowerCamelCase, and an unknown name is a 400, not silently dropped.
 * Output-only fields of the resource (id, create_time, ...) are known names and are ignored.
 */

const WEBHOOK_FIELDS: Record<string, string> = {
  id: 'id',
  name: 'name',
  uri: 'uri',
  subscribed_events: 'subscribed_events',
  subscribedEvents: 'subscribed_events',
  state: 'state',
  new_signing_secret: 'new_signing_secret',
  newSigningSecret: 'new_signing_secret',
  signing_secrets: 'signing_secrets',
  signingSecrets: 'signing_secrets',
  create_time: 'create_time',
  createTime: 'create_time',
  update_time: 'update_time',
  updateTime: 'update_time',
};

const STATES: readonly WebhookState[] = ['enabled', 'disabled', 'disabled_due_to_failed_deliveries'];
const REVOCATIONS: readonly RevocationBehavior[] = ['revoke_previous_secrets_after_h24', 'revoke_previous_secrets_immediately'];
// Event types look like `batch.succeeded`. The API's enum is open (SDKs let any string through),
// so the emulator checks the shape rather than a fixed list: `batch.cancelled` stays possible.
const EVENT_TYPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

type Fields = Partial<Record<string, unknown>>;

function readObject(body: unknown, knownNames: Record<string, string>, what: string): Fields {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw invalidArgument(`Invalid JSON payload received. ${what} must be a JSON object.`);
  }
  const fields: Fields = {};
  for (const [key, value] of Object.entries(body)) {
    const canonical = knownNames[key];
    if (!canonical) throw invalidArgument(`Invalid JSON payload received. Unknown name "${key}": Cannot find field.`);
    fields[canonical] = value;
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
    if (typeof event !== 'string' || !EVENT_TYPE.test(event)) {
      throw invalidArgument(`subscribed_events[${index}] is not an event type: ${JSON.stringify(event)}.`);
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
  const name = readName(fields.name);
  return {
    ...(name !== undefined ? { name } : {}),
    uri: readUri(fields.uri),
    subscribed_events: readEvents(fields.subscribed_events),
  };
}

/**
 * With update_mask only the named fields change (a named field absent from the body is cleared if
 * optional, an error if required); without it, every updatable field present in the body changes.
 * `*` names all updatable fields.
 */
export function parseWebhookUpdate(body: unknown, updateMask: string | null): { changes: WebhookChanges; fields: UpdatableField[] } {
  const raw = readObject(body, WEBHOOK_FIELDS, 'The webhook update');
  let fields: UpdatableField[];
  if (updateMask !== null && updateMask.trim() !== '') {
    fields = [];
    for (const part of updateMask.split(',')) {
      const path = part.trim();
      if (path === '*') {
        fields.push(...UPDATABLE_FIELDS);
        continue;
      }
      const canonical = WEBHOOK_FIELDS[path];
      if (!canonical || !(UPDATABLE_FIELDS as readonly string[]).includes(canonical)) {
        throw invalidArgument(`update_mask names "${path}", which cannot be updated; updatable fields: ${UPDATABLE_FIELDS.join(', ')}.`);
      }
      fields.push(canonical as UpdatableField);
    }
  } else {
    fields = UPDATABLE_FIELDS.filter((field) => raw[field] !== undefined);
    if (fields.length === 0) {
      throw invalidArgument(`Nothing to update: give at least one of ${UPDATABLE_FIELDS.join(', ')}, or an update_mask.`);
    }
  }
  fields = [...new Set(fields)];
  const changes: WebhookChanges = {};
  for (const field of fields) {
    const value = raw[field];
    if (value === undefined) continue;
    if (field === 'name') changes.name = readName(value) ?? '';
    if (field === 'uri') changes.uri = readUri(value);
    if (field === 'subscribed_events') changes.subscribed_events = readEvents(value);
    if (field === 'state') changes.state = readState(value);
  }
  return { changes, fields };
}

export function parseRevocationBehavior(body: unknown): RevocationBehavior {
  const fields = readObject(body, { revocation_behavior: 'revocation_behavior', revocationBehavior: 'revocation_behavior' }, 'The request');
  const value = fields.revocation_behavior;
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
  readObject(body, {}, 'The request');
}

export function parsePageSize(value: string | null): number | undefined {
  if (value === null || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) throw invalidArgument(`page_size must be an integer, got "${value}".`);
  const size = Number(value);
  if (size < 0) throw invalidArgument(`page_size must not be negative, got ${size}.`);
  return size;
}
