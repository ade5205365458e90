import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { HeaderBag } from '../core/verdict.js';
import { writeFileAtomicAsync } from '../fs/atomic-file.js';
import { filterToQuery, type RelayFilter } from './filter.js';
import { SseParser } from './sse.js';

/**
 * `gemwh listen --relay`: subscribes to a relay channel and hands each delivery, byte-exact with
 * its original headers, to the listener's own HTTP receiver on loopback, so verification,
 * journaling, dedup, forwarding and the live view treat it exactly like a direct delivery. The
 * resume position (the SSE event id) is written, atomically, only after the listener answered:
 * a crash between that answer and the write re-sends one delivery, which the listener's dedup
 * (by webhook-id, across restarts through the journal) acknowledges without forwarding it twice.
 */

export interface RelayClientOptions {
  /** https://relay.example/c/<channel> */
  relayUrl: URL;
  token: string;
  filter: RelayFilter;
  /** The listener's URL (session.url). */
  deliverTo: string;
  /** Where the resume position is kept; undefined keeps it in memory only (--no-journal). */
  positionFile?: string;
  /** The relay's state in words, for the live view / NDJSON / stderr (listen's warning path). */
  status: (message: string) => void;
  /** Signs the relay's receipt time, so the listener can check freshness against it (see relayClock). */
  clock: RelayClock;
  signal: AbortSignal;
  /** Reconnect backoff. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** No byte (not even the relay's keep-alive comment) for this long: the connection is dead. */
  idleTimeoutMs?: number;
}

export interface RelayClient {
  /** Resolves when the client stopped (the signal aborted). */
  done: Promise<void>;
}

/** Headers that belong to one hop (the relay's, or the connection to it), not to the delivery. */
const HOP_BY_HOP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'te', 'trailer', 'upgrade', 'expect', 'proxy-connection', 'proxy-authorization']);

export const RELAY_TIME_HEADER = 'gemwh-relay-received-at';

/**
 * A delivery that waited at the relay while a laptop slept has an old webhook-timestamp: checked
 * against the time it reached the listener it would be refused as too old. The client adds the
 * relay's receipt time, signed with a key that never leaves this process, and the listener checks
 * freshness against that time instead. Nobody else can produce the header (a forged or replayed
 * one is ignored and the delivery is checked against the clock as usual).
 */
export interface RelayClock {
  stamp(receivedAt: number, body: Buffer): string;
  /** The signed receipt time in `headers`, or undefined. */
  receivedAt(headers: HeaderBag, body: Buffer): number | undefined;
}

export function createRelayClock(key: Buffer = randomBytes(32)): RelayClock {
  const mac = (receivedAt: number, body: Buffer) => createHmac('sha256', key).update(`${receivedAt}.`).update(createHash('sha256').update(body).digest()).digest('hex');
  return {
    stamp: (receivedAt, body) => `${receivedAt}.${mac(receivedAt, body)}`,
    receivedAt: (headers, body) => {
      const raw = headers[RELAY_TIME_HEADER];
      const value = Array.isArray(raw) ? raw[0] : raw;
      const match = typeof value === 'string' ? /^(\d{1,15})\.([0-9a-f]{64})$/.exec(value) : null;
      if (!match) return undefined;
      const at = Number(match[1]);
      const expected = Buffer.from(mac(at, body), 'hex');
      return timingSafeEqual(expected, Buffer.from(match[2]!, 'hex')) ? at : undefined;
    },
  };
}

interface DeliveryData {
  path: string;
  receivedAt: number;
  headers: Array<[string, string]>;
  body: string;
}

class Stopped extends Error {}

/** The saved position of a client that first connected to an empty channel: everything kept. */
const FROM_START = 'start';

