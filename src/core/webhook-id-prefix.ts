import { UsageError } from '../errors.js';

/** The service hands out 36-character ids; a shorter one can only be a prefix. */
export const FULL_WEBHOOK_ID_LENGTH = 36;

/**
 * The one id among `known` that `text` names, as git does with hashes: the id itself, or the only
 * id starting with it. An ambiguous prefix is an error listing the candidates; no match gives the
 * text back, so the caller's own "not found" (a 404, an empty store) speaks.
 */
export function pickWebhookId(text: string, known: readonly string[]): string {
  if (known.includes(text)) return text;
  const candidates = [...new Set(known.filter((id) => id.startsWith(text)))].sort();
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length > 1) {
    throw new UsageError(`webhook id prefix "${text}" is ambiguous: it starts ${candidates.length} ids (${candidates.join(', ')})`, {
      hint: 'Give more characters of the id.',
    });
  }
  return text;
}
