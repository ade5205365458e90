import { isGoogleApiRoot } from '../api/api-root.js';
import { API_EVENT_TYPES, eventTypeInfo, parseEventList } from '../core/events.js';
import type { Deps } from '../deps.js';
import { UsageError } from '../errors.js';

/**
 * A webhook endpoint: an absolute http(s) URL. Gemini is reported to refuse plain http, so that
 * gets a warning, but only when the calls go to Google: the emulator takes http endpoints.
 */
export function parseWebhookUri(text: string, deps: Pick<Deps, 'io'>, options: { apiRoot: string; flag?: string }): string {
  const flag = options.flag ?? '--uri';
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new UsageError(`${flag}: "${text}" is not a URL`, { hint: 'Give the absolute https URL Gemini should POST events to, e.g. https://hooks.example.com/gemini' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`${flag}: "${text}" is not an http(s) URL`, { hint: 'e.g. https://hooks.example.com/gemini' });
  }
  if (url.protocol === 'http:' && isGoogleApiRoot(options.apiRoot)) {
    deps.io.stderr.write(`gemwh: warning: ${flag} is plain http; the Gemini API is reported to accept only https endpoints\n`);
  }
  return text.trim();
}

/**
 * Event types for subscribed_events: the API's 7 enum values. The live API refuses anything else
 * with a 400, the guide's `batch.cancelled` / `interaction.cancelled` included, so those are
 * refused here with that explanation. --allow-unknown-events (allowUnknown) sends any `a.b` name
 * anyway, with a warning, for types Google adds later.
 */
export function parseSubscribedEvents(
  input: string | readonly string[],
  deps: Pick<Deps, 'io'>,
  options: { flag?: string; allowUnknown?: boolean; warn?: boolean } = {},
): string[] {
  const flag = options.flag ?? '--events';
  const events = parseEventList(input, { flag, allowUnknown: options.allowUnknown });
  if (options.warn === false) return events;
  for (const type of events) {
    const info = eventTypeInfo(type);
    if (info?.inApiEnum) continue;
    if (info && !options.allowUnknown) {
      throw new UsageError(
        `${flag}: "${type}" cannot be subscribed to: the API accepts only its 7 event types and answers 400 to this one, ` +
          'although the guide names it',
        { hint: `Subscribe to: ${API_EVENT_TYPES.join(', ')}. (Whether a cancelled job sends an event to its own webhook_config URIs is not known.)` },
      );
    }
    deps.io.stderr.write(
      info
        ? `gemwh: warning: ${flag}: "${type}" was refused by the live API (it accepts only its 7 event types); sending it anyway (--allow-unknown-events)\n`
        : `gemwh: warning: ${flag}: "${type}" is not a known event type; sending it anyway (--allow-unknown-events)\n`,
    );
  }
  return events;
}

/** A webhook id as a path segment: no slashes or spaces that would change the URL. */
export function checkWebhookId(id: string): string {
  const trimmed = id.trim();
  if (!/^[A-Za-z0-9._~-]+$/.test(trimmed)) {
    throw new UsageError(`"${id}" is not a webhook id`, { hint: 'Webhook ids look like k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f; `gemwh list` shows them.' });
  }
  return trimmed;
}
