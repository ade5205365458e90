import { describe, expect, it } from 'vitest';
import { EmulatorHttpError } from '../../src/emulator/google-error.js';
import { generateWebhookId, WebhookStore, type WebhookChange } from '../../src/emulator/store.js';

const HOUR = 60 * 60 * 1000;

function makeStore(start = Date.parse('2026-05-05T09:00:00Z')) {
  let now = start;
  let counter = 0;
  const store = new WebhookStore({
    clock: { now: () => now },
    // Deterministic but distinct bytes: every secret and id differs.
    random: { bytes: (size) => Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + ++counter * 7) % 256)) },
  });
  return { store, advance: (ms: number) => (now += ms), now: () => now };
}

const input = { uri: 'https://hooks.example.com/h', subscribed_events: ['batch.succeeded'] };

describe('WebhookStore rotation semantics', () => {
  it('revoke_previous_secrets_after_h24: the old secret gets expire_time now+24h, stays listed until then, then disappears', () => {
    const { store, advance, now } = makeStore();
    const { id, new_signing_secret: first } = store.create(input);
    const { secret: second } = store.rotateSigningSecret(id, 'revoke_previous_secrets_after_h24');
    const listed = store.get(id).signing_secrets!;
    expect(listed).toEqual([
      { truncated_secret: `whsec_...${second!.replace(/=+$/, '').slice(-4)}` },
      { truncated_secret: `whsec_...${first!.replace(/=+$/, '').slice(-4)}`, expire_time: new Date(now() + 24 * HOUR).toISOString() },
    ]);
    expect(store.activeSecrets(id).map((s) => s.secret)).toEqual([second, first]);

    advance(24 * HOUR - 1);
    expect(store.get(id).signing_secrets).toHaveLength(2);
    advance(1);
    expect(store.get(id).signing_secrets).toEqual([{ truncated_secret: `whsec_...${second!.replace(/=+$/, '').slice(-4)}` }]);
  });

  it('a second 24h rotation does not extend a secret already expiring', () => {
    const { store, advance, now } = makeStore();
    const { id } = store.create(input);
    store.rotateSigningSecret(id);
    const firstExpiry = now() + 24 * HOUR;
    advance(HOUR);
    store.rotateSigningSecret(id);
    const expiries = store.get(id).signing_secrets!.map((s) => s.expire_time);
    expect(expiries).toEqual([undefined, new Date(now() + 24 * HOUR).toISOString(), new Date(firstExpiry).toISOString()]);
  });

  it('revoke_previous_secrets_immediately removes every older secret at once', () => {
    const { store } = makeStore();
    const { id } = store.create(input);
    store.rotateSigningSecret(id);
    const { secret } = store.rotateSigningSecret(id, 'revoke_previous_secrets_immediately');
    expect(store.activeSecrets(id).map((s) => s.secret)).toEqual([secret]);
  });

  it('never returns create_time or update_time, as the live API was seen not to', () => {
    const { store } = makeStore();
    const created = store.create(input);
    const updated = store.update(created.id, { name: 'renamed' }, ['name']);
    for (const webhook of [created, updated, store.get(created.id), ...(store.list().webhooks ?? [])]) {
      expect(webhook).not.toHaveProperty('create_time');
      expect(webhook).not.toHaveProperty('update_time');
    }
  });

  it('masks a secret as whsec_... and its last 4 characters, base64 padding left out', () => {
    const { store } = makeStore();
    const created = store.create(input);
    expect(created.new_signing_secret).toMatch(/=$/);
    expect(created.signing_secrets).toEqual([{ truncated_secret: `whsec_...${created.new_signing_secret!.slice(-5, -1)}` }]);
    expect(created.signing_secrets![0]!.truncated_secret).toMatch(/^whsec_\.\.\.[A-Za-z0-9+/]{4}$/);
  });
});

describe('WebhookStore create with given signing secrets', () => {
  const mine = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const other = `whsec_${Buffer.alloc(32, 4).toString('base64')}`;

  it('signs with the secret given instead of a random one, and returns it as new_signing_secret', () => {
    const { store } = makeStore();
    const created = store.create(input, { signingSecrets: [mine] });
    expect(created.new_signing_secret).toBe(mine);
    expect(store.activeSecrets(created.id).map((s) => s.secret)).toEqual([mine]);
    expect(store.get(created.id).signing_secrets).toEqual([{ truncated_secret: 'whsec_...LaSw' }]);
  });

  it('keeps every secret given, first one first, none expiring: deliveries carry one signature per secret', () => {
    const { store } = makeStore();
    const created = store.create(input, { signingSecrets: [mine, other] });
    expect(created.new_signing_secret).toBe(mine);
    expect(store.activeSecrets(created.id).map((s) => s.secret)).toEqual([mine, other]);
    expect(store.activeSecrets(created.id).every((s) => s.expire_time === undefined)).toBe(true);
  });

  it('refuses something that is not a signing secret, and without the option stays random', () => {
    const { store } = makeStore();
    expect(() => store.create(input, { signingSecrets: ['v1,abc='] })).toThrow(EmulatorHttpError);
    const a = store.create(input).new_signing_secret;
    const b = store.create(input, {}).new_signing_secret;
    expect(a).toMatch(/^whsec_/);
    expect(a).not.toBe(b);
  });
});

describe('WebhookStore change hooks', () => {
  it('announces every change with a copy the listener cannot use to corrupt the store', () => {
    const { store } = makeStore();
    const changes: WebhookChange[] = [];
    const unsubscribe = store.onChange((change) => {
      changes.push(change);
      change.webhook.uri = 'https://tampered.example/';
    });
    const { id } = store.create(input);
    store.update(id, { state: 'disabled' }, ['state']);
    store.ping(id);
    store.rotateSigningSecret(id);
    store.delete(id);
    expect(changes.map((c) => c.type)).toEqual(['created', 'updated', 'pinged', 'rotated', 'deleted']);
    unsubscribe();
    store.create(input);
    expect(changes).toHaveLength(5);
    expect(store.records()[0]!.uri).toBe(input.uri);
  });

  it('throws NOT_FOUND for unknown ids', () => {
    const { store } = makeStore();
    expect(() => store.get('missing')).toThrow(EmulatorHttpError);
    expect(() => store.ping('missing')).toThrow(/missing/);
  });
});

describe('generateWebhookId', () => {
  it('makes 36 lowercase alphanumerics, using the whole alphabet without bias from bytes >= 252', () => {
    const seen = new Set<string>();
    let fed = 0;
    const random = {
      bytes: (size: number) => {
        // 252..255 must be skipped; the rest map onto a-z0-9.
        const out = Buffer.from(Array.from({ length: size }, (_, i) => (fed + i) % 256));
        fed += size;
        return out;
      },
    };
    for (let i = 0; i < 20; i++) {
      const id = generateWebhookId(random);
      expect(id).toMatch(/^[a-z0-9]{36}$/);
      for (const ch of id) seen.add(ch);
    }
    expect(seen.size).toBe(36);
    const mostlyRejected = { bytes: (size: number) => Buffer.concat([Buffer.alloc(size - 1, 255), Buffer.from([0])]) };
    expect(generateWebhookId(mostlyRejected)).toBe('a'.repeat(36));
  });
});
