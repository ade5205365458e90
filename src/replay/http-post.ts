import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { isUntrustedCertificate, PLAIN_HTTP_WORDS, speaksPlainHttp } from '../core/tls-errors.js';

/**
 * One POST of exact bytes, the way a webhook sender does it: no redirects followed (a 3xx is an
 * answer like any other), one deadline for the whole exchange, and only the start of the answer
 * kept, so a receiver that streams megabytes back cannot fill memory.
 */

export const RESPONSE_START_BYTES = 1024;

/** `tls`: the receiver's certificate is not trusted here; `plain_http`: an https:// URL for a plain-HTTP receiver. */
export type PostErrorKind = 'refused' | 'timeout' | 'dns' | 'tls' | 'plain_http' | 'reset' | 'aborted' | 'other';

export interface PostResult {
  /** Absent when no HTTP answer arrived. */
  status?: number;
  latencyMs: number;
  /** The first bytes of the answer body as text. */
  responseStart: string;
  /** The Location header of a redirect, which is reported, never followed. */
  location?: string;
  error?: { kind: PostErrorKind; message: string };
}

export interface PostOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** A keep-alive agent shared by the sends of one run. */
  agent?: http.Agent;
}

export interface AgentOptions {
  maxSockets?: number;
  /** Default true: the sends of one run share connections. */
  keepAlive?: boolean;
  /**
   * Accept a certificate nobody vouches for (a local receiver's self-signed one); the connection
   * is still encrypted, but anyone in between could pose as the receiver.
   */
  insecure?: boolean;
}

export function createAgent(url: URL, options: AgentOptions = {}): http.Agent {
  const common = { keepAlive: options.keepAlive ?? true, maxSockets: options.maxSockets ?? Infinity };
  return url.protocol === 'https:' ? new https.Agent({ ...common, rejectUnauthorized: options.insecure !== true }) : new http.Agent(common);
}

/** What to do when a receiver's certificate is not trusted: the hint of every command that sends to one. */
export const UNTRUSTED_CERTIFICATE_HINT =
  "The receiver's TLS certificate is not trusted here. For a local receiver with a self-signed certificate add --insecure; " +
  'or make its CA trusted with NODE_EXTRA_CA_CERTS=/path/to/ca.pem.';

export function postBytes(url: URL, body: Buffer, headers: Readonly<Record<string, string>>, options: PostOptions): Promise<PostResult> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<PostResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ ...result, latencyMs: elapsed() });
    };
    const transport = url.protocol === 'https:' ? https : http;
    const request = transport.request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(body.length) },
      agent: options.agent,
    });
    const timer = setTimeout(() => {
      request.destroy();
      finish({ responseStart: '', error: { kind: 'timeout', message: `no complete answer within ${options.timeoutMs} ms` } });
    }, options.timeoutMs);
    const onAbort = () => {
      request.destroy();
      finish({ responseStart: '', error: { kind: 'aborted', message: 'interrupted' } });
    };
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    request.on('error', (error: NodeJS.ErrnoException) => finish({ responseStart: '', error: classify(error) }));
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      response.on('data', (chunk: Buffer) => {
        if (kept < RESPONSE_START_BYTES) {
          chunks.push(chunk.subarray(0, RESPONSE_START_BYTES - kept));
          kept += Math.min(chunk.length, RESPONSE_START_BYTES - kept);
        }
      });
      const done = () => {
        const location = response.headers.location;
        finish({
          status: response.statusCode,
          responseStart: Buffer.concat(chunks).toString('utf8'),
          ...(location !== undefined && response.statusCode !== undefined && response.statusCode >= 300 && response.statusCode < 400
            ? { location }
            : {}),
        });
      };
      response.on('end', done);
      // The status line counts even when the body is cut short.
      response.on('error', done);
      response.on('aborted', done);
    });
    request.end(body);
  });
}

function classify(error: NodeJS.ErrnoException): { kind: PostErrorKind; message: string } {
  // With both 127.0.0.1 and ::1 tried, Node reports an AggregateError whose message is empty.
  const detail = error.message || error.code || 'unknown error';
  switch (error.code) {
    case 'ECONNREFUSED':
      return { kind: 'refused', message: `connection refused (${detail})` };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { kind: 'dns', message: `host not found (${detail})` };
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return { kind: 'reset', message: `connection closed without an answer (${detail})` };
    case 'ETIMEDOUT':
      return { kind: 'timeout', message: detail };
    default:
      // Only an untrusted certificate is 'tls': its hint is --insecure, which cures nothing else.
      if (speaksPlainHttp(error)) return { kind: 'plain_http', message: PLAIN_HTTP_WORDS };
      if (isUntrustedCertificate(error)) return { kind: 'tls', message: `untrusted TLS certificate (${detail})` };
      if (error.code?.startsWith('ERR_TLS') || error.code?.startsWith('ERR_SSL') || /certificate|SSL|TLS/i.test(error.message)) {
        return { kind: 'other', message: `TLS failed (${detail})` };
      }
      return { kind: 'other', message: detail };
  }
}
