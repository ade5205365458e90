import { Argument, Option } from 'commander';
import { completeWith } from '../completion/hints.js';
import { UsageError } from '../errors.js';
import type { DeliveryRef } from '../listen/journal-history.js';

/** --journal, shared by every command that reads the listen journal. */
export function journalOption(): Option {
  return completeWith(new Option('--journal <file>', 'journal to read (default: the one `gemwh listen` writes)'), 'files');
}

export function deliveryIdArgument(): Argument {
  return new Argument('[id]', 'webhook-id (msg_…), journal key, or a unique prefix of either');
}

/** ID or --last, exactly one. */
export function deliveryRef(id: string | undefined, last: boolean | undefined, example: string): DeliveryRef {
  if ((id === undefined) === (last !== true)) {
    throw new UsageError(id === undefined ? 'which delivery? give an ID or --last' : 'give an ID or --last, not both', {
      hint: `e.g. ${example}; \`gemwh deliveries list\` shows the ids.`,
    });
  }
  if (id !== undefined && id.trim() === '') throw new UsageError('the delivery ID is empty', { hint: `e.g. ${example}` });
  return id === undefined ? { kind: 'last' } : { kind: 'id', id: id.trim() };
}
