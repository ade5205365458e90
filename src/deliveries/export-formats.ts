import { targetUrlFor, type Target } from '../core/target.js';
import { UsageError } from '../errors.js';
import { forwardHeaders } from '../listen/forwarder.js';
import { decodeBody, type JournalDeliveryRecord } from '../listen/journal-records.js';

/**
 * A journaled delivery in forms other tools read: the raw HTTP request (what `verify --headers`
 * takes as a whole message), a curl command that re-sends it, or a fixture file for
 * `replay fixture FILE`.
 */

export const EXPORT_FORMATS = ['http', 'curl', 'fixture'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * The request as it arrived: request line, headers in their order, a blank line, the body byte
 * for byte (CRLF line ends, as on the wire).
 */
export function toHttpMessage(record: JournalDeliveryRecord): Buffer {
  const head = [`${record.method} ${record.path} HTTP/1.1`, ...record.headers.map(([name, value]) => `${name}: ${value}`)];
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'utf8'), decodeBody(record)]);
}

/** What a curl command is made of: a journal record, or what a running listener keeps of a request (the live view's `s`). */
export type CurlSource = Pick<JournalDeliveryRecord, 'method' | 'path' | 'headers' | 'encoding' | 'body'>;

/**
 * A curl command sending the same bytes and headers. Hop-by-hop headers (host, content-length, …)
 * are left to curl, as listen's forwarder leaves them to undici. Without a target it posts to
 * the host the delivery was addressed to.
 */
export function toCurlCommand(record: CurlSource, target?: Target): string {
  const url = curlUrl(record, target);
  const lines = [`curl -sS -X ${record.method} ${shellQuote(url.href)}`];
  for (const [name, value] of forwardHeaders(record.headers)) lines.push(`  -H ${shellQuote(`${name}: ${value}`)}`);
  // --data-binary sends the bytes as they are (plain --data strips newlines); a body that is not
  // UTF-8 is decoded from base64 on the way in, since a shell word cannot hold arbitrary bytes.
  if (record.encoding === 'base64') {
    return `printf %s ${shellQuote(record.body)} | base64 -d | ${lines.join(' \\\n')} \\\n  --data-binary @-\n`;
  }
  lines.push(`  --data-binary ${shellQuote(record.body)}`);
  return `${lines.join(' \\\n')}\n`;
}

/** The body as a fixture: the JSON event, pretty-printed (`replay fixture` sends it compact, signed anew). */
export function toFixture(record: JournalDeliveryRecord): string {
  const text = decodeBody(record).toString('utf8');
  let event: unknown;
  try {
    if (record.encoding === 'base64') throw new Error('not UTF-8');
    event = JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`delivery ${record.webhookId ?? record.key} has no JSON body, so it cannot be a fixture`, {
      hint: 'Export it with --as http or --as curl to keep the bytes as received.',
    });
  }
  return `${JSON.stringify(event, null, 2)}\n`;
}

/** Where toCurlCommand's command posts. */
export function curlUrl(record: CurlSource, target?: Target): URL {
  return target ? targetUrlFor(target, record.path) : originalUrl(record);
}

function originalUrl(record: CurlSource): URL {
  const host = record.headers.find(([name]) => name.toLowerCase() === 'host')?.[1] ?? 'localhost';
  try {
    return new URL(record.path.replace(/^\/+/, '/'), `http://${host}`);
  } catch {
    return new URL(record.path.replace(/^\/+/, '/'), 'http://localhost');
  }
}

/** POSIX shell single quotes: nothing inside is special except the quote itself. */
export function shellQuote(text: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
