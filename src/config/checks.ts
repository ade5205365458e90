import { normalizeApiRoot } from '../api/api-root.js';
import { UsageError } from '../errors.js';
import type { CheckName, OptionValue } from './settings.js';

/**
 * The flag parsers a config file's values go through, so a value is wrong in a file exactly when
 * it would be wrong as a flag. The top-level settings' checks are here and cheap; listen's use
 * listen's parsers (listen-checks.ts), loaded only when listen's settings are checked: when
 * listen runs, or `gemwh config show`.
 */

export interface CheckContext {
  /** listen.allowUnknownEvents is true in some file. */
  allowUnknownEvents: boolean;
}

export type Check = (value: OptionValue, label: string, context: CheckContext) => void;

export const each = (value: OptionValue): string[] => (Array.isArray(value) ? value : typeof value === 'string' ? [value] : []);
export const one = (value: OptionValue): string => each(value)[0] ?? '';

export const TOP_LEVEL_CHECKS: Readonly<Partial<Record<CheckName, Check>>> = {
  apiRoot: (value, label) => void normalizeApiRoot(one(value), label),
  apiVersion: (value, label) => {
    if (!/^v\d+[a-z0-9]*$/.test(one(value))) throw new UsageError(`${label}: "${one(value)}" is not an API version`, { hint: 'e.g. "v1" or "v1beta".' });
  },
  secretStore: (value, label) => {
    if (value !== 'keychain' && value !== 'file') throw new UsageError(`${label}: "${one(value)}" is not a secret store`, { hint: 'Use "keychain" (the OS keychain) or "file".' });
  },
  envName: (value, label) => {
    for (const name of each(value)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        throw new UsageError(`${label}: "${name}" is not an environment variable name`, { hint: 'Give the variable\'s name, not its value, e.g. "GEMINI_WEBHOOK_SECRET".' });
      }
    }
  },
};
