import { describe, expect, it } from 'vitest';
import type { Webhook } from '../../src/api/types.js';
import { formatLocal, formatSigningSecrets, formatTime, formatWebhookDetails, formatWebhookRows, storedSecretJson, webhookJson } from '../../src/manage/format.js';

const now = Date.parse('2026-05-05T12:00:00Z');
const tty = { tty: true, now };
const pipe = { tty: false, now };
const webhook: Webhook = {
  id: 'wh1',
  uri: 'https://hooks.example.com/a',
  subscribed_events: ['batch.succeeded'],
  state: 'enabled',
  new_signing_secret: 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0',
  signing_secrets: [{ truncated_secret: 'whsec_...3frh' }, { truncated_secret: 'whsec_...ab12', expire_time: '2026-05-06T09:00:00Z' }],
  create_time: '2026-05-05T09:00:00Z',
};

describe('webhook output', () => {
  it('uses relative times on a terminal and the timestamps otherwise', () => {
    expect(formatTime('2026-05-05T09:00:00Z', tty)).toBe('3 hours ago');
    expect(formatTime('2026-05-06T09:00:00Z', tty)).toBe('in 21 hours');
    expect(formatTime('2026-05-05T09:00:00Z', pipe)).toBe('2026-05-05T09:00:00Z');
    expect(formatTime(undefined, tty)).toBe('-');
    expect(formatTime('', pipe)).toBe('-');
  });

  it('shows masked secrets with their expiry', () => {
    expect(formatSigningSecrets(webhook, tty)).toBe('whsec_...3frh, whsec_...ab12 (expires in 21 hours)');
    expect(formatSigningSecrets(webhook, pipe)).toBe('whsec_...3frh, whsec_...ab12 (expires 2026-05-06T09:00:00Z)');
    expect(formatSigningSecrets({ ...webhook, signing_secrets: undefined }, pipe)).toBe('-');
  });

  it('says whether gemwh holds a secret', () => {
    expect([formatLocal(null), formatLocal(0), formatLocal(1), formatLocal(2)]).toEqual(['?', 'no', 'yes', 'yes (2)']);
  });

  it('never puts the once-only secret in JSON unless revealed', () => {
    expect(webhookJson({ webhook, local: 1 })).not.toHaveProperty('new_signing_secret');
    expect(webhookJson({ webhook, local: 1 }).localSecrets).toBe(1);
    expect(webhookJson({ webhook, local: 1 }, true).new_signing_secret).toBe(webhook.new_signing_secret);
  });

  it('copes with a webhook the API sent without optional fields', () => {
    const bare = { id: 'wh2', uri: 'https://x.example' } as Webhook;
    expect(formatWebhookRows([{ webhook: bare, local: 0 }], pipe)).toBe(
      'ID\tNAME\tSTATE\tEVENTS\tURI\tSECRETS\tLOCAL SECRET\nwh2\t-\t-\t-\thttps://x.example\t-\tno\n',
    );
    expect(formatWebhookDetails({ webhook: bare, local: null }, pipe)).toContain('local secret\tunknown (the secret store could not be read)\n');
  });

  it('describes a stored secret redacted, with its status', () => {
    const secret = { secret: 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0', createdAt: '2026-05-05T00:00:00Z' };
    expect(storedSecretJson(secret, now)).toEqual({ secret: 'whsec_…cmV0', createdAt: secret.createdAt, expiresAt: null, status: 'current' });
    expect(storedSecretJson({ ...secret, expiresAt: '2026-05-05T13:00:00Z' }, now).status).toBe('previous');
    expect(storedSecretJson({ ...secret, expiresAt: '2026-05-05T11:00:00Z' }, now).status).toBe('expired');
    expect(storedSecretJson(secret, now, true).secret).toBe(secret.secret);
  });
});
