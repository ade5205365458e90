import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../deps.js';
import type {
  ListWebhooksResponse,
  RevocationBehavior,
  RotateSigningSecretResponse,
  Webhook,
  WebhookInput,
  WebhookState,
} from '../api/types.js';
import { inspectSecret } from '../core/standard-webhooks.js';
import { EmulatorHttpError, invalidArgument } from './google-error.js';

export interface RandomSource {
  bytes(size: number): Buffer;
}

/** A signing secret in full, as only the emulator (and whoever signs deliveries) may see it. */
export interface StoredSigningSecret {
  secret: string;
  create_time: string;
  /** Set by a 24 h rotation; the secret disappears once this time has passed. */
  expire_time?: string;
}

export interface WebhookRecord {
  id: string;
  /** Creation order; list pages and page tokens follow it. */
  seq: number;
  name?: string;
  uri: string;
  subscribed_events: string[];
  state: WebhookState;
  create_time: string;
  update_time: string;
  /** Newest first. */
  secrets: StoredSigningSecret[];
}

/** The fields UpdateWebhook can change, in the snake_case spelling update_mask uses. */
export const UPDATABLE_FIELDS = ['name', 'uri', 'subscribed_events', 'state'] as const;
export type UpdatableField = (typeof UPDATABLE_FIELDS)[number];

export interface WebhookChanges {
  name?: string;
  uri?: string;
  subscribed_events?: string[];
  state?: WebhookState;
}

export type WebhookChange =
  | { type: 'created'; webhook: WebhookRecord }
  | { type: 'updated'; webhook: WebhookRecord; fields: UpdatableField[] }
  | { type: 'deleted'; webhook: WebhookRecord }
  | { type: 'rotated'; webhook: WebhookRecord; revocation: RevocationBehavior }
  | { type: 'pinged'; webhook: WebhookRecord };

export type ChangeListener = (change: WebhookChange) => void;

/** What `--state FILE` holds: everything needed to come back exactly as before, secrets included. */
export interface StoreSnapshot {
  version: 1;
  /** Keys page tokens, so tokens from before a restart stay valid and forged ones do not. */
  page_token_key: string;
  next_seq: number;
  webhooks: WebhookRecord[];
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;
const ROTATION_GRACE_MS = 24 * 60 * 60 * 1000;
const ID_LENGTH = 36;
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export interface CreateWebhookOptions {
  /** Sign with these (`whsec_…`, already checked) instead of a fresh random secret. */
  signingSecrets?: readonly string[];
}

export interface WebhookStoreOptions {
  clock: Clock;
  random: RandomSource;
  snapshot?: StoreSnapshot;
}

/**
 * The emulator's WebhookService state and rules, free of HTTP. Every mutation (and a ping) is
 * announced to change listeners: persistence listens today, event delivery can listen tomorrow.
 * Records handed out are copies, so a listener cannot corrupt the store.
 */
export class WebhookStore {
  private readonly clock: Clock;
  private readonly random: RandomSource;
  private readonly webhooks = new Map<string, WebhookRecord>();
  private readonly listeners = new Set<ChangeListener>();
  private readonly pageTokenKey: Buffer;
  private nextSeq: number;

