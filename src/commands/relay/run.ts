import { rm, writeFile } from 'node:fs/promises';
import type { Deps } from '../../deps.js';
import { NetworkError, NotFoundError, UsageError } from '../../errors.js';
import { secretsFromFlags } from '../../secrets/secret-flags.js';
import { FileRelayStore } from '../../relay/file-store.js';
import { hashToken, startRelayServer, type EdgeVerifier } from '../../relay/server.js';
import type { RelayStore } from '../../relay/types.js';
import type { CommandContext } from '../context.js';

/**
 * What the `gemwh relay` commands do. The admin commands (channel, token) open the same --store
 * as the server and edit it directly: a running relay sees the change on its next request (it
 * re-reads relay.json when it changes; Redis is shared anyway). No admin HTTP API to secure.
 */

export interface StoreOptions {
  /** A directory (embedded store) or redis://… / rediss://… */
  store: string;
  retentionMs: number;
}

export async function openRelayStore(options: StoreOptions, deps: Pick<Deps, 'clock'>): Promise<RelayStore> {
  const now = () => deps.clock.now();
  if (/^rediss?:\/\//i.test(options.store)) {
    const { openRedisStore } = await import('../../relay/redis-store.js');
    try {
      return await openRedisStore(options.store, options.retentionMs, now);
    } catch (error) {
      throw new NetworkError(`cannot connect to Redis at ${options.store.replace(/\/\/[^@/]*@/, '//…@')}: ${(error as Error).message}`, {


        hint: 'Check that Redis runs and the URL (redis://host:6379/0) is right.',
      });
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(options.store)) {
    throw new UsageError(`--store ${options.store}: expected a directory or a redis:// URL`, { hint: 'e.g. --store ./relay-data or --store redis://127.0.0.1:6379' });
  }
  return new FileRelayStore(options.store, options.retentionMs, now);
}

export interface ServeOptions extends StoreOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  verifySecretEnv: string[];
  jwksUrl?: string;
  toleranceSec: number;
  readyFile?: string;
  json: boolean;
}

