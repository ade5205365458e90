import type { SecretCandidate } from '../core/verdict.js';
import type { SecretStore, StoredSecret } from './types.js';

/** How long the API keeps previous secrets valid after a rotation with revoke_previous_secrets_after_h24. */
export const ROTATION_GRACE_MS = 24 * 60 * 60 * 1000;

/**
 * The secrets that still count at `now`, newest first as stored. A secret whose expiry cannot
 * be read is kept: dropping a signing secret is not something to do on a guess.
 */
export function currentSecrets(stored: readonly StoredSecret[], now: number): StoredSecret[] {
  return stored.filter((s) => {
    if (s.expiresAt === undefined) return true;
    const expiresAt = Date.parse(s.expiresAt);
    return Number.isNaN(expiresAt) || expiresAt > now;
  });
}

/**
 * Verification candidates for one webhook. The label is the webhook id, with "(previous)" for a
 * secret in its rotation grace period, so a verdict says which one matched.
 */
export function secretCandidates(webhookId: string, stored: readonly StoredSecret[], now: number): SecretCandidate[] {
  return currentSecrets(stored, now).map((s) => {
    const expiresAt = s.expiresAt === undefined ? Number.NaN : Date.parse(s.expiresAt);
    return Number.isNaN(expiresAt)
      ? { secret: s.secret, label: webhookId }
      : { secret: s.secret, label: `${webhookId} (previous)`, expiresAt };
  });
}

export interface VerificationSecrets {
  candidates: SecretCandidate[];
  /** Webhooks that have at least one current secret. */
  webhookIds: string[];
  /** Webhooks asked for that have no current secret in the store. */
  missing: string[];
}

/**
 * Reads the secrets to verify deliveries with (all webhooks in the store when `webhookIds` is not
 * given) and prunes expired ones from the store as it goes, so they stop showing up anywhere.
 */
export async function loadVerificationSecrets(
  store: SecretStore,
  now: number,
  webhookIds?: readonly string[],
): Promise<VerificationSecrets> {
  const ids = webhookIds ?? (await store.listWebhookIds());
  const result: VerificationSecrets = { candidates: [], webhookIds: [], missing: [] };
  for (const id of ids) {
    const stored = await store.getWebhookSecrets(id);
    const current = stored ? await pruneExpired(store, id, stored, now) : [];
    if (current.length === 0) {
      result.missing.push(id);
      continue;
    }
    result.webhookIds.push(id);
    result.candidates.push(...secretCandidates(id, current, now));
  }
  return result;
}

/**
 * Writes back the list without expired secrets when there were any; returns what is current.
 * The write re-reads under the store's lock: a secret a rotate added since `stored` was read stays.
 */
export async function pruneExpired(store: SecretStore, webhookId: string, stored: readonly StoredSecret[], now: number): Promise<StoredSecret[]> {
  const current = currentSecrets(stored, now);
  if (current.length === stored.length) return current;
  const after = await store.updateWebhookSecrets(webhookId, (latest) => {
    const kept = currentSecrets(latest ?? [], now);
    return kept.length === 0 ? undefined : kept;
  });
  return currentSecrets(after ?? [], now);
}

/** The record kept for a webhook's first secret, as returned by create. */
export function freshSecret(secret: string, now: number): StoredSecret {
  return { secret, createdAt: new Date(now).toISOString() };
}

/**
 * The local secrets after a rotation. With the 24 h grace period the previous current secrets
 * stay usable until now + 24 h (an earlier expiry is kept: the API does not extend it either);
 * immediate revocation keeps only the new secret.
 */
export function secretsAfterRotation(
  previous: readonly StoredSecret[],
  newSecret: string,
  now: number,
  revocation: 'after_24h' | 'immediately',
): StoredSecret[] {
  const fresh = freshSecret(newSecret, now);
  if (revocation === 'immediately') return [fresh];
  const graceEnd = now + ROTATION_GRACE_MS;
  const kept = currentSecrets(previous, now)
    .filter((s) => s.secret !== newSecret)
    .map((s) => {
      const expiresAt = s.expiresAt === undefined ? Number.NaN : Date.parse(s.expiresAt);
      return { ...s, expiresAt: !Number.isNaN(expiresAt) && expiresAt < graceEnd ? s.expiresAt! : new Date(graceEnd).toISOString() };
    });
  return [fresh, ...kept];
}