  constructor(options: WebhookStoreOptions) {
    this.clock = options.clock;
    this.random = options.random;
    const snapshot = options.snapshot;
    this.pageTokenKey = snapshot ? Buffer.from(snapshot.page_token_key, 'base64') : this.random.bytes(32);
    this.nextSeq = snapshot?.next_seq ?? 1;
    for (const record of snapshot?.webhooks ?? []) this.webhooks.set(record.id, structuredClone(record));
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * `options.signingSecrets` replaces the random secret (gemwh-only: `listen --emulator --secret`
   * makes the demo webhook sign with the secret the user's app knows). Each one signs every
   * delivery, as during a rotation grace period; the first is returned as new_signing_secret.
   */
  create(input: WebhookInput, options: CreateWebhookOptions = {}): Webhook {
    const now = this.nowIso();
    let id = generateWebhookId(this.random);
    while (this.webhooks.has(id)) id = generateWebhookId(this.random);
    const given = (options.signingSecrets ?? []).map((s) => s.trim());
    for (const s of given) {
      const inspection = inspectSecret(s);
      if (!inspection.ok) throw invalidArgument(`Cannot sign with the secret given: ${inspection.message}.`);
    }
    const secret = given[0] ?? generateSigningSecret(this.random);
    const record: WebhookRecord = {
      id,
      seq: this.nextSeq++,
      ...(input.name ? { name: input.name } : {}),
      uri: input.uri,
      subscribed_events: [...input.subscribed_events],
      state: 'enabled',
      create_time: now,
      update_time: now,
      secrets: given.length > 0 ? given.map((s) => ({ secret: s, create_time: now })) : [{ secret, create_time: now }],
    };
    this.webhooks.set(id, record);
    this.emit({ type: 'created', webhook: record });
    return { ...toPublicWebhook(record), new_signing_secret: secret };
  }

  get(id: string): Webhook {
    return toPublicWebhook(this.existing(id));
  }

  list(options: { pageSize?: number; pageToken?: string } = {}): ListWebhooksResponse {
    const pageSize = options.pageSize === undefined || options.pageSize === 0 ? DEFAULT_PAGE_SIZE : options.pageSize;
    if (!Number.isInteger(pageSize) || pageSize < 0) throw invalidArgument(`page_size must be a non-negative integer, got ${pageSize}.`);
    // AIP-158: a page_size above the maximum is coerced down, not rejected.
    const size = Math.min(pageSize, MAX_PAGE_SIZE);
    const afterSeq = options.pageToken ? this.decodePageToken(options.pageToken) : 0;
    const all = this.sortedRecords().filter((record) => record.seq > afterSeq);
    const page = all.slice(0, size);
    const last = page[page.length - 1];
    const response: ListWebhooksResponse = { webhooks: page.map(toPublicWebhook) };
    if (all.length > size && last) response.next_page_token = this.encodePageToken(last.seq);
    return response;
  }

  update(id: string, changes: WebhookChanges, fields: readonly UpdatableField[]): Webhook {
    const record = this.existing(id);
    for (const field of fields) {
      switch (field) {
        case 'name':
          if (changes.name) record.name = changes.name;
          else delete record.name;
          break;
        case 'uri':
          if (changes.uri === undefined) throw invalidArgument('uri is in update_mask but missing from the request body.');
          record.uri = changes.uri;
          break;
        case 'subscribed_events':
          if (changes.subscribed_events === undefined) {
            throw invalidArgument('subscribed_events is in update_mask but missing from the request body.');
          }
          record.subscribed_events = [...changes.subscribed_events];
          break;
        case 'state':
          if (changes.state === undefined) throw invalidArgument('state is in update_mask but missing from the request body.');
          record.state = changes.state;
          break;
      }
    }
    record.update_time = this.nowIso();
    this.emit({ type: 'updated', webhook: record, fields: [...fields] });
    return toPublicWebhook(record);
  }

  delete(id: string): void {
    const record = this.existing(id);
    this.webhooks.delete(id);
    this.emit({ type: 'deleted', webhook: record });
  }

  rotateSigningSecret(id: string, revocation: RevocationBehavior = 'revoke_previous_secrets_after_h24'): RotateSigningSecretResponse {
    const record = this.existing(id);
    const nowMs = this.clock.now();
    const now = new Date(nowMs).toISOString();
    const secret = generateSigningSecret(this.random);
    if (revocation === 'revoke_previous_secrets_immediately') {
      record.secrets = [];
    } else {
      const graceEnd = nowMs + ROTATION_GRACE_MS;
      for (const old of record.secrets) {
        // A secret already on its way out keeps its earlier end: rotating again must not extend it.
        const end = old.expire_time ? Math.min(Date.parse(old.expire_time), graceEnd) : graceEnd;
        old.expire_time = new Date(end).toISOString();
      }
    }
    record.secrets.unshift({ secret, create_time: now });
    record.update_time = now;
    this.emit({ type: 'rotated', webhook: record, revocation });
    return { secret };
  }

  /** Only checks the webhook exists and tells listeners; sending the ping event is a listener's job. */
  ping(id: string): void {
    this.emit({ type: 'pinged', webhook: this.existing(id) });
  }

  /** Full records (secrets included, expired ones dropped), in creation order: for delivery and tests. */
  records(): WebhookRecord[] {
    return this.sortedRecords().map((record) => structuredClone(record));
  }

  /** The full secrets that still sign deliveries of a webhook, newest first. */
  activeSecrets(id: string): StoredSigningSecret[] {
    return structuredClone(this.existing(id).secrets);
  }

  snapshot(): StoreSnapshot {
    return {
      version: 1,
      page_token_key: this.pageTokenKey.toString('base64'),
      next_seq: this.nextSeq,
      webhooks: this.records(),
    };
  }

  private existing(id: string): WebhookRecord {
    const record = this.webhooks.get(id);
    if (!record) throw new EmulatorHttpError('NOT_FOUND', `Webhook "${id}" was not found.`);
    this.dropExpiredSecrets(record);
    return record;
  }

  private sortedRecords(): WebhookRecord[] {
    const records = [...this.webhooks.values()].sort((a, b) => a.seq - b.seq);
    for (const record of records) this.dropExpiredSecrets(record);
    return records;
  }

  private dropExpiredSecrets(record: WebhookRecord): void {
    const now = this.clock.now();
    record.secrets = record.secrets.filter((s) => s.expire_time === undefined || Date.parse(s.expire_time) > now);
  }

  private emit(change: WebhookChange): void {
    const copy = { ...change, webhook: structuredClone(change.webhook) } as WebhookChange;
    for (const listener of this.listeners) listener(copy);
  }

  private nowIso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  // A page token names the last item of the previous page (not an offset), so deleting webhooks
  // while paging neither skips nor repeats any; the MAC keeps tokens opaque and unforgeable.
  private encodePageToken(afterSeq: number): string {
    const payload = `p1.${afterSeq}`;
    return Buffer.from(`${payload}.${this.pageTokenMac(payload)}`).toString('base64url');
  }

  private decodePageToken(token: string): number {
    const invalid = () => invalidArgument('Invalid page_token: pass the next_page_token of a previous ListWebhooks response unchanged.');
    const text = Buffer.from(token, 'base64url').toString('utf8');
    const match = /^(p1\.(\d{1,15}))\.([0-9a-f]{32})$/.exec(text);
    if (!match?.[1] || !match[2] || !match[3]) throw invalid();
    const expected = Buffer.from(this.pageTokenMac(match[1]), 'hex');
    const given = Buffer.from(match[3], 'hex');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid();
    return Number(match[2]);
  }

  private pageTokenMac(payload: string): string {
    return createHmac('sha256', this.pageTokenKey).update(payload).digest('hex').slice(0, 32);
  }
}

/** The API's view of a record: secrets masked, nothing emulator-internal. */
export function toPublicWebhook(record: WebhookRecord): Webhook {
  return {
    id: record.id,
    ...(record.name ? { name: record.name } : {}),
    uri: record.uri,
    subscribed_events: [...record.subscribed_events],
    state: record.state,
    signing_secrets: record.secrets.map((s) => ({
      truncated_secret: truncateSecret(s.secret),
      ...(s.expire_time ? { expire_time: s.expire_time } : {}),
    })),
    // The live API was never seen to return create_time / update_time (src/emulator/fidelity.ts).
  };
}

/** 36 lowercase alphanumerics, like the ids the real service hands out. */
export function generateWebhookId(random: RandomSource): string {
  let id = '';
  // Rejection sampling: bytes >= 252 would make the first few letters more likely.
  while (id.length < ID_LENGTH) {
    for (const byte of random.bytes(ID_LENGTH * 2)) {
      if (byte < 252 && id.length < ID_LENGTH) id += ID_ALPHABET[byte % 36];
    }
  }
  return id;
}

/** `whsec_` + base64 of 32 random bytes: what Standard Webhooks libraries expect. */
export function generateSigningSecret(random: RandomSource): string {
  return `whsec_${random.bytes(32).toString('base64')}`;
}

/** `whsec_...` + the last four characters, padding left out: the masked form the API lists (e.g. `whsec_...3frh`). */
export function truncateSecret(secret: string): string {
  return `whsec_...${secret.replace(/=+$/, '').slice(-4)}`;
}
