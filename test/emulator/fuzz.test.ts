import { request as httpRequest, Agent } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { closedPort } from '../helpers/loopback.js';
import { perTest } from '../helpers/per-test.js';

/**
 * A bounded, seeded fuzz of the emulator's HTTP API: random methods, paths, queries, headers and
 * bodies (valid ones mutated, hostile names, deep nesting, wrong types), and raw-socket garbage.
 * Whatever arrives, the emulator must not crash or answer 5xx, and every 4xx it writes must be in
 * Google's error shape. The seed is printed; GEMWH_FUZZ_SEED=<seed> replays a run.
 * Every URI the fuzz can register is a closed loopback port: nothing leaves the machine.
 */

const { emulator } = perTest();

const SEED = process.env.GEMWH_FUZZ_SEED ? Number(process.env.GEMWH_FUZZ_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const REQUESTS = 500;
const RAW_CONNECTIONS = 120;

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T,>(items: readonly T[]): T => items[int(items.length)]!;
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
type Rng = ReturnType<typeof prng>;

const HOSTILE_NAMES = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'prototype', 'then', 'length'];
const EVENTS = ['batch.succeeded', 'batch.failed', 'batch.expired', 'interaction.completed', 'interaction.failed', 'interaction.requires_action', 'video.generated', 'batch.cancelled', 'x', ''];
const ODD_STRINGS = ['', ' ', '\u0000', '%', '%ZZ', '../..', '//x:y', '\\', '\ud800', 'é', '💥', 'a'.repeat(3000), '{}', 'null', '-1', '1e309'];

function randomString(rng: Rng): string {
  if (rng.chance(0.5)) return rng.pick(ODD_STRINGS);
  const length = rng.int(20);
  let text = '';
  for (let i = 0; i < length; i++) text += String.fromCharCode(rng.chance(0.9) ? 32 + rng.int(95) : rng.int(0xffff));
  return text;
}

function randomValue(rng: Rng, depth: number): unknown {
  switch (rng.int(depth > 3 ? 5 : 8)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -1, 1.5, 2 ** 53, -(2 ** 31), 1e308]);
    case 3:
    case 4:
      return randomString(rng);
    case 5:
      return Array.from({ length: rng.int(4) }, () => randomValue(rng, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = rng.int(4); i > 0; i--) object[rng.chance(0.3) ? rng.pick(HOSTILE_NAMES) : randomString(rng)] = randomValue(rng, depth + 1);
      return object;
    }
  }
}

/** Deep nesting past what a recursive reader survives, as JSON text. */
function deepJson(rng: Rng): string {
  const depth = rng.pick([100, 5_000, 50_000]);
  return rng.chance(0.5) ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

interface Context {
  ids: string[];
  jobIds: string[];
  uris: string[];
  apiKey: string;
}

function validWebhook(rng: Rng, ctx: Context): Record<string, unknown> {
  return { uri: rng.pick(ctx.uris), subscribed_events: [rng.pick(EVENTS.slice(0, 7))], ...(rng.chance(0.5) ? { name: randomString(rng) } : {}) };
}

function mutate(rng: Rng, value: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...value };
  const keys = Object.keys(copy);
  switch (rng.int(4)) {
    case 0:
      if (keys.length > 0) copy[rng.pick(keys)] = randomValue(rng, 0);
      break;
    case 1:
      if (keys.length > 0) delete copy[rng.pick(keys)];
      break;
    case 2:
      Object.defineProperty(copy, rng.pick(HOSTILE_NAMES), { value: randomValue(rng, 0), enumerable: true, configurable: true, writable: true });
      break;
    default:
      copy.subscribed_events = Array.from({ length: rng.int(3) }, () => rng.pick(EVENTS));
  }
  return copy;
}

