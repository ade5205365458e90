import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import type { Receiver } from '../../src/lib/answer.js';
import { gemwhFastify } from '../../src/lib/fastify.js';
import { createFetchHandler } from '../../src/lib/fetch.js';
import { createNodeMiddleware } from '../../src/lib/node.js';
import { closeServer, listenOnLoopback } from '../helpers/loopback.js';

/**
 * One small app per adapter, as the README shows them: each receives Gemini deliveries on
 * POST /webhook through gemwh/verify and acknowledges them. All on 127.0.0.1, port 0.
 */

export interface SampleApp {
  url: string;
  close(): Promise<void>;
}

export type AppKind = 'node:http' | 'express' | 'fastify' | 'hono';
export const APP_KINDS: readonly AppKind[] = ['node:http', 'express', 'fastify', 'hono'];

export async function startApp(kind: AppKind, receiver: Receiver): Promise<SampleApp> {
  switch (kind) {
    case 'node:http': {
      const middleware = createNodeMiddleware(receiver);
      const server = createServer((req, res) => {
        if (req.method === 'POST' && req.url === '/webhook') return void middleware(req, res);
        res.writeHead(404).end();
      });
      return onServer(server, await listenOnLoopback(server));
    }
    case 'express': {
      const app = express();
      // The app parses JSON everywhere else; the webhook route is mounted before that.
      app.post('/webhook', createNodeMiddleware(receiver));
      app.use(express.json());
      const server = createServer(app);
      return onServer(server, await listenOnLoopback(server));
    }
    case 'fastify': {
      const app = Fastify();
      await app.register(gemwhFastify, { receiver, path: '/webhook' });
      app.post('/other', async (request) => ({ parsed: request.body }));
      const address = await app.listen({ host: '127.0.0.1', port: 0 });
      return { url: `${address}/webhook`, close: () => app.close() };
    }
    case 'hono': {
      const app = new Hono();
      const handle = createFetchHandler(receiver);
      app.post('/webhook', (c) => handle(c.req.raw));
      const server = await new Promise<Server>((resolve) => {
        const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s as Server)) as Server;
      });
      return onServer(server, (server.address() as AddressInfo).port);
    }
  }
}

function onServer(server: Server, port: number): SampleApp {
  return { url: `http://127.0.0.1:${port}/webhook`, close: () => closeServer(server) };
}
