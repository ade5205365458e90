import { redactSecret } from '../core/redact.js';
import { inspectSecret } from '../core/standard-webhooks.js';
import type { SecretCandidate } from '../core/verdict.js';
import { UsageError } from '../errors.js';

/**
 * `--secret whsec_…` and `--secret-env VAR` as secret candidates, checked at once so that a typo
 * fails at start rather than at the first delivery. Labels name where each came from.
 */
export function secretsFromFlags(secrets: readonly string[], secretEnv: readonly string[], env: Readonly<Record<string, string | undefined>>): SecretCandidate[] {
  const candidates: SecretCandidate[] = [];
  secrets.forEach((secret, i) => candidates.push({ secret: checkSecret(secret, `--secret #${i + 1}`), label: `--secret #${i + 1}` }));
  for (const name of secretEnv) {
    const value = env[name]?.trim();
    if (!value) {
      throw new UsageError(`--secret-env ${name}: the environment variable is not set or empty`, { hint: `Export it first, e.g. export ${name}=whsec_…` });
    }
    candidates.push({ secret: checkSecret(value, `$${name}`), label: `$${name}` });
  }
  return candidates;
}

function checkSecret(secret: string, label: string): string {
  const inspection = inspectSecret(secret);
  if (!inspection.ok) throw new UsageError(`${label} (${redactSecret(secret)}): ${inspection.message}`, { hint: inspection.hint });
  return secret.trim();
}
