import { normalizeApiRoot } from '../api/api-root.js';
import { parseDuration } from '../core/duration.js';
import { parseEventList } from '../core/events.js';
import { parseCount, parsePort } from '../core/flag-values.js';
import { parseOutgoingHeader } from '../core/headers.js';
import { parseTarget } from '../core/target.js';
import { UsageError } from '../errors.js';
import { parseByteSize, parsePath } from '../listen/flags.js';
import { checkPublicUrl } from '../listen/public-url.js';
import { parseRoute } from '../listen/routing.js';
import { parseRelayFilter } from '../relay/filter.js';
import { parseTunnelTool, parseUrlPattern } from '../tunnel/tools.js';
import type { CheckName, OptionValue } from './settings.js';

/**
 * The flag parsers a config file's values go through, so a value is wrong in a file exactly when
 * it would be wrong as a flag. Kept apart from settings.ts and loaded only when a file exists:
 * the parsers pull in listen's modules, which a run without config files need not load.
 */

export interface CheckContext {
  /** listen.allowUnknownEvents is true in some file. */
  allowUnknownEvents: boolean;
}

type Check = (value: OptionValue, label: string, context: CheckContext) => void;

const each = (value: OptionValue): string[] => (Array.isArray(value) ? value : typeof value === 'string' ? [value] : []);
const one = (value: OptionValue): string => each(value)[0] ?? '';

const httpUrl: Check = (value, label) => {
  for (const text of each(value)) {
    let url: URL | undefined;
    try {
      url = new URL(text);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new UsageError(`${label}: "${text}" is not an http(s) URL`);
  }
};

export const CHECKS: Readonly<Record<CheckName, Check>> = {
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
  port: (value, label) => void parsePort(one(value), { flag: label }),
  path: (value) => void parsePath(one(value)),
  httpUrl,
  duration: (value, label) => each(value).forEach((text) => parseDuration(text, label)),
  target: (value) => each(value).forEach((text) => void parseTarget(text)),
  route: (value, _label, context) => each(value).forEach((text) => void parseRoute(text, { allowUnknown: context.allowUnknownEvents })),
  events: (value, label, context) => void parseEventList(each(value), { flag: label, allowPatterns: true, allowUnknown: context.allowUnknownEvents }),
  header: (value) => each(value).forEach((text) => void parseOutgoingHeader(text)),
  size: (value, label) => each(value).forEach((text) => parseByteSize(text, label)),
  journalSize: (value, label) => each(value).forEach((text) => parseByteSize(text, label, 64 * 1024)),
  journalKeep: (value, label) => void parseCount(one(value), label, 0, 100),
  publicUrl: (value) => void checkPublicUrl(one(value)),
  tunnel: (value) => void parseTunnelTool(one(value)),
  urlPattern: (value) => void parseUrlPattern(one(value)),
  relayFilter: (value) => void parseRelayFilter(each(value)),
};
