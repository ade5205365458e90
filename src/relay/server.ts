import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HeaderBag, Verdict } from '../core/verdict.js';
import { readBodyLimited } from '../http/read-body.js';
import { headerPairs } from '../listen/receiver.js';
import { compileFilter, filterFromQuery } from './filter.js';
import type { RelayStore, StoredDelivery } from './types.js';

/**
 * `gemwh relay serve`: ingest (`POST /in/<channel>/…`, stored durably before the 2xx so Gemini
 * retries whatever was not), fan-out (`GET /c/<channel>` as server-sent events, resumable with
 * Last-Event-ID), `GET /healthz`. Logs never carry a body or a signature.
 */

export type EdgeVerifier = (input: { rawBody: Buffer; headers: HeaderBag; now: number }) => Verdict | Promise<Verdict>;

export interface RelayServerOptions {
  host: string;
  port: number;
  store: RelayStore;
  maxBodyBytes: number;
  /** Refuse forgeries at the edge (--verify-secret-env / --jwks-url); undefined stores what arrives. */
  verify?: EdgeVerifier;
  now: () => number;
  log: (line: string) => void;
  /** A comment line to idle SSE streams this often, so proxies keep them open. */
  heartbeatMs?: number;
}

export interface RelayServer {
  url: string;
  /** Stops taking requests, finishes the stores in flight, ends the streams, closes the store. */
  close(): Promise<void>;
}

export const CHANNEL_ID = /^[A-Za-z0-9_-]{22}$/;
const PAGE = 256;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const payload = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload), 'cache-control': 'no-store' });
  res.end(payload);
}