function randomBody(rng: Rng, ctx: Context, path: string): string | Buffer | undefined {
  switch (rng.int(10)) {
    case 0:
      return undefined;
    case 1:
      return deepJson(rng);
    case 2:
      return Buffer.from(Array.from({ length: rng.int(64) }, () => rng.int(256)));
    case 3:
      return JSON.stringify(randomValue(rng, 0));
    case 4: {
      const name = rng.pick(HOSTILE_NAMES);
      return `{"${name}":${JSON.stringify(randomValue(rng, 1))},"uri":"${rng.pick(ctx.uris)}","subscribed_events":["batch.succeeded"]}`;
    }
    default: {
      if (path.includes('interactions')) {
        return JSON.stringify(mutate(rng, { model: 'm', input: 'x', background: true, webhook_config: { uris: [rng.pick(ctx.uris)], user_metadata: randomValue(rng, 1) } }));
      }
      if (path.includes('batchGenerateContent')) {
        return JSON.stringify(mutate(rng, { batch: mutate(rng, { input_config: { file_name: 'files/x' }, webhook_config: { uris: [rng.pick(ctx.uris)] } }) }));
      }
      if (path.includes('predictLongRunning')) {
        return JSON.stringify(mutate(rng, { instances: [{ prompt: 'x' }], webhookConfig: { uris: [rng.pick(ctx.uris)] } }));
      }
      if (path.includes('rotateSigningSecret')) return JSON.stringify(mutate(rng, { revocation_behavior: 'revoke_previous_secrets_immediately' }));
      if (path.includes('trigger')) return JSON.stringify(mutate(rng, { type: rng.pick(EVENTS), webhook_ids: [rng.pick(ctx.ids)] }));
      return JSON.stringify(rng.chance(0.2) ? validWebhook(rng, ctx) : mutate(rng, validWebhook(rng, ctx)));
    }
  }
}

/** encodeURIComponent that takes lone surrogates too (as U+FFFD, the way UTF-8 encoding does). */
function enc(text: string): string {
  return encodeURIComponent(Buffer.from(text, 'utf8').toString('utf8'));
}

