import { UsageError } from '../errors.js';
import type { HeaderBag } from './verdict.js';

/** One header value, case-insensitively; repeated headers are joined the way the caller needs. */
export function getHeader(headers: HeaderBag, name: string, join = ', '): string | undefined {
  // node:http already lowercases names, so the direct lookup is the common, cheap case.
  let value = headers[name];
  if (value === undefined) {
    for (const key in headers) {
      if (key.length === name.length && key.toLowerCase() === name) {
        value = headers[key];
        break;
      }
    }
  }
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(join);
}

const COMPACT_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** `header.payload.signature` in base64url: what a dynamic delivery puts in webhook-signature. */
export function looksLikeJwt(value: string): boolean {
  return COMPACT_JWT.test(value.trim());
}

// `name: value`; a leading colon belongs to the name (HTTP/2 pseudo-headers such as `:authority`).
function splitHeaderLine(text: string): [string, string] {
  const colon = text.indexOf(':', text.startsWith(':') ? 1 : 0);
  return colon > 0 ? [text.slice(0, colon).trim(), text.slice(colon + 1).trim()] : ['', ''];
}

/** One `name: value` line, as captured: curl's `> `/`< ` prefix and HTTP/2 pseudo-headers are fine. */
export function parseHeaderLine(line: string, where = '--header'): [string, string] {
  const [name, value] = splitHeaderLine(line.replace(/^[<>]\s/, ''));
  if (!name || /\s/.test(name)) {
    throw new UsageError(`${where}: "${line}" is not a header line`, { hint: "Write it as 'name: value', e.g. --header 'webhook-id: msg_123'." });
  }
  return [name, value];
}

// Derived by the HTTP client from each request it sends; setting them would corrupt the request.
const SET_BY_THE_SENDER = new Set(['content-length', 'transfer-encoding', 'host', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect']);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * `--header 'K: V'` for a request gemwh sends (listen's forwards, replay): a valid name, a value
 * without line breaks, and none of the headers the sender derives from the request itself.
 */
export function parseOutgoingHeader(text: string, options: { example?: string; setByTheSenderHint?: string } = {}): [string, string] {
  const { example = 'X-Forwarded-By: gemwh', setByTheSenderHint } = options;
  const [name, value] = splitHeaderLine(text);
  if (!HEADER_NAME.test(name)) throw new UsageError(`--header "${text}" is not "Name: value"`, { hint: `Write e.g. --header '${example}'.` });
  if (SET_BY_THE_SENDER.has(name.toLowerCase())) {
    throw new UsageError(
      `--header cannot set ${name}: it describes the connection or the body, and gemwh sets it for each request`,
      setByTheSenderHint === undefined ? {} : { hint: setByTheSenderHint },
    );
  }
  if (/[\r\n\0]/.test(value)) throw new UsageError(`--header ${name}: the value contains a line break or NUL`);
  return [name, value];
}
