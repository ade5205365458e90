import type { RevocationBehavior } from '../../api/types.js';
import { isoSeconds } from '../../core/duration.js';
import { formatJson } from '../../core/table.js';
import { GemwhError, SecretStoreError } from '../../errors.js';
import { ROTATION_GRACE_MS, secretsAfterRotation } from '../../secrets/current-secrets.js';
import type { SecretStore, StoredSecret } from '../../secrets/types.js';
import type { CommandContext } from '../context.js';
import type { Revocation } from '../../flags/values.js';
import { announceSecretLost, openStoreForNewSecret } from '../../manage/secret-safety.js';
import { resolveWebhookIdFromApi } from '../../manage/resolve-id.js';

export const REVOCATION_BEHAVIOR: Readonly<Record<Revocation, RevocationBehavior>> = {
  after_24h: 'revoke_previous_secrets_after_h24',
  immediately: 'revoke_previous_secrets_immediately',
};


export interface RotateOptions {
  id: string;
  grace: Revocation;
  printSecret: boolean;
  json: boolean;
}

/**
 * Rotates the signing secret. The new secret is shown only in this reply, so the store is
 * checked first and the secret printed loudly if it cannot be stored. With the 24 h grace the
 * previous secrets are kept locally until they stop working, so `listen` accepts both.
 */
export async function runRotate(options: RotateOptions, ctx: CommandContext): Promise<void> {
  const { io } = ctx.deps;
  const id = await resolveWebhookIdFromApi(options.id, ctx);
  const store = await openStoreForNewSecret(ctx, options.printSecret);
  const previous: StoredSecret[] = store ? ((await store.getWebhookSecrets(id)) ?? []) : [];

  const reply = await (await ctx.api()).rotateSigningSecret(id, REVOCATION_BEHAVIOR[options.grace]);
  const now = ctx.deps.clock.now();
  const secret = reply.secret;
  const graceEnd = options.grace === 'after_24h' ? new Date(now + ROTATION_GRACE_MS).toISOString() : undefined;

  let stored: SecretStore | undefined;
  let kept: StoredSecret[] = [];
  let storeFailure: GemwhError | undefined;
  if (secret && store) {
    try {
      // Computed from what is stored at the moment of writing, under the store's lock: a listen
      // pruning or another rotate since `previous` was read must not be undone.
      kept = (await store.updateWebhookSecrets(id, (current) => secretsAfterRotation(current ?? [], secret, now, options.grace))) ?? [];
      stored = store;
    } catch (error) {
      if (!(error instanceof GemwhError)) throw error;
      storeFailure = error;
    }
  }

  if (options.json) {
    io.stdout.write(
      formatJson({
        id,
        revocationBehavior: REVOCATION_BEHAVIOR[options.grace],
        previousSecretsExpireAt: graceEnd ?? null,
        localSecrets: stored ? kept.length : null,
        ...(options.printSecret && secret ? { secret } : {}),
      }),
    );
  } else if (options.printSecret && secret) {
    io.stdout.write(`${secret}\n`);
  }

  io.stderr.write(
    graceEnd
      ? `Rotated the signing secret of webhook ${id}; previous secrets keep working until ${isoSeconds(Date.parse(graceEnd))}.\n`
      : `Rotated the signing secret of webhook ${id}; previous secrets were revoked immediately.\n`,
  );
  if (!secret) {
    io.stderr.write('gemwh: warning: the API returned no new secret in its reply.\n');
  } else if (stored) {
    const previousKept = kept.length - 1;
    io.stderr.write(
      `New secret stored in ${stored.location}` +
        (previousKept > 0 ? `, with ${previousKept} previous secret${previousKept === 1 ? '' : 's'} kept until it expires.\n` : '.\n'),
    );
    if (previous.length === 0 && graceEnd) {
      io.stderr.write('gemwh had no previous secret for this webhook, so deliveries signed with the old one cannot be verified locally.\n');
    }
  } else if (storeFailure) {
    if (options.printSecret) {
      io.stderr.write(`gemwh: warning: could not store the new secret (${storeFailure.message}); it was printed on stdout only.\n`);
    } else {
      announceSecretLost(ctx.deps, id, secret, storeFailure);
      throw new SecretStoreError(`the signing secret of webhook ${id} was rotated, but the new secret could not be stored: ${storeFailure.message}`, {
        hint: `Save the secret printed above, then: gemwh secret set ${id}`,
        cause: storeFailure,
      });
    }
  } else {
    io.stderr.write('The new secret was printed only; gemwh did not store it.\n');
  }
}
