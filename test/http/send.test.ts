import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSender, RESPONSE_START_BYTES, type Sender, type SenderOptions, type SendResult } from '../../src/http/send.js';
import { classifySendError } from '../../src/http/send-errors.js';
import { closedPort, closeServer, listenOnLoopback } from '../helpers/loopback.js';
import { SELF_SIGNED } from '../helpers/recording-server.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function serve(handler: RequestListener, tls = false): Promise<URL> {
  const server: Server = tls ? createHttpsServer(SELF_SIGNED, handler) : createServer(handler);
  const port = await listenOnLoopback(server);
  cleanups.push(() => closeServer(server));
  return new URL(`${tls ? 'https' : 'http'}://127.0.0.1:${port}/hook?x=1`);
}

async function tcp(onConnection: (socket: import('node:net').Socket) => void): Promise<number> {
  const server: TcpServer = createTcpServer(onConnection);
  const port = await listenOnLoopback(server);
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return port;
}

async function sender(options: Partial<SenderOptions> = {}): Promise<Sender> {
  const s = await createSender({ timeoutMs: 5000, ...options });
  cleanups.push(() => s.close());
  return s;
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

describe('the one sender', () => {
  it('sends the body byte for byte and the headers in order, case and repeats as given, to the path and query given', async () => {
    let got: { url?: string; method?: string; raw: string[]; body: Buffer } | undefined;
    const url = await serve(async (req, res) => {
      got = { url: req.url, method: req.method, raw: req.rawHeaders, body: await readAll(req) };
      res.writeHead(202).end('accepted');
    });
    const body = Buffer.from([0xff, 0x00, 0x7b, 0xe2, 0x9c, 0x93, 0x0d, 0x0a]);
    const result = await (await sender()).send(url, [['X-One', '1'], ['webhook-signature', 'v1,a'], ['webhook-signature', 'v1,b']], body);
    expect(result).toMatchObject({ status: 202, responseStart: 'accepted' });
    expect(result.error).toBeUndefined();
    expect(got!.method).toBe('POST');
    expect(got!.url).toBe('/hook?x=1');
    expect(got!.body.equals(body)).toBe(true);
    expect(got!.raw.join('|')).toContain('X-One|1|webhook-signature|v1,a|webhook-signature|v1,b');
  });

  it('reports a redirect with its Location and does not follow it', async () => {
    let followed = 0;
    const elsewhere = await serve((req, res) => {
      followed += 1;
      res.end('should not be reached');
    });
    const url = await serve((req, res) => req.resume().on('end', () => res.writeHead(307, { location: elsewhere.href }).end('moved')));
    const result = await (await sender()).send(url, {}, '{}');
    expect(result).toMatchObject({ status: 307, location: elsewhere.href, responseStart: 'moved' });
    expect(followed).toBe(0);
  });

  it('keeps only the start of a large answer, without a broken character at the cut', async () => {
    const url = await serve((req, res) => req.resume().on('end', () => res.end('x'.repeat(RESPONSE_START_BYTES - 1) + '✓'.repeat(100_000))));
    const result = await (await sender()).send(url, {}, '{}');
    expect(result.status).toBe(200);
    expect(result.responseStart).toBe('x'.repeat(RESPONSE_START_BYTES - 1));
  });

  it('has one deadline for the whole exchange: an answer whose body never ends is a timeout', async () => {
    const url = await serve((req, res) => {
      req.resume();
      // Headers at once, then the body trickles and never ends.
      res.writeHead(200);
      res.write('a');
    });
    const result = await (await sender({ timeoutMs: 150 })).send(url, {}, '{}');
    expect(result.status).toBeUndefined();
    expect(result.error).toMatchObject({ kind: 'timeout', message: 'timed out: no answer within 150 ms' });
    expect(result.error!.hint).toMatch(/acknowledge first/);
  });

  it('gives every send its own deadline, also one started from the answer of a send that timed out, and not one answered in time', async () => {
    const url = await serve((req, res) => {
      req.resume();
      // /fast is answered at once; anything else never is.
      if (req.url!.startsWith('/fast')) req.on('end', () => res.end('quick'));
    });
    const s = await sender({ timeoutMs: 200 });
    const started = performance.now();
    const ended: Array<{ name: string; at: number; result: SendResult }> = [];
    const record = (name: string) => (result: SendResult) => ended.push({ name, at: performance.now() - started, result });
    const all = new Promise<void>((resolve) => {
      s.dispatch(url, [], '{}', (result) => {
        record('first')(result);
        // Sent from the callback of the one that expired: it must get a whole deadline of its own.
        s.dispatch(url, [], '{}', (third) => {
          record('third')(third);
          resolve();
        });
      });
    });
    setTimeout(() => s.dispatch(url, [], '{}', record('second')), 100);
    const fast = await s.send(new URL('/fast', url), [], '{}');
    expect(fast).toMatchObject({ status: 200, responseStart: 'quick' });
    expect(fast.error).toBeUndefined();
    await all;
    expect(ended.map((e) => e.name)).toEqual(['first', 'second', 'third']);
    for (const e of ended) expect(e.result.error).toMatchObject({ kind: 'timeout', message: 'timed out: no answer within 200 ms' });
    const [first, second, third] = ended.map((e) => e.at);
    // Node's timers may fire up to a millisecond early; each deadline is its own send's 200 ms.
    expect(first).toBeGreaterThanOrEqual(199);
    expect(second).toBeGreaterThanOrEqual(299);
    expect(third! - first!).toBeGreaterThanOrEqual(199);
    for (const e of ended) expect(e.result.latencyMs).toBeLessThan(200 + 150);
  });

  it('dispatch() calls back once per send, never from inside the call, also when the sender is closed', async () => {
    const url = await serve((req, res) => req.resume().on('end', () => res.end('ok')));
    const s = await createSender({ timeoutMs: 5000 });
    let calls = 0;
    let returned = false;
    const answered = new Promise<SendResult>((resolve) =>
      s.dispatch(url, ['x-one', '1'], '{}', (result) => {
        calls += 1;
        resolve(result);
      }),
    );
    expect((await answered).status).toBe(200);
    await s.close('closed for the test');
    const refused = new Promise<SendResult>((resolve) => {
      s.dispatch(url, [], '{}', (result) => {
        expect(returned).toBe(true);
        resolve(result);
      });
      returned = true;
    });
    expect((await refused).error).toMatchObject({ kind: 'aborted', message: 'aborted: closed for the test' });
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(1);
  });

  it('uses a fresh connection per send when keep-alive is off', async () => {
    const sockets = new Set<unknown>();
    const url = await serve((req, res) => {
      sockets.add(req.socket);
      req.resume().on('end', () => res.end('ok'));
    });
    const fresh = await sender({ keepAlive: false });
    for (let i = 0; i < 3; i++) expect((await fresh.send(url, {}, '{}')).status).toBe(200);
    expect(sockets.size).toBe(3);
  });

  it('stops a send when its signal aborts, and every send in flight on close()', async () => {
    const url = await serve(() => {
      // never answers
    });
    const s = await createSender({ timeoutMs: 5000 });
    const controller = new AbortController();
    const interrupted = s.send(url, {}, '{}', { signal: controller.signal });
    const closed = s.send(url, {}, '{}');
    setTimeout(() => controller.abort(), 20);
    expect((await interrupted).error).toMatchObject({ kind: 'aborted', message: 'aborted: interrupted' });
    await s.close('the listener is stopping');
    expect((await closed).error).toMatchObject({ kind: 'aborted', message: 'aborted: the listener is stopping' });
    expect((await s.send(url, {}, '{}')).error?.kind).toBe('aborted');
  });
});

describe('each failure, classified with its hint', () => {
  it('refused: nothing listens', async () => {
    const url = new URL(`http://127.0.0.1:${await closedPort()}/`);
    const { error } = await (await sender()).send(url, {}, '{}');
    expect(error).toMatchObject({ kind: 'refused', message: 'connection refused' });
    expect(error!.hint).toContain(`it must listen on ${url.host}`);
  });

  it('reset: something takes the connection and drops it without an answer', async () => {
    const port = await tcp((socket) => socket.once('data', () => socket.destroy()));
    const { error } = await (await sender()).send(new URL(`http://127.0.0.1:${port}/`), {}, '{}');
    expect(error?.kind).toBe('reset');
    expect(error!.message).toMatch(/^connection closed without an answer/);
    expect(error!.hint).toMatch(/took the connection/);
  });

  it('tls: a self-signed certificate is refused unless insecure, and the hint names --insecure', async () => {
    const url = await serve((req, res) => req.resume().on('end', () => res.end('ok')), true);
    const { error } = await (await sender()).send(url, {}, '{}');
    expect(error?.kind).toBe('tls');
    expect(error!.message).toMatch(/^untrusted TLS certificate \(.+\)$/);
    expect(error!.hint).toMatch(/--insecure/);
    expect(await (await sender({ insecure: true })).send(url, {}, '{}')).toMatchObject({ status: 200, responseStart: 'ok' });
  });

  it.each([false, true])('plain_http: an https URL for a plain-HTTP receiver (insecure %s)', async (insecure) => {
    const url = await serve((req, res) => req.resume().on('end', () => res.end('ok')));
    const https = new URL(url.href.replace(/^http:/, 'https:'));
    const { error } = await (await sender({ insecure })).send(https, {}, '{}');
    expect(error).toMatchObject({ kind: 'plain_http', message: 'the target speaks plain HTTP: use http://' });
    expect(error!.hint).toContain(url.href);
    expect(error!.hint).not.toMatch(/--insecure/);
  });

  it('timeout: connected, no answer', async () => {
    const url = await serve((req: IncomingMessage, _res: ServerResponse) => req.resume());
    const { error } = await (await sender({ timeoutMs: 100 })).send(url, {}, '{}');
    expect(error).toMatchObject({ kind: 'timeout', message: 'timed out: no answer within 100 ms' });
  });

  // Name resolution is not done for real in tests (loopback only): the shapes Node and undici give.
  it.each([
    [{ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND app.invalid' }],
    [{ message: 'fetch failed', cause: { code: 'EAI_AGAIN', message: 'getaddrinfo EAI_AGAIN app.invalid' } }],
  ])('dns: a host name that does not resolve (%j)', (error) => {
    const failure = classifySendError(error, { url: new URL('https://app.invalid/hook'), timeoutMs: 5000 });
    expect(failure).toMatchObject({ kind: 'dns', message: 'host not found (app.invalid)' });
    expect(failure.hint).toMatch(/host name/);
  });

  it('looks inside the AggregateError of a connection tried on both 127.0.0.1 and ::1', () => {
    const error = Object.assign(new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:3000'), { code: 'ECONNREFUSED' })], ''), {});
    expect(classifySendError(error, { url: new URL('http://localhost:3000/'), timeoutMs: 5000 }).kind).toBe('refused');
  });
});