export async function runRelayServe(options: ServeOptions, ctx: CommandContext): Promise<void> {
  const { deps } = ctx;
  const log = (line: string) => deps.io.stderr.write(`gemwh relay: ${line}\n`);
  const verify = await edgeVerifier(options, deps);
  const store = await openRelayStore(options, deps);
  let server;
  try {
    server = await startRelayServer({ host: options.host, port: options.port, store, maxBodyBytes: options.maxBodyBytes, verify, now: () => deps.clock.now(), log });
  } catch (error) {
    await store.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot listen on ${options.host}:${options.port}: ${code ?? (error as Error).message}`, { hint: 'Pick another --port (0: any free port).' });
  }
  try {
    if (options.readyFile) await writeFile(options.readyFile, `${server.url}\n`);
    deps.io.stdout.write(options.json ? JSON.stringify({ url: server.url, store: store.description }) + '\n' : `${server.url}\n`);
    log(`listening on ${server.url} (store: ${store.description}${verify ? ', verifying at the edge' : ''})`);
    if (!deps.signal.aborted) await new Promise<void>((resolve) => deps.signal.addEventListener('abort', () => resolve(), { once: true }));
    log('stopping: finishing the deliveries being stored');
  } finally {
    await server.close();
    if (options.readyFile) await rm(options.readyFile, { force: true }).catch(() => {});
  }
}

async function edgeVerifier(options: ServeOptions, deps: Deps): Promise<EdgeVerifier | undefined> {
  if (options.verifySecretEnv.length === 0 && options.jwksUrl === undefined) return undefined;
  const secrets = secretsFromFlags({ secrets: [], secretEnv: options.verifySecretEnv }, deps.env);
  const [{ createListenVerifier }, jwks] = await Promise.all([import('../../listen/verification.js'), import('../../jwks/jwks-source.js')]);
  const keys = options.jwksUrl === undefined ? undefined : jwks.createRemoteJwksSource({ url: options.jwksUrl, now: () => deps.clock.now(), signal: deps.signal });
  return createListenVerifier({ secrets, keys, toleranceSec: options.toleranceSec, now: () => deps.clock.now() });
}

/** 128 random bits, base64url: an ingest URL nobody can guess. */
function newChannelId(deps: Deps): string {
  return deps.random.bytes(16).toString('base64url');
}

function ingestUrls(publicUrl: string | undefined, id: string): { ingest: string; subscribe: string } {
  const base = (publicUrl ?? 'http://RELAY-HOST:8788').replace(/\/+$/, '');
  return { ingest: `${base}/in/${id}`, subscribe: `${base}/c/${id}` };
}

export interface AdminOptions extends StoreOptions {
  json: boolean;
  publicUrl?: string;
}

async function withStore<T>(options: StoreOptions, deps: Deps, work: (store: RelayStore) => Promise<T>): Promise<T> {
  const store = await openRelayStore(options, deps);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

export async function runChannelCreate(options: AdminOptions & { name: string }, ctx: CommandContext): Promise<void> {
  const { deps } = ctx;
  const id = newChannelId(deps);
  await withStore(options, deps, (store) => store.createChannel({ id, name: options.name, createdAt: deps.clock.now() }));
  const urls = ingestUrls(options.publicUrl, id);
  if (options.json) {
    deps.io.stdout.write(JSON.stringify({ id, name: options.name, ingestUrl: urls.ingest, relayUrl: urls.subscribe }) + '\n');
    return;
  }
  deps.io.stdout.write(`${urls.ingest}\n`);
  deps.io.stderr.write(
    `Channel ${id} (${options.name}) created.\n` +
      `  Register the ingest URL with Gemini:  gemwh create --uri ${urls.ingest} --events …\n` +
      `  Developers subscribe with:            gemwh listen --relay ${urls.subscribe} --relay-token-env GEMWH_RELAY_TOKEN\n`,
  );
}

export async function runChannelList(options: AdminOptions, ctx: CommandContext): Promise<void> {
  const { deps } = ctx;
  const channels = await withStore(options, deps, (store) => store.listChannels());
  channels.sort((a, b) => a.createdAt - b.createdAt);
  if (options.json) {
    deps.io.stdout.write(JSON.stringify(channels.map((c) => ({ id: c.id, name: c.name, createdAt: new Date(c.createdAt).toISOString(), ingestUrl: ingestUrls(options.publicUrl, c.id).ingest }))) + '\n');
    return;
  }
  for (const c of channels) deps.io.stdout.write(`${c.id}\t${c.name}\t${new Date(c.createdAt).toISOString()}\n`);
}

export async function runChannelDelete(options: AdminOptions & { id: string }, ctx: CommandContext): Promise<void> {
  const { deps } = ctx;
  const removed = await withStore(options, deps, (store) => store.deleteChannel(options.id));
  if (!removed) throw new NotFoundError(`no channel ${options.id} in ${options.store}`, { hint: 'gemwh relay channel list shows the channels.' });
  deps.io.stderr.write(`deleted channel ${options.id} and the deliveries kept for it\n`);
}

export async function runTokenCreate(options: AdminOptions & { name: string }, ctx: CommandContext): Promise<void> {
  const { deps } = ctx;
  const id = `tok_${deps.random.bytes(6).toString('hex')}`;
  const token = `gwr_${deps.random.bytes(24).toString('base64url')}`;
  await withStore(options, deps, (store) => store.createToken({ id, name: options.name, createdAt: deps.clock.now(), hash: hashToken(token) }));
  if (options.json) {
    deps.io.stdout.write(JSON.stringify({ id, name: options.name, token }) + '\n');
    return;
  }
  deps.io.stdout.write(`${token}\n`);
  deps.io.stderr.write(`Token ${id} (${options.name}) created. It is shown only now (the relay keeps its hash): put it in your team's secret store.\n`);
}

export async function runTokenList(options: AdminOptions, ctx: CommandContext): Promise<void> {
  const { deps } = ctx;
  const tokens = await withStore(options, deps, (store) => store.listTokens());
  tokens.sort((a, b) => a.createdAt - b.createdAt);
  if (options.json) {
    deps.io.stdout.write(JSON.stringify(tokens.map((t) => ({ id: t.id, name: t.name, createdAt: new Date(t.createdAt).toISOString() }))) + '\n');
    return;
  }
  for (const t of tokens) deps.io.stdout.write(`${t.id}\t${t.name}\t${new Date(t.createdAt).toISOString()}\n`);
}

export async function runTokenRevoke(options: AdminOptions & { id: string }, ctx: CommandContext): Promise<void> {
  const { deps } = ctx;
  const removed = await withStore(options, deps, (store) => store.revokeToken(options.id));
  if (!removed) throw new NotFoundError(`no token ${options.id} in ${options.store}`, { hint: 'gemwh relay token list shows the tokens.' });
  deps.io.stderr.write(`revoked token ${options.id}; clients using it are disconnected within seconds\n`);
}
