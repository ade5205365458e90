import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { closeServer, listenOnLoopback } from './loopback.js';

export { closedPort } from './loopback.js';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The exact bytes received. */
  body: Buffer;
}

export interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering. */
  delayMs?: number;
}

export interface RecordingServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Most requests in flight at the same time. */
  maxInFlight(): number;
  close(): Promise<void>;
}

/** A header of a recorded request ('' when absent); repeated ones joined as HTTP allows. */
export function header(request: RecordedRequest, name: string): string {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

/**
 * A self-signed certificate for localhost and 127.0.0.1, valid until 2126, made for the tests with
 * `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500
 * -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1`. Trusted by nobody.
 */
export const SELF_SIGNED = {
  key: readFileSync(new URL('tls/localhost.key', import.meta.url)),
  cert: readFileSync(new URL('tls/localhost.crt', import.meta.url)),
};

/**
 * A real node:http receiver on 127.0.0.1 that records every request and answers via `answer`.
 * `port` 0 (the default) picks a free one; a fixed port brings an app "back up" where it was.
 * With `tls`, it is an HTTPS receiver with the self-signed certificate above.
 */
export async function startRecordingServer(
  answer: (request: RecordedRequest) => Answer = () => ({ status: 204 }),
  port = 0,
  options: { tls?: boolean } = {},
): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  let inFlight = 0;
  let peak = 0;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    inFlight += 1;
    peak = Math.max(peak, inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(recorded);
      const reply = answer(recorded);
      const send = () => {
        inFlight -= 1;
        res.writeHead(reply.status, reply.headers);
        res.end(reply.body ?? '');
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  };
  const server: Server = options.tls ? createHttpsServer(SELF_SIGNED, handler) : createServer(handler);
  const boundPort = await listenOnLoopback(server, port);
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${boundPort}`,
    port: boundPort,
    requests,
    maxInFlight: () => peak,
    close: () => closeServer(server),
  };
}
