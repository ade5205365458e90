import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { compiledDist } from '../helpers/dist.js';
import { closedPort, listenOnLoopback } from '../helpers/loopback.js';
import { request } from 'undici';
import { startListenCli, type ListenCli } from '../helpers/listen-cli.js';
import { header, type RecordingServer } from '../helpers/recording-server.js';
import { until } from '../helpers/until.js';
import { SECRET, signedHeaders } from '../listen/helpers.js';

/** Child processes of the built CLI (`gemwh relay …`) and a real redis-server, for the relay tests. */

export type Defer = (cleanup: () => unknown) => void;

export function tempDir(defer: Defer, prefix = 'gemwh-relay-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs `gemwh relay …args` to completion; returns its exit code and output. */
export function relayAdmin(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(compiledDist(), 'cli.js'), 'relay', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: tmpdir() } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface RelayProcess {
  url: string;
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** `gemwh relay serve --json …args` as a child process; resolves once it printed its URL. */
export async function startRelay(args: string[], defer: Defer, env: Record<string, string> = {}): Promise<RelayProcess> {
  const child = spawn(process.execPath, [join(compiledDist(), 'cli.js'), 'relay', 'serve', '--json', ...args], {
    env: { PATH: process.env.PATH, HOME: tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  defer(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
    void exited.then((code) => reject(new Error(`relay serve exited with ${code}: ${stderr}`)));
  });
  lines.on('line', () => {});
  return {
    url,
    child,
    stderr: () => stderr,
    exited,
    kill: async (signal) => {
      child.kill(signal);
      return exited;
    },
  };
}

/** A channel and a token on `store`, made with the admin commands. */
export function setUpChannel(store: string): { channel: string; token: string; tokenId: string } {
  const channel = relayAdmin(['channel', 'create', '--store', store, '--json']);
  const token = relayAdmin(['token', 'create', '--store', store, '--name', 'test', '--json']);
  if (channel.code !== 0 || token.code !== 0) throw new Error(`setting up the relay failed: ${channel.stderr} ${token.stderr}`);
  const { id } = JSON.parse(channel.stdout) as { id: string };
  const created = JSON.parse(token.stdout) as { id: string; token: string };
  return { channel: id, token: created.token, tokenId: created.id };
}

export function redisAvailable(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

/** Whether a missing redis-server fails the tests instead of skipping them (CI). */
export function redisRequired(): boolean {
  return process.env.CI === 'true' || process.env.GEMWH_REQUIRE_REDIS === '1';
}

/** A private redis-server on a free loopback port, nothing persisted, stopped after the test. */
export async function startRedis(defer: Defer): Promise<string> {
  const dir = tempDir(defer, 'gemwh-redis-');
  // Redis cannot take port 0: take a port node just found free.
  const port = await closedPort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  defer(async () => {
    child.kill('SIGKILL');
    await exited;
  });
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  await until('redis-server to accept connections', () => out.includes('Ready to accept connections') || undefined, {
    timeoutMs: 10_000,
    describe: () => out,
    giveUpIf: () => (child.exitCode !== null ? 'redis-server exited' : undefined),
  });
  return `redis://127.0.0.1:${port}`;
}

/**
 * A TCP load balancer on loopback: each connection goes to the first backend that accepts it,
 * so a client behind it lands on another instance when the one it used dies.
 */
export async function startBalancer(backends: string[], defer: Defer): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.pause();
    const tryBackend = (index: number) => {
      if (index >= backends.length) return client.destroy();
      const url = new URL(backends[index]!);
      const upstream = createConnection({ host: url.hostname, port: Number(url.port) });
      upstream.once('error', () => tryBackend(index + 1));
      upstream.once('connect', () => {
        sockets.add(upstream);
        upstream.removeAllListeners('error');
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        upstream.on('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryBackend(0);
  });
  const port = await listenOnLoopback(server);
  defer(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${port}`;
}

export function payload(n: number, metadata: Record<string, string> = {}): string {
  return JSON.stringify({ type: 'batch.succeeded', version: 'v1', timestamp: '2026-05-04T12:00:00Z', data: { id: `batches/${n}`, user_metadata: metadata } });
}

export async function deliver(ingest: string, body: string, headers = signedHeaders(body)): Promise<number> {
  const response = await request(ingest, { method: 'POST', headers, body });
  await response.body.text();
  return response.statusCode;
}

export async function listenViaRelay(defer: Defer, relayUrl: string, channel: string, token: string, app: RecordingServer, journal: string, extra: string[] = []): Promise<ListenCli> {
  const listen = await startListenCli(
    ['--relay', `${relayUrl}/c/${channel}`, '--secret-env', 'WEBHOOK_SECRET', '--forward', app.url, '--journal', journal, '--retry-initial', '100ms', ...extra],
    { defer, env: { GEMWH_RELAY_TOKEN: token, WEBHOOK_SECRET: SECRET } },
  );
  await listen.waitFor((line) => line.type === 'warning' && String(line.message).startsWith('relay: connected'), 'the relay client to connect', 15_000);
  return listen;
}

export function forwardedIds(app: RecordingServer): string[] {
  return app.requests.map((r) => header(r, 'webhook-id'));
}

