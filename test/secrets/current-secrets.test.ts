import { describe, expect, it } from 'vitest';
import {
  currentSecrets,
  loadVerificationSecrets,
  ROTATION_GRACE_MS,
  secretCandidates,
  secretsAfterRotation,
} from '../../src/secrets/current-secrets.js';
import { createMemoryStore } from '../../src/secrets/memory-store.js';
import type { StoredSecret } from '../../src/secrets/types.js';

const now = Date.parse('2026-05-05T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const fresh: StoredSecret = { secret: 'whsec_bmV3', createdAt: iso(now - 1000) };
const inGrace: StoredSecret = { secret: 'whsec_b2xk', createdAt: iso(now - 86_400_000), expiresAt: iso(now + 3_600_000) };
const expired: StoredSecret = { secret: 'whsec_ZGVhZA', createdAt: iso(now - 3 * 86_400_000), expiresAt: iso(now - 1) };

describe('current secrets', () => {
  it('drops secrets whose expiry has passed and keeps the order', () => {
    expect(currentSecrets([fresh, inGrace, expired], now)).toEqual([fresh, inGrace]);
    expect(currentSecrets([expired], now)).toEqual([]);
  });

  it('keeps a secret whose expiry cannot be read rather than lose it', () => {
    const odd = { secret: 'whsec_b2Rk', createdAt: iso(now), expiresAt: 'someday' };
    expect(currentSecrets([odd], now)).toEqual([odd]);
  });

  it('turns them into verification candidates labelled with the webhook id', () => {
    expect(secretCandidates('wh1', [fresh, inGrace, expired], now)).toEqual([
      { secret: fresh.secret, label: 'wh1' },
      { secret: inGrace.secret, label: 'wh1 (previous)', expiresAt: now + 3_600_000 },
    ]);
  });
});

describe('loading secrets for verification', () => {
  it('prunes expired secrets from the store and reports webhooks with none left', async () => {
    const store = createMemoryStore({ webhooks: { a: [fresh, expired], b: [expired], c: [inGrace] } });
    const loaded = await loadVerificationSecrets(store, now);
    expect(loaded.webhookIds).toEqual(['a', 'c']);
    expect(loaded.missing).toEqual(['b']);
    expect(loaded.candidates.map((c) => c.label)).toEqual(['a', 'c (previous)']);
    expect(await store.getWebhookSecrets('a')).toEqual([fresh]);
    expect(await store.getWebhookSecrets('b')).toBeUndefined();
  });

  it('reads only the webhooks asked for', async () => {
    const store = createMemoryStore({ webhooks: { a: [fresh], c: [inGrace] } });
    const loaded = await loadVerificationSecrets(store, now, ['c', 'zzz']);
    expect(loaded.webhookIds).toEqual(['c']);
    expect(loaded.missing).toEqual(['zzz']);
    expect(loaded.candidates).toHaveLength(1);
  });
});

describe('secrets after a rotation', () => {
  it('keeps previous secrets for 24 hours with the grace period, newest first', () => {
    const after = secretsAfterRotation([fresh], 'whsec_bmV3ZXI', now, 'after_24h');
    expect(after).toEqual([
      { secret: 'whsec_bmV3ZXI', createdAt: iso(now) },
      { ...fresh, expiresAt: iso(now + ROTATION_GRACE_MS) },
    ]);
  });

  it('never extends an earlier expiry and drops expired secrets', () => {
    const after = secretsAfterRotation([fresh, inGrace, expired], 'whsec_bmV3ZXI', now, 'after_24h');
    expect(after.map((s) => s.secret)).toEqual(['whsec_bmV3ZXI', fresh.secret, inGrace.secret]);
    expect(after[2]!.expiresAt).toBe(inGrace.expiresAt);
  });

  it('keeps only the new secret with immediate revocation', () => {
    expect(secretsAfterRotation([fresh, inGrace], 'whsec_bmV3ZXI', now, 'immediately')).toEqual([
      { secret: 'whsec_bmV3ZXI', createdAt: iso(now) },
    ]);
  });
});
