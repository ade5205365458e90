/**
 * Secrets never appear in output unless the user asked to reveal them. The redacted form keeps
 * the prefix and the last four characters, like the API's own `truncated_secret` (`whsec_...3frh`),
 * so a user can still tell two secrets apart.
 */
export function redactSecret(secret: string): string {
  const prefix = secret.startsWith('whsec_') ? 'whsec_' : '';
  const rest = secret.slice(prefix.length);
  if (rest.length <= 8) return `${prefix}…`;
  return `${prefix}…${rest.slice(-4)}`;
}

/** API keys: enough to recognise which key it is, never enough to use it. */
export function redactApiKey(key: string): string {
  if (key.length <= 10) return '…';
  return `${key.slice(0, 4)}…${key.slice(-4)}`;
}