export async function startRelayServer(options: RelayServerOptions): Promise<RelayServer> {
  const { store } = options;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const ingesting = new Set<Promise<unknown>>();
  // One per open stream, ended at shutdown (a Set, not listeners on one signal: clients are many).
  const streams = new Set<AbortController>();
  let clients = 0;
  let closing = false;

  const ingest = async (req: IncomingMessage, res: ServerResponse, channel: string, path: string) => {
    if (req.method !== 'POST') return json(res, 405, { error: 'method_not_allowed', message: 'Deliveries are POSTed to the ingest URL.' });
    if (!(await store.getChannel(channel))) return json(res, 404, { error: 'unknown_channel', message: 'No such channel on this relay.' });
    const body = await readBodyLimited(req, options.maxBodyBytes, { whenTooLarge: 'drain' });
    if (body.kind === 'aborted') return;
    if (body.kind === 'too_large') return json(res, 413, { error: 'body_too_large', message: `The body is larger than ${options.maxBodyBytes} bytes.` });
    const receivedAt = options.now();
    if (options.verify) {
      const verdict = await options.verify({ rawBody: body.body, headers: req.headers, now: receivedAt });
      if (!verdict.ok) {
        options.log(`refused a delivery to channel ${channel}: ${verdict.reason}`);
        return json(res, 401, { error: verdict.reason, message: 'The delivery failed verification at the relay.' });
      }
    }
    try {
      const id = await store.append(channel, { receivedAt, path, headers: headerPairs(req.rawHeaders), body: body.body });
      json(res, 200, { ok: true, id });
    } catch (error) {
      options.log(`could not store a delivery to channel ${channel}: ${(error as Error).message}`);
      // 503: Gemini retries it later, which is what should happen to anything not stored.
      json(res, 503, { error: 'store_unavailable', message: 'The relay could not store the delivery; retry later.' });
    }
  };

  const authorize = async (req: IncomingMessage): Promise<string | undefined> => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) return undefined;
    const hash = hashToken(match[1]!);
    const found = await store.findTokenByHash(hash);
    // The lookup is by hash already; compare again in constant time so timing says nothing either way.
    return found && timingSafeEqual(Buffer.from(found.hash, 'hex'), Buffer.from(hash, 'hex')) ? found.id : undefined;
  };

  const subscribe = async (req: IncomingMessage, res: ServerResponse, channel: string, query: URLSearchParams) => {
    if (req.method !== 'GET') return json(res, 405, { error: 'method_not_allowed', message: 'Subscribe with GET (server-sent events).' });
    const tokenId = await authorize(req);
    if (!tokenId) {
      return json(res, 401, { error: 'unauthorized', message: 'A valid relay token is required: Authorization: Bearer <token> (gemwh relay token create).' });
    }
    if (!(await store.getChannel(channel))) return json(res, 404, { error: 'unknown_channel', message: 'No such channel on this relay.' });
    if (closing) return json(res, 503, { error: 'shutting_down', message: 'The relay is stopping; retry.' });
    let filter;
    try {
      filter = compileFilter(filterFromQuery(query));
    } catch (error) {
      return json(res, 400, { error: 'bad_filter', message: (error as Error).message });
    }
    const resumeFrom = (req.headers['last-event-id'] as string | undefined) ?? query.get('after') ?? undefined;
    if (resumeFrom !== undefined && !store.isValidId(resumeFrom)) {
      return json(res, 400, { error: 'bad_last_event_id', message: `Last-Event-ID ${JSON.stringify(resumeFrom)} is not a position of this relay's store.` });
    }
    // A first connection starts at the newest delivery unless it asks for everything kept.
    let after = resumeFrom ?? (query.get('from') === 'start' ? undefined : await store.tail(channel));
    const tail = await store.tail(channel);
    const backlog = await store.countAfter(channel, after, 10_000);

    const connection = new AbortController();
    const stop = () => connection.abort();
    streams.add(connection);
    req.on('close', stop);
    res.on('error', stop);
    clients++;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // nginx buffers responses by default; an SSE stream must pass through at once.
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    res.flushHeaders();
    const write = async (text: string) => {
      if (!res.write(text) && !connection.signal.aborted) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            connection.signal.removeEventListener('abort', done);
            resolve();
          };
          res.on('drain', done);
          connection.signal.addEventListener('abort', done, { once: true });
        });
      }
    };
    try {
      // `from`: where this stream starts (null: the beginning), for a client that has no position yet.
      await write(`retry: 1000\nevent: ready\ndata: ${JSON.stringify({ tail: tail ?? null, from: after ?? null, backlog })}\n\n`);
      let lastBeat = options.now();
      let lastTokenCheck = options.now();
      while (!connection.signal.aborted) {
        if (options.now() - lastTokenCheck > 2000) {
          lastTokenCheck = options.now();
          if ((await store.findTokenByHash(hashToken(/^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')![1]!))) === undefined) {
            await write(`event: error\ndata: ${JSON.stringify({ error: 'unauthorized', message: 'The relay token was revoked.' })}\n\n`);
            break;
          }
        }
        const page: StoredDelivery[] = await store.read(channel, after, PAGE);
        if (page.length === 0) {
          await store.waitForNew(channel, after, Math.min(heartbeatMs, 2000), connection.signal);
          // A store that wakes early must not turn this loop into one that never yields to I/O.
          await new Promise((resolve) => setImmediate(resolve));
          if (options.now() - lastBeat >= heartbeatMs) {
            await write(': keep-alive\n\n');
            lastBeat = options.now();
          }
          continue;
        }
        let skipped = false;
        for (const delivery of page) {
          if (filter(delivery.body)) {
            const data = { path: delivery.path, receivedAt: delivery.receivedAt, headers: delivery.headers, body: delivery.body.toString('base64') };
            await write(`id: ${delivery.id}\nevent: delivery\ndata: ${JSON.stringify(data)}\n\n`);
            skipped = false;
          } else {
            skipped = true;
          }
          after = delivery.id;
        }
        // Deliveries the filter left out still move the client's position, so a resume skips them too.
        if (skipped) await write(`id: ${after}\nevent: position\ndata: {}\n\n`);
        lastBeat = options.now();
      }
    } catch (error) {
      options.log(`a stream of channel ${channel} ended: ${(error as Error).message}`);
    } finally {
      clients--;
      streams.delete(connection);
      res.end();
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://relay');
    const parts = url.pathname.split('/');
    if (url.pathname === '/healthz') return json(res, closing ? 503 : 200, { ok: !closing, store: store.description.split(' ')[0], clients });
    if (closing) return json(res, 503, { error: 'shutting_down', message: 'The relay is stopping; retry.' });
    const channel = parts[2] ?? '';
    if ((parts[1] === 'in' || parts[1] === 'c') && CHANNEL_ID.test(channel)) {
      if (parts[1] === 'in') {
        const work = ingest(req, res, channel, url.pathname + url.search);
        ingesting.add(work);
        try {
          await work;
        } finally {
          ingesting.delete(work);
        }
        return;
      }
      if (parts.length <= 4 && (parts[3] === undefined || parts[3] === 'events')) return subscribe(req, res, channel, url.searchParams);
    }
    json(res, 404, { error: 'not_found', message: 'Deliveries go to /in/<channel>, clients subscribe to /c/<channel>.' });
  };

  const server = createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.log(`internal error: ${(error as Error).message}`);
      json(res, 500, { error: 'internal_error', message: 'The relay failed on this request.' });
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 0;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const prune = setInterval(() => void store.prune(options.now()).catch(() => {}), 10 * 60_000);
  prune.unref();
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      (closed ??= (async () => {
        closing = true;
        clearInterval(prune);
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const connection of streams) connection.abort();
        server.closeIdleConnections();
        while (ingesting.size > 0) await Promise.allSettled([...ingesting]);
        await store.close();
        server.closeAllConnections();
        await stopped;
      })()),
  };
}
