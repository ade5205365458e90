import type { Clock } from '../../deps.js';
import { EmulatorHttpError, errorInfo, invalidArgument, TRIGGER_REFUSAL } from '../google-error.js';
import type { WebhookStore } from '../store.js';
import type { EmitRequest } from './types.js';

/** What deliveries need of a webhook, taken from the store's records. */
interface WebhookView {
  id: string;
  uri: string;
  state: string;
  subscribedEvents: string[];
  secrets: Array<{ secret: string; expiresAt: number }>;
}

/**
 * Which webhooks an event goes to, and what an attempt needs of its webhook right now. The store
 * hands out deep copies; a view rebuilt only when the store announces a change (invalidate())
 * keeps them off the per-delivery path.
 */
export class WebhookDirectory {
  private view: Map<string, WebhookView> | undefined;

  constructor(
    private readonly store: WebhookStore,
    private readonly clock: Clock,
  ) {}

  invalidate(): void {
    this.view = undefined;
  }

  private webhooks(): Map<string, WebhookView> {
    this.view ??= new Map(
      this.store.records().map((record) => [
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
    return this.view;
  }

  /**
   * The webhooks a static event goes to: the named ones (each must exist, be enabled and, unless
   * ignoreSubscriptions, subscribe to the type; else an EmulatorHttpError), or every enabled one
   * subscribed to it.
   */
  staticTargets(request: EmitRequest): WebhookView[] {
    if (request.webhookIds === undefined) {
      const found: WebhookView[] = [];
      for (const w of this.webhooks().values()) {
        if (w.state === 'enabled' && (request.ignoreSubscriptions || w.subscribedEvents.includes(request.type))) found.push(w);
      }
      return found;
    }
    return request.webhookIds.map((id) => {
      const webhook = this.webhooks().get(id);
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

  /** The webhook as an attempt sees it now: its uri, state, and the secrets whose grace has not ended. */
  current(id: string): { uri: string; state: string; secrets: string[] } | undefined {
    const webhook = this.webhooks().get(id);
    if (!webhook) return undefined;
    // A secret's 24 h grace ends by the clock, without a store change to announce it.
    const now = this.clock.now();
    const secrets: string[] = [];
    for (const s of webhook.secrets) if (s.expiresAt > now) secrets.push(s.secret);
    return { uri: webhook.uri, state: webhook.state, secrets };
  }
}

/** A job's webhook_config.uris entry: an absolute http(s) URL, or INVALID_ARGUMENT. */
export function checkDynamicUri(uri: string): void {
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
