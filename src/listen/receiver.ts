import type { Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { GemwhError, UsageError } from '../errors.js';

/**
 * The node:http plumbing of the listener: limits that keep a hostile or broken client from
 * stalling or crashing it, reading a body with a cap, and answering. The decisions (what status,
 * what to journal) live in decision.ts.
 */

export interface ReceiverLimits {
  maxBodyBytes: number;
  /** Time allowed for the request line and headers to arrive (slowloris). */
  headersTimeoutMs: number;
  /** Time allowed for the whole request, body included. */
  requestTimeoutMs: number;
}

export const DEFAULT_LIMITS: ReceiverLimits = {
  maxBodyBytes: 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
};

/** Applies the limits to a server created with http.createServer. */
export function applyLimits(server: Server, limits: ReceiverLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs);
  // An idle keep-alive connection costs a socket; Gemini opens a new one per delivery anyway.
  server.keepAliveTimeout = 5_000;
  // Slow headers hold nothing but a socket; still, a flood of them should not exhaust descriptors.
  server.maxConnections = 2048;
}

/** `http.createServer` options that go with applyLimits (they can only be set at creation). */
export function serverOptions(limits: ReceiverLimits): { connectionsCheckingInterval: number; maxHeaderSize: number } {
  return {
    // Node checks the two timeouts above on this interval (30 s by default), which would let a
    // slow client hold a connection for far longer than the timeout says.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    maxHeaderSize: 16 * 1024,
  };
}

/** Header name/value pairs in the order received, names as sent. */
export function headerPairs(rawHeaders: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
  return pairs;
}

export { OVERSIZED_START_BYTES, readBody, readBodyLimited, type BodyResult } from '../http/read-body.js';

export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Close the connection after answering (the rest of the request was not read). */
  close?: boolean;
}

export function sendAnswer(res: ServerResponse, answer: Answer): void {
  if (res.headersSent || res.destroyed) return;
  const payload = JSON.stringify(answer.body) + '\n';
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
    ...answer.headers,
  };
  if (answer.close) headers.connection = 'close';
  res.writeHead(answer.status, headers);
  res.end(payload);
  if (answer.close) {
    // Node would otherwise resume the unread request to discard it; after our answer is on the
    // wire there is no reason to keep reading from this client at all.
    res.once('finish', () => res.socket?.destroySoon?.());
  }
}

const OK_PAYLOAD = JSON.stringify({ ok: true }) + '\n';
const DUPLICATE_PAYLOAD = JSON.stringify({ ok: true, duplicate: true }) + '\n';
// Flat [name, value, …] lists: node:http takes them as they are, without walking an object.
const OK_HEADERS = answerHeaders(OK_PAYLOAD);
const DUPLICATE_HEADERS = answerHeaders(DUPLICATE_PAYLOAD);

function answerHeaders(payload: string): string[] {
  return ['content-type', 'application/json; charset=utf-8', 'content-length', String(Buffer.byteLength(payload)), 'cache-control', 'no-store'];
}

/** sendAnswer for the acknowledgement of an accepted delivery, the answer almost every request gets. */
export function sendOk(res: ServerResponse, duplicate: boolean): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(200, duplicate ? DUPLICATE_HEADERS : OK_HEADERS);
  res.end(duplicate ? DUPLICATE_PAYLOAD : OK_PAYLOAD);
}

/** The answer to a request node:http could not parse or that took too long; written on the raw socket. */
export function clientErrorStatus(error: NodeJS.ErrnoException): { status: number; reason: string; explanation: string } | undefined {
  switch (error.code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'malformed_request', explanation: 'The request did not arrive in time (headers or body too slow).' };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: 'malformed_request', explanation: 'The request headers are too large.' };
    default:
      return { status: 400, reason: 'malformed_request', explanation: `The request is not valid HTTP/1.1 (${error.code ?? error.message}).` };
  }
}

export function writeRawAnswer(socket: Duplex, status: number, body: unknown): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const payload = JSON.stringify(body) + '\n';
  const text = STATUS_TEXT[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n${payload}`,
  );
  // end() sends FIN after the answer; destroy a client that never reads it.
  setTimeout(() => socket.destroy(), 1000).unref();
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/** Why the port could not be opened, in words that say what to do. */
export function listenError(error: NodeJS.ErrnoException, options: { host: string; port: number }): GemwhError {
  if (error.code === 'EADDRINUSE') {
    return new UsageError(`port ${options.port} on ${options.host} is already in use`, {
      hint: 'Choose another with --port N, or --port 0 for any free port.',
    });
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    return new UsageError(`cannot listen on ${options.host}: no such local address`, { hint: 'Use --host 127.0.0.1 (the default) or an address of this machine.' });
  }
  if (error.code === 'EACCES') {
    return new UsageError(`not allowed to listen on port ${options.port}`, { hint: 'Ports below 1024 need privileges; pick a higher --port.' });
  }
  return new GemwhError(`cannot listen on ${options.host}:${options.port}: ${error.message}`);
}

export function formatHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

export async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
