import type { EventType } from '../core/events.js';

/**
 * Typed Gemini events: one entry per type of the catalog in src/core/events.ts, with the `data`
 * fields the guide documents (the fixtures in src/fixtures/events hold an example of each; a test
 * checks the three agree). Gemini's payloads are thin: ids and pointers, fetch the results with
 * the normal API.
 */

/** Echoed back on dynamic webhooks from `webhook_config.user_metadata` (placement not documented). */
interface CommonData {
  id: string;
  user_metadata?: Record<string, unknown>;
  /** Gemini may add fields; they are kept. */
  [field: string]: unknown;
}

interface FailureData extends CommonData {
  /** Undocumented whether a number or a string. */
  error_code?: string | number;
  error_message?: string;
}

export interface EventDataByType {
  'batch.succeeded': CommonData & { output_file_uri?: string };
  'batch.cancelled': CommonData;
  'batch.expired': CommonData;
  'batch.failed': FailureData;
  'interaction.requires_action': CommonData;
  'interaction.completed': CommonData;
  'interaction.failed': FailureData;
  'interaction.cancelled': CommonData;
  /** The cookbook reads `video_uri` where the guide says `output_file_uri`: both are typed. */
  'video.generated': CommonData & { output_file_uri?: string; file_name?: string; video_uri?: string };
}

/** The documented `data` fields, at run time (for the drift test and for apps that validate). */
export const EVENT_DATA_FIELDS = {
  'batch.succeeded': ['id', 'output_file_uri'],
  'batch.cancelled': ['id'],
  'batch.expired': ['id'],
  'batch.failed': ['id', 'error_code', 'error_message'],
  'interaction.requires_action': ['id'],
  'interaction.completed': ['id', 'user_metadata'],
  'interaction.failed': ['id', 'error_code', 'error_message'],
  'interaction.cancelled': ['id'],
  'video.generated': ['id', 'output_file_uri', 'file_name', 'video_uri'],
} as const satisfies { readonly [T in EventType]: readonly (keyof EventDataByType[T] & string)[] };

// Fails to compile when the catalog gains or loses a type that the map above does not.
type SameKeys<A, B> = [Exclude<keyof A, B>, Exclude<B, keyof A>] extends [never, never] ? true : never;
const catalogMatches: SameKeys<EventDataByType, EventType> = true;
void catalogMatches;

export type WebhookEventType = keyof EventDataByType;

/** The envelope Gemini sends (spec §4.1), for one event type. */
export interface WebhookEventOf<T extends WebhookEventType> {
  type: T;
  version: string;
  /** ISO 8601 time of the event (not of the delivery attempt). */
  timestamp: string;
  data: EventDataByType[T];
}

/** Discriminated on `type`: `if (event.type === 'batch.failed') event.data.error_message`. */
export type WebhookEvent = { [T in WebhookEventType]: WebhookEventOf<T> }[WebhookEventType];

const KNOWN = new Set<string>(Object.keys(EVENT_DATA_FIELDS));

/** False for a type Gemini added after this version of gemwh (the API's enum is open): handle it with on('*'). */
export function isKnownEvent(event: { type: string }): event is WebhookEvent {
  return KNOWN.has(event.type);
}
