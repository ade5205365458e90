import { formatDuration } from '../core/duration.js';
import { redactSecret } from '../core/redact.js';
import { formatRows, formatTable, formatTsv, type Column } from '../core/table.js';
import type { Webhook } from '../api/types.js';
import type { StoredSecret } from '../secrets/types.js';

/**
 * How management commands print webhooks: the same facts in a table (terminal), TSV (pipe) or
 * JSON (--json). Terminal output uses relative times; pipes and JSON keep the API's timestamps.
 */

export interface OutputStyle {
  tty: boolean;
  now: number;
  /** The terminal's width, when known: tables fit it. */
  width?: number;
}

/** How many current secrets gemwh holds for a webhook; null when the store could not be read. */
export type LocalSecretCount = number | null;

/** `3 hours ago`, `in 23 hours` on a terminal; the timestamp itself otherwise. */
export function formatTime(value: string | undefined, style: OutputStyle): string {
  if (!value) return '-';
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return value;
  if (!style.tty) return value;
  const delta = ms - style.now;
  if (Math.abs(delta) < 1000) return 'now';
  return delta > 0 ? `in ${formatDuration(delta)}` : `${formatDuration(delta)} ago`;
}

/** The API's masked secrets, each with its expiry when it has one. */
export function formatSigningSecrets(webhook: Webhook, style: OutputStyle): string {
  const secrets = webhook.signing_secrets ?? [];
  if (secrets.length === 0) return '-';
  return secrets
    .map((s) => {
      const label = s.truncated_secret ?? 'secret';
      if (!s.expire_time) return label;
      return style.tty ? `${label} (expires ${formatTime(s.expire_time, style)})` : `${label} (expires ${s.expire_time})`;
    })
    .join(', ');
}

export function formatLocal(count: LocalSecretCount): string {
  if (count === null) return '?';
  if (count === 0) return 'no';
  return count === 1 ? 'yes' : `yes (${count})`;
}

export interface WebhookRow {
  webhook: Webhook;
  local: LocalSecretCount;
}

export function webhookColumns(style: OutputStyle): Array<Column<WebhookRow>> {
  return [
    // The id is what every other command takes: never cut. `gemwh get ID` shows what gives way here.
    { header: 'ID', value: (r) => r.webhook.id },
    { header: 'NAME', value: (r) => r.webhook.name || '-', minWidth: 10 },
    { header: 'STATE', value: (r) => r.webhook.state ?? '-' },
    { header: 'EVENTS', value: (r) => (r.webhook.subscribed_events ?? []).join(',') || '-', minWidth: 12 },
    { header: 'URI', value: (r) => r.webhook.uri, minWidth: 20 },
    { header: 'SECRETS', value: (r) => formatSigningSecrets(r.webhook, style), minWidth: 12, dropOrder: 1 },
    { header: 'LOCAL SECRET', value: (r) => formatLocal(r.local), dropOrder: 2 },
  ];
}

export function formatWebhookRows(rows: readonly WebhookRow[], style: OutputStyle): string {
  return formatRows(rows, webhookColumns(style), { tty: style.tty, ...(style.width !== undefined ? { width: style.width } : {}) });
}

/** One webhook as `field  value` lines (aligned on a terminal, tab-separated otherwise). */
export function formatWebhookDetails(row: WebhookRow, style: OutputStyle, storeLocation?: string): string {
  const { webhook } = row;
  const local =
    row.local === null
      ? 'unknown (the secret store could not be read)'
      : row.local === 0
        ? 'none'
        : `${row.local} secret${row.local === 1 ? '' : 's'}${storeLocation ? ` in ${storeLocation}` : ''}`;
  const fields: Array<[string, string]> = [
    ['id', webhook.id],
    ['name', webhook.name || '-'],
    ['state', webhook.state ?? '-'],
    ['uri', webhook.uri],
    ['events', (webhook.subscribed_events ?? []).join(', ') || '-'],
    ['secrets', formatSigningSecrets(webhook, style)],
    ['local secret', local],
    // The live API was never seen to return these: shown only when a server sends them.
    ...(webhook.create_time ? [['created', formatTime(webhook.create_time, style)] as [string, string]] : []),
    ...(webhook.update_time ? [['updated', formatTime(webhook.update_time, style)] as [string, string]] : []),
  ];
  const columns: Array<Column<[string, string]>> = [
    { header: 'FIELD', value: (f) => f[0] },
    { header: 'VALUE', value: (f) => f[1] },
  ];
  // The header line of a table adds nothing to a key-value block.
  const text = style.tty ? formatTable(fields, columns) : formatTsv(fields, columns);
  return text.slice(text.indexOf('\n') + 1);
}

/**
 * A webhook as --json prints it: the API's fields, never the once-only secret (unless revealed),
 * plus what gemwh holds locally.
 */
export function webhookJson(row: WebhookRow, revealSecret = false): Record<string, unknown> {
  const { new_signing_secret: secret, ...rest } = row.webhook;
  return {
    ...rest,
    ...(revealSecret && secret ? { new_signing_secret: secret } : {}),
    localSecrets: row.local,
  };
}

/** A locally stored secret for output: redacted unless revealed. */
export function storedSecretJson(secret: StoredSecret, now: number, reveal = false): Record<string, unknown> {
  const expiresAt = secret.expiresAt === undefined ? Number.NaN : Date.parse(secret.expiresAt);
  return {
    secret: reveal ? secret.secret : redactSecret(secret.secret),
    createdAt: secret.createdAt,
    expiresAt: secret.expiresAt ?? null,
    status: Number.isNaN(expiresAt) ? 'current' : expiresAt > now ? 'previous' : 'expired',
  };
}

