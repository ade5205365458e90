import { API_EVENT_TYPES, eventFilter } from '../core/events.js';
import type { Webhook, WebhookApi } from '../api/types.js';
import { ApiError, UsageError } from '../errors.js';

/**
 * `listen --public-url`: real Gemini cannot reach 127.0.0.1, so with a tunnel the user runs
 * (cloudflared, ngrok, …) gemwh registers a temporary static webhook for the tunnel's URL, keeps
 * its signing secret in memory only, and deletes the webhook when listen stops. A listener that
 * dies without cleaning up leaves a webhook named TEMP_WEBHOOK_PREFIX…; the next start on the same
 * machine deletes those whose process is gone.
 */

export const TEMP_WEBHOOK_PREFIX = 'gemwh-listen-';

export interface TempWebhookOwner {
  /** This machine's name (os.hostname()). */
  host: string;
  pid: number;
}

/** `gemwh-listen-<host>-<pid>-<yyyymmddThhmmssZ>`: recognisable, and says who made it and when. */
export function tempWebhookName(owner: TempWebhookOwner, now: number): string {
  const time = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${TEMP_WEBHOOK_PREFIX}${hostLabel(owner.host)}-${owner.pid}-${time}`;
}

export function parseTempWebhookName(name: string | undefined): { host: string; pid: number; time: string } | undefined {
  if (!name?.startsWith(TEMP_WEBHOOK_PREFIX)) return undefined;
  const match = /^(.+)-(\d+)-(\d{8}T\d{6}Z)$/.exec(name.slice(TEMP_WEBHOOK_PREFIX.length));
  if (!match) return undefined;
  return { host: match[1]!, pid: Number(match[2]), time: match[3]! };
}

/** Host names go into a webhook name: keep them short and plain. */
export function hostLabel(host: string): string {
  const label = host
    .toLowerCase()
    .split('.')[0]!
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 24);
  return label || 'host';
}

export function checkPublicUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--public-url "${text}" is not a URL`, { hint: 'Give the https URL your tunnel prints, e.g. --public-url https://abc.trycloudflare.com/webhook.' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`--public-url must be an https URL, got "${text}"`, { hint: 'Gemini delivers over HTTPS; give the https URL of your tunnel.' });
  }
  return url;
}

/** Every webhook, following next_page_token. */
export async function listAllWebhooks(api: WebhookApi): Promise<Webhook[]> {
  const all: Webhook[] = [];
  let pageToken: string | undefined;
  // A server that keeps handing out tokens must not keep us here forever.
  for (let page = 0; page < 100; page += 1) {
    const response = await api.list({ page_size: 1000, ...(pageToken ? { page_token: pageToken } : {}) });
    all.push(...(response.webhooks ?? []));
    pageToken = response.next_page_token;
    if (!pageToken) break;
  }
  return all;
}

/**
 * Deletes temporary webhooks that an earlier listen on this machine left behind: same host label,
 * and its process no longer runs. Another listen running right now keeps its webhook.
 */
export async function removeLeftoverWebhooks(
  api: WebhookApi,
  owner: TempWebhookOwner,
  isProcessAlive: (pid: number) => boolean,
): Promise<Webhook[]> {
  const removed: Webhook[] = [];
  for (const webhook of await listAllWebhooks(api)) {
    const parsed = parseTempWebhookName(webhook.name);
    if (!parsed || parsed.host !== hostLabel(owner.host)) continue;
    if (parsed.pid === owner.pid || isProcessAlive(parsed.pid)) continue;
    await api.delete(webhook.id);
    removed.push(webhook);
  }
  return removed;
}

/** The event types the temporary webhook subscribes to: those --events lets through, else all. */
export function subscribedEventsFor(events: readonly string[]): string[] {
  const allowed = eventFilter(events);
  return API_EVENT_TYPES.filter((type) => allowed(type));
}

export interface TempWebhook {
  webhook: Webhook;
  /** Kept in memory only, never written to a store. */
  secret: string;
}

export async function createTempWebhook(
  api: WebhookApi,
  options: { publicUrl: URL; events: readonly string[]; owner: TempWebhookOwner; now: number },
): Promise<TempWebhook> {
  const subscribed = subscribedEventsFor(options.events);
  if (subscribed.length === 0) {
    throw new UsageError('--events selects no event type the API can subscribe to', {
      hint: 'With --public-url, --events must include at least one of: ' + API_EVENT_TYPES.join(', ') + '.',
    });
  }
  const webhook = await api.create({
    name: tempWebhookName(options.owner, options.now),
    uri: options.publicUrl.href,
    subscribed_events: subscribed,
  });
  if (!webhook.new_signing_secret) {
    // Without the secret nothing it sends could be verified: do not leave it registered.
    await api.delete(webhook.id).catch(() => {});
    throw new ApiError('the API created the temporary webhook but returned no signing secret', {
      hint: 'Try again; if it persists, create a webhook with `gemwh create` and run listen with --webhook ID.',
    });
  }
  return { webhook, secret: webhook.new_signing_secret };
}
