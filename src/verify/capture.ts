import { parseHeaderLine } from '../core/headers.js';
import { UsageError } from '../errors.js';

/**
 * A captured delivery's headers as people have them: lines copied from a log, `curl -v`, a
 * proxy dump (possibly with the request or status line first), or a JSON object.
 */
export type CapturedHeaders = Record<string, string | string[]>;

export function addHeader(headers: CapturedHeaders, name: string, value: string): void {
  const key = name.trim().toLowerCase();
  const existing = headers[key];
  if (existing === undefined) headers[key] = value;
  else headers[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
}

const START_LINE = /^(?:[A-Z]+ \S+ HTTP\/\d(?:\.\d)?|HTTP\/\d(?:\.\d)? \d{3}.*)$/;

export interface ParsedHeaderFile {
  headers: CapturedHeaders;
  /** Bytes after the blank line that ends the headers, when the file is a whole HTTP message. */
  body?: Buffer;
}

/** Parses a headers file: a JSON object, or HTTP header lines (a request/status line first is skipped). */
export function parseHeaderFile(content: Buffer, file: string): ParsedHeaderFile {
  const text = content.toString('utf8');
  if (/^\s*[[{]/.test(text)) return { headers: parseJsonHeaders(text, file) };

  const headers: CapturedHeaders = {};
  // The body starts after the first blank line; its bytes are kept exactly (CRLF included).
  const separator = /\r?\n\r?\n/.exec(text);
  const head = separator ? text.slice(0, separator.index) : text;
  const lines = head.split(/\r?\n/);
  let last: string | undefined;
  lines.forEach((rawLine, index) => {
    const line = rawLine.replace(/^[<>] ?/, '');
    if (line.trim() === '') return;
    if (index === 0 && START_LINE.test(line.trim())) return;
    if (/^[ \t]/.test(rawLine) && last) {
      // obs-fold: a continuation of the previous header's value.
      const value = headers[last];
      if (typeof value === 'string') headers[last] = `${value} ${line.trim()}`;
      return;
    }
    if (line.startsWith(':')) return; // HTTP/2 pseudo-headers (:method, :path) are not headers.
    const [name, value] = parseHeaderLine(line, `${file} line ${index + 1}`);
    addHeader(headers, name, value);
    last = name.toLowerCase();
  });
  if (Object.keys(headers).length === 0) {
    throw new UsageError(`${file} holds no header lines`, { hint: 'Write one "name: value" per line, or a JSON object of headers.' });
  }
  const result: ParsedHeaderFile = { headers };
  if (separator) {
    const bodyStart = Buffer.byteLength(text.slice(0, separator.index + separator[0].length), 'utf8');
    const body = content.subarray(bodyStart);
    if (body.length > 0) result.body = body;
  }
  return result;
}

function parseJsonHeaders(text: string, file: string): CapturedHeaders {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'Give a JSON object of headers, or plain "name: value" lines.',
    });
  }
  // [[name, value], ...]: how some tools dump headers to keep repeats and order.
  if (Array.isArray(parsed) && parsed.every((pair) => Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string')) {
    const headers: CapturedHeaders = {};
    for (const [name, value] of parsed as Array<[string, unknown]>) addHeader(headers, name, String(value));
    return headers;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`${file} is not a JSON object of headers`, { hint: 'Example: {"webhook-id": "msg_123", "webhook-timestamp": "1614265330", "webhook-signature": "v1,..."}' });
  }
  // A capture tool may nest them: {"headers": {...}}.
  const source = (parsed as { headers?: unknown }).headers;
  const object = (source !== null && typeof source === 'object' && !Array.isArray(source) ? source : parsed) as Record<string, unknown>;
  const headers: CapturedHeaders = {};
  for (const [name, value] of Object.entries(object)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item === 'string' || typeof item === 'number') addHeader(headers, name, String(item));
    }
  }
  return headers;
}