function randomSegment(rng: Rng, ctx: Context): string {
  const id = rng.chance(0.6) && ctx.ids.length > 0 ? rng.pick(ctx.ids) : randomString(rng);
  return rng.chance(0.8) ? enc(id) : id.replace(/[\s#?]/g, '');
}

function randomPath(rng: Rng, ctx: Context): string {
  const version = rng.pick(['v1', 'v1beta', 'v1', 'v2', '']);
  const id = randomSegment(rng, ctx);
  const job = rng.chance(0.5) && ctx.jobIds.length > 0 ? rng.pick(ctx.jobIds) : randomSegment(rng, ctx);
  const templates = [
    `/${version}/webhooks`,
    `/${version}/webhooks/${id}`,
    `/${version}/webhooks/${id}:ping`,
    `/${version}/webhooks/${id}:rotateSigningSecret`,
    `/${version}/webhooks/${id}:${randomSegment(rng, ctx)}`,
    `/${version}/interactions`,
    `/${version}/interactions/${job}`,
    `/${version}/interactions/${job}/cancel`,
    `/${version}/models/${randomSegment(rng, ctx)}:batchGenerateContent`,
    `/${version}/models/veo:predictLongRunning`,
    `/${version}/batches/${job}`,
    `/${version}/batches/${job}:cancel`,
    `/${version}/operations/${job}`,
    `/${version}/models/veo/operations/${job}`,
    '/_emulator/trigger',
    '/_emulator/deliveries',
    '/_emulator/jwks/rotate',
    '/.well-known/jwks.json',
    `//${randomSegment(rng, ctx)}/${version}/webhooks`,
    `/${randomString(rng).replace(/[\s#?]/g, '')}`,
    `/${version}/webhooks/%2e%2e/${id}`,
    `/${version}/webhooks\\${id}`,
  ];
  return rng.pick(templates);
}

function randomQuery(rng: Rng, ctx: Context): string {
  const params: string[] = [];
  for (let i = rng.int(4); i > 0; i--) {
    const name = rng.pick(['page_size', 'pageSize', 'page_token', 'update_mask', 'updateMask', 'key', 'webhook', 'delivery', 'include_input', 'alt', '%00', ...HOSTILE_NAMES]);
    const value = rng.pick([String(rng.int(2000) - 100), '*', 'name,uri', 'subscribedEvents', 'id', ctx.apiKey, randomString(rng), '1e3', '9'.repeat(30)]);
    params.push(`${enc(name)}=${rng.chance(0.8) ? enc(value) : value.replace(/[\s#]/g, '')}`);
  }
  return params.length > 0 ? `?${params.join('&')}` : '';
}

/** Node's client refuses a request target with bytes outside 0x21-0xff: those are percent-encoded (raw garbage tests the rest). */
function sendable(target: string): string {
  return target.replace(/[^\u0021-\u00ff]/g, (c) => [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''));
}

interface Answer {
  status: number;
  body: string;
}

function send(agent: Agent, port: number, method: string, target: string, headers: Record<string, string>, body: string | Buffer | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path: target, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function rawGarbage(rng: Rng, apiKey: string): Buffer {
  const pieces = [
    () => Buffer.from(Array.from({ length: 1 + rng.int(200) }, () => rng.int(256))),
    () => Buffer.from(`GET http://[/ HTTP/1.1\r\nhost: x\r\nx-goog-api-key: ${apiKey}\r\n\r\n`),
    () => Buffer.from(`${rng.pick(['GET', 'POST', 'BREW', 'G ET'])} ${randomString(rng).replace(/[\r\n]/g, '')} HTTP/1.1\r\nhost: x\r\n\r\n`),
    () => Buffer.from(`POST /v1/webhooks HTTP/1.1\r\nhost: x\r\nx-goog-api-key: ${apiKey}\r\ntransfer-encoding: chunked\r\n\r\n${rng.pick(['zz', '5\r\nabc', 'ffffffffffff\r\n', '-1\r\n'])}\r\n`),
    () => Buffer.from(`POST /v1/webhooks HTTP/1.1\r\nhost: x\r\nx-goog-api-key: ${apiKey}\r\ncontent-length: ${rng.pick(['10', '-1', 'abc', '99999999999'])}\r\n\r\n{"uri":`),
    () => Buffer.from(`GET /v1/webhooks HTTP/1.1\r\nhost: x\r\nx-${'a'.repeat(rng.int(100))}: ${'b'.repeat(rng.pick([10, 20_000, 70_000]))}\r\n\r\n`),
    () => Buffer.from(`GET /v1/webhooks HTTP/1.1\r\nx-goog-api-key: ${apiKey}\r\n\r\n`),
  ];
  return rng.pick(pieces)();
}

/** Sends bytes, then reads whatever comes back until the server closes or a short idle passes. */
function rawExchange(port: number, bytes: Buffer, hangUpEarly: boolean): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    socket.on('connect', () => {
      if (hangUpEarly) {
        socket.write(bytes.subarray(0, Math.ceil(bytes.length / 2)));
        setImmediate(finish);
        return;
      }
      socket.write(bytes);
      socket.end();
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', finish);
    socket.on('close', finish);
    // A request the server still waits on (a promised body that never comes) is ended by us.
    timer = setTimeout(finish, 300);
  });
}

function checkAnswer(answer: Answer, label: string): void {
  expect(answer.status, `${label}: no 5xx for a client mistake`).toBeLessThan(500);
  if (answer.status < 400 || answer.body === '') return;
  let parsed: { error?: { code?: unknown; message?: unknown; status?: unknown } };
  try {
    parsed = JSON.parse(answer.body) as typeof parsed;
  } catch {
    throw new Error(`${label}: a ${answer.status} whose body is not JSON: ${answer.body.slice(0, 200)}`);
  }
  expect(parsed.error, `${label}: Google's error shape`).toMatchObject({ code: answer.status, message: expect.any(String), status: expect.any(String) });
}

describe(`emulator API fuzz (seed ${SEED}; replay with GEMWH_FUZZ_SEED=${SEED})`, () => {
  it('answers every random request without a crash, a 5xx, or an error outside Google\'s shape', async () => {
    console.log(`emulator fuzz seed: ${SEED} (replay: GEMWH_FUZZ_SEED=${SEED})`);
    const rng = prng(SEED);
    const internalErrors: unknown[] = [];
    // Jobs never end and deliveries go to a closed loopback port: the fuzz never reaches out.
    const e = await emulator({ onInternalError: (error) => internalErrors.push(error), jobs: { delayMs: 3_600_000 } });
    const closed = await closedPort();
    const ctx: Context = {
      ids: [],
      jobIds: [],
      uris: [`http://127.0.0.1:${closed}/hook`, `https://127.0.0.1:${closed}/h?x=1`, `http://[::1]:${closed}/`, 'ftp://127.0.0.1/x', 'not a url', ''],
      apiKey: e.apiKey,
    };
    for (let i = 0; i < 3; i++) ctx.ids.push(e.store.create({ uri: ctx.uris[0]!, subscribed_events: ['batch.succeeded'] }).id);
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    try {
      const batch: Array<Promise<void>> = [];
      for (let i = 0; i < REQUESTS; i++) {
        const method = rng.pick(['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS', 'HEAD', 'POST', 'POST', 'PATCH']);
        const path = randomPath(rng, ctx);
        const target = sendable(`${path}${randomQuery(rng, ctx)}`);
        const body = method === 'GET' || method === 'HEAD' ? (rng.chance(0.1) ? randomBody(rng, ctx, path) : undefined) : randomBody(rng, ctx, path);
        const headers: Record<string, string> = {};
        const key = rng.int(10);
        if (key < 7) headers['x-goog-api-key'] = e.apiKey;
        else if (key === 7) headers['x-goog-api-key'] = randomString(rng).replace(/[^\x21-\x7e]/g, '') || 'k';
        if (body !== undefined) headers['content-type'] = rng.pick(['application/json', 'text/plain', 'application/json; charset=latin1', '']);
        if (rng.chance(0.05)) headers['content-encoding'] = 'gzip';
        const label = `#${i} ${method} ${target.slice(0, 120)}`;
        batch.push(
          send(agent, e.port, method, target, headers, body).catch((error: Error) => {
            throw new Error(`${label} ${JSON.stringify(headers)} body ${String(body).slice(0, 80)}: ${error.message}`);
          }).then((answer) => {
            checkAnswer(answer, label);
            if (answer.status === 200 && path.endsWith('/webhooks') && method === 'POST') {
              const id = (JSON.parse(answer.body) as { id?: string }).id;
              if (id) ctx.ids.push(id);
            }
            if (answer.status === 200 && method === 'POST' && /interactions$|batchGenerateContent|predictLongRunning/.test(path)) {
              const parsed = JSON.parse(answer.body) as { id?: string; name?: string };
              const name = parsed.id ?? parsed.name?.split('/').at(-1);
              if (name) ctx.jobIds.push(name);
            }
          }),
        );
        if (batch.length >= 8) await Promise.all(batch.splice(0));
      }
      await Promise.all(batch);

      const raws: Array<Promise<void>> = [];
      for (let i = 0; i < RAW_CONNECTIONS; i++) {
        const bytes = rawGarbage(rng, e.apiKey);
        const label = `raw #${i} ${JSON.stringify(bytes.toString('latin1').slice(0, 80))}`;
        raws.push(
          rawExchange(e.port, bytes, rng.chance(0.2)).then((reply) => {
            const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(reply)?.[1] ?? 0);
            expect(status, label).toBeLessThan(500);
            if (status < 400) return;
            const body = reply.slice(reply.indexOf('\r\n\r\n') + 4);
            if (body !== '') checkAnswer({ status, body }, `${label} answered ${JSON.stringify(reply.slice(0, 300))}`);
          }),
        );
        if (raws.length >= 12) await Promise.all(raws.splice(0));
      }
      await Promise.all(raws);

      expect(internalErrors).toEqual([]);
      // Still serving, and still consistent.
      const after = await send(agent, e.port, 'GET', '/v1/webhooks?page_size=1000', { 'x-goog-api-key': e.apiKey }, undefined);
      expect(after.status).toBe(200);
    } finally {
      agent.destroy();
    }
  });
});
