/**
 * The WebhookService resource shapes, exactly as on the wire (snake_case JSON, v1beta).
 * See ../shared/spec/gemini-webhooks.md §1-§2. Shared by the API client, the emulator and commands.
 */

/** The 7 values of the API enum, plus anything else: the API's enum is open. */
export type WebhookState = 'enabled' | 'disabled' | 'disabled_due_to_failed_deliveries';

export type RevocationBehavior = 'revoke_previous_secrets_after_h24' | 'revoke_previous_secrets_immediately';

export interface SigningSecret {
  truncated_secret?: string;
  expire_time?: string;
}

export interface Webhook {
  id: string;
  name?: string;
  uri: string;
  subscribed_events: string[];
  state?: WebhookState;
  /** Only in the create response. */
  new_signing_secret?: string;
  signing_secrets?: SigningSecret[];
  create_time?: string;
  update_time?: string;
}

export interface WebhookInput {
  name?: string;
  subscribed_events: string[];
  uri: string;
}

export interface WebhookUpdate {
  name?: string;
  state?: WebhookState;
  subscribed_events?: string[];
  uri?: string;
}

export interface ListWebhooksResponse {
  webhooks?: Webhook[];
  next_page_token?: string;
}

export interface RotateSigningSecretResponse {
  secret?: string;
}

/** The 7 operations of the WebhookService, as gemwh's client exposes them. */
export interface WebhookApi {
  create(input: WebhookInput): Promise<Webhook>;
  list(params?: { page_size?: number; page_token?: string }): Promise<ListWebhooksResponse>;
  get(id: string): Promise<Webhook>;
  /** update_mask is built from the fields present in `update`. */
  update(id: string, update: WebhookUpdate): Promise<Webhook>;
  delete(id: string): Promise<void>;
  ping(id: string): Promise<void>;
  rotateSigningSecret(id: string, revocationBehavior?: RevocationBehavior): Promise<RotateSigningSecretResponse>;
}

/** Google's error body: {"error": {"code", "message", "status"}}. */
export interface GoogleErrorBody {
  error: { code: number; message: string; status: string; details?: unknown[] };
}
