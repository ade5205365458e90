import { createHmac, createPublicKey, timingSafeEqual, verify as rsaVerify, type JsonWebKey } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { verifyDynamic } from '../../src/core/jwt.js';
import { verifyStatic } from '../../src/core/standard-webhooks.js';
import { createRemoteJwksSource } from '../../src/jwks/jwks-source.js';
import { closeServer, listenOnLoopback } from '../helpers/loopback.js';

/**
 * Small webhook receivers for the conformance tests: one correct receiver built on gemwh's core,
 * and hand-written ones, each with one mistake people really make. All on 127.0.0.1, port 0.
 */

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  /** Names as they came on the wire, before node lower-cased them. */
  rawHeaders: string[];
  body: Buffer;
}

/** Status to answer, or 'destroy' to drop the connection without an answer. */
export type Handler = (request: ReceivedRequest) => number | 'destroy' | Promise<number | 'destroy'>;

export interface TestReceiver {
  url: string;
  /** Requests that reached the handler. */
  count(): number;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  /** Wait this long before answering each request. */
  delayMs?: number;
  /** Stop reading a body past this size (a receiver with a body limit answers 413). */
  maxBodyBytes?: number;
}

/** `makeHandler` gets the receiver's own URL (dynamic receivers expect it as the JWT audience). */
export async function startReceiver(makeHandler: (url: string) => Handler, options: ReceiverOptions = {}): Promise<TestReceiver> {
  let count = 0;
  let handler: Handler = () => 503;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (options.maxBodyBytes !== undefined && size > options.maxBodyBytes) {
        res.writeHead(413, { connection: 'close' }).end('body too large');
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', async () => {
      count += 1;
      const outcome = await handler({ headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks) });
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      if (outcome === 'destroy') {
        req.socket.destroy();
        return;
      }
      res.writeHead(outcome, { 'content-type': 'text/plain' }).end(outcome < 300 ? 'ok' : 'refused');
    });
  });
  const port = await listenOnLoopback(server);
  const url = `http://127.0.0.1:${port}/webhook`;
  handler = makeHandler(url);
  return {
    url,
    count: () => count,
    close: () => closeServer(server),
  };
}

const header = (headers: IncomingHttpHeaders, name: string) => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
};

/** The correct static receiver: gemwh's own verifier, 5-minute tolerance, 400/401 on refusal. */
export function correctStatic(secret: string): Handler {
  return ({ headers, body }) => {
    const verdict = verifyStatic({ rawBody: body, headers, secrets: [{ secret, label: 'test' }], now: Date.now(), toleranceSec: 300 });
    if (verdict.ok) return 204;
    return verdict.reason === 'missing_header' ? 400 : 401;
  };
}

/** The correct dynamic receiver: gemwh's verifyDynamic against the JWKS URL gemwh prints. */
export function correctDynamic(jwksUrl: string, audience: string): Handler {
  const keys = createRemoteJwksSource({ url: jwksUrl, now: () => Date.now(), cooldownMs: 0 });
  return async ({ headers, body }) => {
    const verdict = await verifyDynamic({ rawBody: body, headers, now: Date.now(), keys, audience });
    return verdict.ok ? 200 : 401;
  };
}

export interface StaticFlaws {
  /** Verifies JSON.stringify(JSON.parse(body)) instead of the raw bytes. */
  reserialize?: boolean;
  /** Takes everything after the first comma of the header as the one signature. */
  splitFirstComma?: boolean;
  /** Never looks at the timestamp, beyond using it in the signed content. */
  skipTimestamp?: boolean;
}

