import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
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
 * A real node:http receiver on 127.0.0.1 that records every request and answers via `answer`.
 * `port` 0 (the default) picks a free one; a fixed port brings an app "back up" where it was.
 */
export async function startRecordingServer(answer: (request: RecordedRequest) => Answer = () => ({ status: 204 }), port = 0): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  let inFlight = 0;
  let peak = 0;
  const server: Server = createServer((req, res) => {
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
  });
  const boundPort = await listenOnLoopback(server, port);
  return {
    url: `http://127.0.0.1:${boundPort}`,
    port: boundPort,
    requests,
    maxInFlight: () => peak,
    close: () => closeServer(server),
  };
}
