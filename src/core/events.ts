import { UsageError } from '../errors.js';
import { closestWord } from './closest.js';

/**
 * The one table of Gemini webhook event types. Fixtures (src/fixtures/events/<type>.json),
 * `--events` validation, filters and shell completion all read it; a drift test fails when they
 * disagree. `inApiEnum: false` marks the two types the guide names but the API enum and SDKs
 * dropped (spec §8 item 2): the server may or may not emit them.
 */
export interface EventTypeInfo {
  type: string;
  inApiEnum: boolean;
  description: string;
}

export const EVENT_TYPES = [
  { type: 'batch.succeeded', inApiEnum: true, description: 'A batch job finished successfully; data.output_file_uri points at the results.' },
  { type: 'batch.cancelled', inApiEnum: false, description: 'A batch job was cancelled by the user (named in the guide, not in the API enum).' },
  { type: 'batch.expired', inApiEnum: true, description: 'A batch job was not processed within its window (48 h per the reference).' },
  { type: 'batch.failed', inApiEnum: true, description: 'A batch job failed with a system or validation error (data.error_code, data.error_message).' },
  { type: 'interaction.requires_action', inApiEnum: true, description: 'A background interaction waits for the client, e.g. for a function call result.' },
  { type: 'interaction.completed', inApiEnum: true, description: 'A long-running (background) interaction completed successfully.' },
  { type: 'interaction.failed', inApiEnum: true, description: 'A long-running interaction failed (data.error_code, data.error_message).' },
  { type: 'interaction.cancelled', inApiEnum: false, description: 'A long-running interaction was cancelled (named in the guide, not in the API enum).' },
  { type: 'video.generated', inApiEnum: true, description: 'A video generation (Veo) operation finished; data.output_file_uri / data.file_name locate the video.' },
] as const satisfies readonly EventTypeInfo[];

export type EventType = (typeof EVENT_TYPES)[number]['type'];

export const EVENT_TYPE_NAMES: readonly EventType[] = EVENT_TYPES.map((e) => e.type);

/** The values the API's `subscribed_events` enum accepts. */
export const API_EVENT_TYPES: readonly EventType[] = EVENT_TYPES.filter((e) => e.inApiEnum).map((e) => e.type);

/** Names seen in early docs and samples that mean a current type (spec §8 item 1). */
const OBSOLETE_NAMES: Readonly<Record<string, EventType>> = {
  'batch.completed': 'batch.succeeded',
};

const KNOWN = new Set<string>(EVENT_TYPE_NAMES);

export function isKnownEventType(type: string): type is EventType {
  return KNOWN.has(type);
}

export function eventTypeInfo(type: string): EventTypeInfo | undefined {
  return EVENT_TYPES.find((e) => e.type === type);
}

/**
 * `batch.*`, `*.failed`, `*` or an exact type. `*` matches any run of characters (dots included),
 * which is what people expect from `--events 'interaction.*'`.
 */
export function matchesEventPattern(type: string, pattern: string): boolean {
  if (!pattern.includes('*')) return type === pattern;
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(type);
}

/**
 * A predicate for `--events`/`--type`/`--route` style filters. An empty pattern list lets every
 * type through; an event without a type matches only `*`.
 */
export function eventFilter(patterns: readonly string[]): (type: string | undefined) => boolean {
  if (patterns.length === 0) return () => true;
  const compiled = patterns.map((pattern) => (type: string) => matchesEventPattern(type, pattern));
  return (type) => {
    if (type === undefined) return patterns.includes('*');
    return compiled.some((test) => test(type));
  };
}

export interface ParseEventListOptions {
  /** Shown in error messages, e.g. `--events`. */
  flag?: string;
  /** Accept `batch.*` style patterns (filters); the API's subscribed_events needs exact names. */
  allowPatterns?: boolean;
  /** Accept types outside the catalog (the API enum is open); they still must look like `a.b`. */
  allowUnknown?: boolean;
}

/**
 * Parses `a,b` (or repeated flags already collected into an array) into event types or
 * patterns, in the order given without duplicates. Unknown names are a UsageError that lists the
 * valid ones and, for a near miss, the intended one.
 */
export function parseEventList(input: string | readonly string[], options: ParseEventListOptions = {}): string[] {
  const flag = options.flag ?? '--events';
  const items = (typeof input === 'string' ? [input] : input)
    .flatMap((chunk) => chunk.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) {
    throw new UsageError(`${flag}: no event types given`, { hint: validTypesHint(options) });
  }
  const result: string[] = [];
  for (const item of items) {
    if (item.includes('*')) {
      if (!options.allowPatterns) {
        throw new UsageError(`${flag}: patterns such as "${item}" are not accepted here; name the event types`, {
          hint: validTypesHint(options),
        });
      }
      if (!EVENT_TYPE_NAMES.some((type) => matchesEventPattern(type, item))) {
        throw new UsageError(`${flag}: "${item}" matches no known event type`, { hint: validTypesHint(options) });
      }
    } else if (!isKnownEventType(item)) {
      const replacement = OBSOLETE_NAMES[item];
      if (replacement) {
        throw new UsageError(`${flag}: "${item}" is an obsolete name; the event is now called "${replacement}"`, {
          hint: validTypesHint(options),
        });
      }
      if (!(options.allowUnknown && /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+$/.test(item))) {
        const near = closestEventType(item);
        throw new UsageError(`${flag}: unknown event type "${item}"${near ? ` (did you mean "${near}"?)` : ''}`, {
          hint: validTypesHint(options),
        });
      }
    }
    if (!result.includes(item)) result.push(item);
  }
  return result;
}

function validTypesHint(options: ParseEventListOptions): string {
  const patterns = options.allowPatterns ? ' Patterns such as "batch.*" are accepted.' : '';
  return `Valid event types: ${EVENT_TYPE_NAMES.join(', ')}.${patterns} Separate several with commas.`;
}

/** The catalog entry within a small edit distance, for "did you mean". */
export function closestEventType(input: string): EventType | undefined {
  return closestWord(input, EVENT_TYPE_NAMES);
}
