import { Option } from 'commander';
import { completeWith } from '../completion/hints.js';
import { collect } from './collect.js';

/**
 * --secret, --secret-env and --webhook as listen, verify and the replay commands declare them
 * (src/secrets/secret-flags.ts reads them): one wording wherever the flags mean the same, with
 * what the secrets are for in front, e.g. "verify with" or "sign with".
 */

export function secretOption(use: string): Option {
  return new Option('--secret <whsec>', `${use} this signing secret (repeatable)`).argParser(collect);
}

export function secretEnvOption(use: string): Option {
  return new Option('--secret-env <var>', `${use} the secret in this environment variable (repeatable)`).argParser(collect);
}

/** `note` follows "repeatable" in the help, e.g. the default when the flag is not given. */
export function webhookOption(use: string, how: { repeatable: boolean; note?: string }): Option {
  const text = `${use} this webhook's stored secrets`;
  const option = how.repeatable ? new Option('--webhook <id>', `${text} (repeatable${how.note ? `; ${how.note}` : ''})`).argParser(collect) : new Option('--webhook <id>', text);
  return completeWith(option, 'webhook-ids');
}

