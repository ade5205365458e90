import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Jwks } from '../core/jwt-sign.js';
import { UsageError } from '../errors.js';

/**
 * The JWKS a receiver under `conformance --dynamic` fetches its keys from, served on loopback
 * for the length of the run. Only GET /.well-known/jwks.json (and /jwks.json) answer.
 */

export const JWKS_PATH = '/.well-known/jwks.json';

export interface JwksServer {
  url: string;
  /** How many times the JWKS was fetched: tells a user whether the receiver looked at all. */
  fetches(): number;
  close(): Promise<void>;
}

export async function startJwksServer(jwks: Jwks, port = 0, host = '127.0.0.1'): Promise<JwksServer> {
  const body = JSON.stringify(jwks);
  let fetches = 0;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if ((req.method === 'GET' || req.method === 'HEAD') && (path === JWKS_PATH || path === '/jwks.json')) {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`gemwh serves the JWKS at ${JWKS_PATH}\n`);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new UsageError(`--jwks-port ${port}: the port is already in use on ${host}`, {
              hint: 'Stop what is using it or pick another port (and point your receiver at the new JWKS URL).',
              cause: error,
            })
          : error,
      );
    });
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}${JWKS_PATH}`,
    fetches: () => fetches,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