/** A typical hand-written Standard Webhooks verifier; without flaws it is correct. */
export function handWrittenStatic(secret: string, flaws: StaticFlaws = {}): Handler {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return ({ headers, body }) => {
    const id = header(headers, 'webhook-id');
    const timestamp = header(headers, 'webhook-timestamp');
    const signatureHeader = header(headers, 'webhook-signature');
    if (!id || !timestamp || !signatureHeader) return 400;
    if (!flaws.skipTimestamp) {
      if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return 401;
    }
    const payload = flaws.reserialize ? JSON.stringify(JSON.parse(body.toString('utf8'))) : body.toString('utf8');
    const expected = Buffer.from(createHmac('sha256', key).update(`${id}.${timestamp}.${payload}`).digest('base64'));
    const candidates = flaws.splitFirstComma
      ? [signatureHeader.slice(signatureHeader.indexOf(',') + 1)]
      : signatureHeader
          .split(' ')
          .filter((entry) => entry.startsWith('v1,'))
          .map((entry) => entry.slice(3));
    const matches = candidates.some((candidate) => {
      const given = Buffer.from(candidate);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
    return matches ? 200 : 401;
  };
}

/**
 * Looks header names up case-sensitively, as code does that reads a plain map of the names sent
 * (some frameworks and most hand-made proxies); node's req.headers would hide the mistake.
 */
export function caseSensitiveHeaders(inner: Handler): Handler {
  return (request) => {
    const exact: IncomingHttpHeaders = {};
    for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) exact[request.rawHeaders[i] ?? ''] = request.rawHeaders[i + 1];
    return inner({ ...request, headers: exact });
  };
}

/** Acknowledges everything: what a receiver without any verification does. */
export const acceptEverything: Handler = () => 200;

/**
 * Correct, until a body over 1 MB arrives: then it drops that connection and every later one,
 * like a process that ran out of memory and whose port is now held by a dead worker.
 */
export function crashesOnBigBodies(inner: Handler): Handler {
  let crashed = false;
  return (request) => {
    if (crashed || request.body.length > 1024 * 1024) {
      crashed = true;
      return 'destroy';
    }
    return inner(request);
  };
}

/** Correct, until a request without webhook-signature arrives: then it drops every connection. */
export function diesOnMissingSignature(inner: Handler): Handler {
  let dead = false;
  return (request) => {
    if (dead || request.headers['webhook-signature'] === undefined) {
      dead = true;
      return 'destroy';
    }
    return inner(request);
  };
}

export interface DynamicFlaws {
  /** Uses the algorithm the token names (none, HS256 with the public key as secret). */
  trustAlg?: boolean;
  /** Verifies the signature but not exp or aud. */
  skipClaims?: boolean;
  /** Uses a key the token carries in its jwk header when the kid is not in the JWKS. */
  trustEmbeddedJwk?: boolean;
}

/** A hand-written JWT verifier over node:crypto; without flaws it is correct. */
export function handWrittenDynamic(jwksUrl: string, audience: string, flaws: DynamicFlaws = {}): Handler {
  return async ({ headers }) => {
    const token = header(headers, 'webhook-signature') ?? '';
    const [head = '', payload = '', signature = ''] = token.split('.');
    let jwtHeader: { alg?: string; kid?: string; jwk?: JsonWebKey };
    let claims: { exp?: number; aud?: string };
    try {
      jwtHeader = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as typeof jwtHeader;
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return 400;
    }
    const jwks = (await (await fetch(jwksUrl)).json()) as { keys: JsonWebKey[] };
    let jwk = jwks.keys.find((k) => k.kid === jwtHeader.kid);
    if (!jwk && flaws.trustEmbeddedJwk) jwk = jwtHeader.jwk;
    if (!jwk) return 401;
    const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
    const signingInput = Buffer.from(`${head}.${payload}`);
    const alg = flaws.trustAlg ? jwtHeader.alg : 'RS256';
    if (!flaws.trustAlg && jwtHeader.alg !== 'RS256') return 401;
    let valid: boolean;
    if (alg === 'none') valid = true;
    else if (alg === 'HS256') {
      const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      valid = createHmac('sha256', pem).update(signingInput).digest('base64url') === signature;
    } else valid = rsaVerify('sha256', signingInput, publicKey, Buffer.from(signature, 'base64url'));
    if (!valid) return 401;
    if (!flaws.skipClaims) {
      if (typeof claims.exp !== 'number' || claims.exp < Date.now() / 1000) return 401;
      if (claims.aud !== audience) return 401;
    }
    return 200;
  };
}