export function startRelayClient(options: RelayClientOptions): RelayClient {
  const retryInitialMs = options.retryInitialMs ?? 500;
  const retryMaxMs = options.retryMaxMs ?? 30_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const deliverTo = new URL(options.deliverTo);
  if (deliverTo.hostname === '0.0.0.0') deliverTo.hostname = '127.0.0.1';
  if (deliverTo.hostname === '[::]') deliverTo.hostname = '[::1]';
  const where = `${options.relayUrl.origin}${options.relayUrl.pathname}`;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        options.signal.removeEventListener('abort', done);
        resolve();
      }
      options.signal.addEventListener('abort', done, { once: true });
    });

  /** Posts one delivery to the listener until it answers below 500 (an answer is a decision; 5xx and no answer are not). */
  const handOver = async (data: DeliveryData): Promise<void> => {
    const body = Buffer.from(data.body, 'base64');
    const headers: Array<[string, string]> = data.headers.filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase()) && name.toLowerCase() !== RELAY_TIME_HEADER);
    const flat = headers.flat();
    flat.push('host', deliverTo.host, 'content-length', String(body.length), RELAY_TIME_HEADER, options.clock.stamp(data.receivedAt, body));
    let delay = retryInitialMs;
    for (;;) {
      if (options.signal.aborted) throw new Stopped();
      const status = await new Promise<number | string>((resolve) => {
        const req = httpRequest(deliverTo, { method: 'POST', headers: flat, agent, timeout: 60_000 }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', (e) => resolve(e.message));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? e.message));
        req.end(body);
      });
      if (typeof status === 'number' && status > 0 && status < 500) return;
      options.status(`relay: the local listener did not take a delivery (${status}); trying again in ${Math.round(delay / 1000)}s`);
      await sleep(delay);
      delay = Math.min(delay * 2, retryMaxMs);
    }
  };

  // The position file trails the deliveries by at most one write: while one is being fsynced the
  // newest id waits, and the stream goes on. A crash in that window re-sends a few deliveries,
  // which the listener's dedup acknowledges without forwarding them again.
  let writing: Promise<void> | undefined;
  let unsaved: string | undefined;
  const persist = async (file: string) => {
    while (unsaved !== undefined) {
      const id = unsaved;
      unsaved = undefined;
      try {
        await writeFileAtomicAsync(file, `${id}\n`, { mode: 0o600 });
      } catch (error) {
        options.status(`relay: cannot save the resume position in ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
    }
    writing = undefined;
  };
  const savePosition = (id: string) => {
    position = id;
    if (!options.positionFile) return;
    unsaved = id;
    writing ??= persist(options.positionFile);
  };

  let position: string | undefined;

  /** One connection: resolves when it ends (by the relay, the network, or a stop); throws a message for a refusal. */
  const connect = (): Promise<{ refused?: string }> =>
    new Promise((resolve) => {
      const url = new URL(options.relayUrl);
      filterToQuery(options.filter, url.searchParams);
      const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${options.token}`, 'cache-control': 'no-cache' };
      if (position === FROM_START) url.searchParams.set('from', 'start');
      else if (position !== undefined) headers['last-event-id'] = position;
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      let settled = false;
      const finish = (result: { refused?: string }) => {
        if (settled) return;
        settled = true;
        options.signal.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const req = send(url, { method: 'GET', headers, timeout: idleTimeoutMs }, (res) => void consume(res).then(finish, (e: unknown) => finish(e instanceof Stopped ? {} : { refused: undefined })));
      const onAbort = () => req.destroy();
      options.signal.addEventListener('abort', onAbort, { once: true });
      // No byte for idleTimeoutMs (the relay sends a comment every 15 s): the connection is dead.
      req.on('timeout', () => req.destroy(new Error('no data from the relay')));
      req.on('error', (e) => {
        lastError = (e as NodeJS.ErrnoException).code ?? e.message;
        finish({});
      });
      req.end();
    });

  let lastError = '';
  let caughtUp = true;

  const consume = async (res: IncomingMessage): Promise<{ refused?: string }> => {
    if (res.statusCode !== 200 || !String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
      const text = await readAll(res);
      let message = text.slice(0, 200);
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // not the relay's JSON: show the start of it
      }
      return { refused: `HTTP ${res.statusCode}: ${message}` };
    }
    connectedOnce = true;
    retry = retryInitialMs;
    const parser = new SseParser();
    let backlog = 0;
    let handed = 0;
    for await (const chunk of res) {
      for (const event of parser.push(chunk as Buffer)) {
        if (event.event === 'ready') {
          const ready = JSON.parse(event.data) as { backlog?: number; from?: string | null };
          // The first connection starts at the relay's newest delivery: from then on nothing may be
          // missed, even if this listener stops before the next one arrives.
          if (position === undefined) savePosition(ready.from ?? FROM_START);
          backlog = ready.backlog ?? 0;
          caughtUp = backlog === 0;
          options.status(backlog > 0 ? `relay: connected to ${where}, catching up ${backlog} deliveries` : `relay: connected to ${where}`);
        } else if (event.event === 'delivery' && event.id !== undefined) {
          await handOver(JSON.parse(event.data) as DeliveryData);
          savePosition(event.id);
          handed++;
          if (!caughtUp && handed >= backlog) {
            caughtUp = true;
            options.status(`relay: caught up (${handed} deliveries)`);
          }
        } else if (event.event === 'position' && event.id !== undefined) {
          savePosition(event.id);
        } else if (event.event === 'error') {
          const error = JSON.parse(event.data) as { message?: string };
          return { refused: error.message ?? 'the relay ended the stream' };
        }
      }
    }
    lastError = 'the relay closed the stream';
    return {};
  };

  let connectedOnce = false;
  let retry = retryInitialMs;

  const loop = async () => {
    if (options.positionFile) {
      const saved = await readFile(options.positionFile, 'utf8').catch(() => '');
      if (saved.trim() !== '') position = saved.trim();
    }
    while (!options.signal.aborted) {
      const result = await connect();
      if (options.signal.aborted) break;
      // A refusal (bad token, unknown channel) will not fix itself in a second: wait longest.
      const delay = result.refused !== undefined ? retryMaxMs : retry;
      const why = result.refused ?? (lastError || 'the connection ended');
      options.status(`relay: ${connectedOnce ? 'disconnected' : 'cannot connect'} (${why}); retrying in ${Math.max(1, Math.round(delay / 1000))}s`);
      await sleep(delay);
      retry = Math.min(retry * 2, retryMaxMs);
    }
    await writing;
    agent.destroy();
  };

  return { done: loop().catch((error: unknown) => options.status(`relay: stopped: ${(error as Error).message}`)) };
}

async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    if (size < 64 * 1024) chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return Buffer.concat(chunks).toString('utf8');
}
