import { parseDuration } from '../flags/duration.js';
import { parseEventList } from '../core/events.js';
import { parseByteSize, parseCount, parsePath, parsePort } from '../flags/values.js';
import { parseOutgoingHeader } from '../core/headers.js';
import { parseTarget } from '../flags/target.js';
import { UsageError } from '../errors.js';
import { checkPublicUrl } from '../listen/public-url.js';
import { parseRoute } from '../flags/route.js';
import { parseRelayFilter } from '../relay/filter.js';
import { parseTunnelTool, parseUrlPattern } from '../tunnel/tools.js';
import { each, one, type Check } from './checks.js';
import type { CheckName } from './settings.js';

/** The checks of listen's settings: listen's own flag parsers (see checks.ts for when they load). */

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

export const LISTEN_CHECKS: Readonly<Partial<Record<CheckName, Check>>> = {
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
