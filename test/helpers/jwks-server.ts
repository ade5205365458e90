import { createServer, type Server } from 'node:http';
import { closedPort, closeServer, listenOnLoopback } from './loopback.js';

/** A JWKS endpoint on loopback that counts requests; tests change what it answers between calls. */
export interface JwksServer {
  url: string;
  requests: number;
  /** What the next requests get. */
  answer: { status: number; body: string; headers?: Record<string, string> };
  close(): Promise<void>;
}

export async function startJwksServer(jwks: unknown): Promise<JwksServer> {
  const state = {
    requests: 0,
    answer: { status: 200, body: JSON.stringify(jwks) } as JwksServer['answer'],
  };
  const server: Server = createServer((_req, res) => {
    state.requests += 1;
    res.writeHead(state.answer.status, { 'content-type': 'application/json', ...state.answer.headers });
    res.end(state.answer.body);
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get requests() {
      return state.requests;
    },
    set requests(value: number) {
      state.requests = value;
    },
    get answer() {
      return state.answer;
    },
    set answer(value) {
      state.answer = value;
    },
    close: () => closeServer(server),
  };
}

/** A loopback URL on which nothing listens. */
export async function unusedUrl(): Promise<string> {
  return `http://127.0.0.1:${await closedPort()}/jwks.json`;
}
