import { FULL_WEBHOOK_ID_LENGTH, pickWebhookId } from '../core/webhook-id-prefix.js';
import { redactSecret } from '../core/redact.js';
import { inspectSecret, secretLengthProblem } from '../core/standard-webhooks.js';
import type { SecretCandidate } from '../core/verdict.js';
import type { Deps } from '../deps.js';
import { SecretStoreError, UsageError } from '../errors.js';
import { loadVerificationSecrets, type VerificationSecrets } from './current-secrets.js';
import type { SecretStore } from './types.js';

/**
 * The one place that turns `--secret whsec_…`, `--secret-env VAR` and `--webhook ID` into
 * checked secrets, for listen, verify, replay fixture, replay delivery and conformance. Every
 * secret is checked at start, so a typo fails before the first delivery, in the same words
 * whatever the command.
 */

/** The secret flags as a command parsed them; absent means not given. */
export interface SecretFlags {
  /** --secret values, in order. */
  secrets?: readonly string[];
  /** --secret-env variable names, in order. */
  secretEnv?: readonly string[];
  /** --webhook ids: their current secrets in the secret store. */
  webhookIds?: readonly string[];
}

/** Where --webhook ids' secrets are read: the command's secret store, opened on first use (and only when there are ids). */
export interface SecretSource {
  deps: Deps;
  store(): Promise<SecretStore>;
}

/** Where the commands differ, because their flags mean slightly different things. */
export interface SecretFlagRules {
  /**
   * "always": every --secret is "--secret #n" (listen and replay name the one that matched in
   * their output). "when-several": a lone one is just "--secret" (verify, conformance).
   */
  numbering?: 'always' | 'when-several';
  /**
   * verify's --secret-env: the variable holds a space-separated list of secrets ("$VAR #2" among
   * several), and an unset one is reported in verify's own words.
   */
  envList?: boolean;
}

/** Said when a webhook asked for by --webhook has no usable secret in the store. */
const NOT_STORED_HINT = 'gemwh keeps the secret when `gemwh create` makes the webhook; otherwise pass it with --secret or --secret-env.';

/** The secret flags that were given, by name, in the order of the help: for "cannot be combined" messages. */
export function givenSecretFlags(flags: SecretFlags): string[] {
  return [
    (flags.secrets?.length ?? 0) > 0 ? '--secret' : undefined,
    (flags.secretEnv?.length ?? 0) > 0 ? '--secret-env' : undefined,
    (flags.webhookIds?.length ?? 0) > 0 ? '--webhook' : undefined,
  ].filter((name): name is string => name !== undefined);
}

/** One secret, checked; `source` names where it came from ("--secret #2", "$VAR"). Returns it trimmed. */
export function checkSecret(secret: string, source: string): string {
  const inspection = inspectSecret(secret);
  if (!inspection.ok) throw new UsageError(`${source} (${redactSecret(secret)}): ${inspection.message}`, { hint: inspection.hint });
  const length = secretLengthProblem(inspection.key);
  if (length?.refuse) {
    throw new UsageError(`${source} (${redactSecret(secret)}): ${length.message}`, {
      hint: 'Pass the whole secret the webhook was created with (new_signing_secret), or make one: whsec_ + base64 of 32 random bytes.',
    });
  }
  return secret.trim();
}

/** One warning line per user-given secret that is accepted but shorter than any service issues. */
export function warnWeakSecrets(candidates: readonly SecretCandidate[], deps: Pick<Deps, 'io'>): void {
  for (const c of candidates) {
    const inspection = inspectSecret(c.secret);
    const length = inspection.ok ? secretLengthProblem(inspection.key) : undefined;
    if (length && !length.refuse) deps.io.stderr.write(`gemwh: warning: ${c.label} (${redactSecret(c.secret)}): ${length.message}\n`);
  }
}

/** --secret then --secret-env as candidates labelled with where each came from. */
export function secretsFromFlags(flags: SecretFlags, env: Deps['env'], rules: SecretFlagRules = {}): SecretCandidate[] {
  const candidates: SecretCandidate[] = [];
  const add = (secret: string, source: string) => candidates.push({ secret: checkSecret(secret, source), label: source });
  const secrets = flags.secrets ?? [];
  secrets.forEach((secret, i) => add(secret, numbered('--secret', i, secrets.length, rules.numbering ?? 'always')));
  for (const name of flags.secretEnv ?? []) {
    const value = env[name]?.trim();
    if (!value) throw unsetVariable(name, rules);
    const values = rules.envList ? value.split(/\s+/) : [value];
    values.forEach((secret, i) => add(secret, numbered(`$${name}`, i, values.length, 'when-several')));
  }
  return candidates;
}

/**
 * The current secrets of the named webhooks, or of every webhook in the store when `webhookIds`
 * is undefined; expired ones are pruned from the store. A named webhook without any is an error:
 * the user asked for it.
 */
export async function storedSecrets(store: SecretStore, webhookIds: readonly string[] | undefined, now: number): Promise<VerificationSecrets> {
  webhookIds = await resolveStoredPrefixes(store, webhookIds);
  const found = await loadVerificationSecrets(store, now, webhookIds);
  if (webhookIds !== undefined && found.missing.length > 0) {
    throw new SecretStoreError(`no valid signing secret for webhook ${found.missing.join(', ')} in ${store.location}`, { hint: NOT_STORED_HINT });
  }
  return found;
}

/** --webhook takes a unique prefix of a stored id, as git does with hashes. */
async function resolveStoredPrefixes(store: SecretStore, webhookIds: readonly string[] | undefined): Promise<readonly string[] | undefined> {
  if (webhookIds === undefined || webhookIds.every((id) => id.length >= FULL_WEBHOOK_ID_LENGTH)) return webhookIds;
  const known = await store.listWebhookIds();
  return [...new Set(webhookIds.map((id) => pickWebhookId(id, known)))];
}

/** The --webhook ids' secrets from the store the flags name; the store is opened only when there are ids. */
export async function secretsFromStore(flags: SecretFlags, { deps, store }: SecretSource): Promise<SecretCandidate[]> {
  const webhookIds = flags.webhookIds ?? [];
  if (webhookIds.length === 0) return [];
  return (await storedSecrets(await store(), webhookIds, deps.clock.now())).candidates;
}

/** --secret, --secret-env, then the --webhook ids' stored secrets (newest first), all checked; [] when none is given. */
export async function resolveSecretFlags(flags: SecretFlags, source: SecretSource, rules: SecretFlagRules = {}): Promise<SecretCandidate[]> {
  const fromFlags = secretsFromFlags(flags, source.deps.env, rules);
  warnWeakSecrets(fromFlags, source.deps);
  return [...fromFlags, ...(await secretsFromStore(flags, source))];
}

function numbered(source: string, index: number, count: number, numbering: 'always' | 'when-several'): string {
  return numbering === 'always' || count > 1 ? `${source} #${index + 1}` : source;
}

function unsetVariable(name: string, rules: SecretFlagRules): UsageError {
  if (rules.envList) {
    return new UsageError(`--secret-env: the environment variable ${name} is not set`, { hint: `Set it (export ${name}=whsec_…) or pass --secret.` });
  }
  return new UsageError(`--secret-env ${name}: the environment variable is not set or empty`, { hint: `Export it first, e.g. export ${name}=whsec_…` });
}
