import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import type { GoogleErrorBody, Webhook } from '../../src/api/types.js';
import { API_EVENT_TYPES } from '../../src/core/events.js';
import { FIDELITY_TABLE, renderFidelityTable } from '../../src/emulator/fidelity.js';
import { loadFixture } from '../../src/fixtures/fixtures.js';
import { runGemwh } from '../helpers/deps.js';
import type { TestEmulator } from '../helpers/emulator.js';
import { perTest } from '../helpers/per-test.js';
import type { RecordingServer } from '../helpers/recording-server.js';

/**
 * One check per row of the emulator's fidelity table (src/emulator/fidelity.ts), by raw HTTP: the
 * table `gemwh help emulation` shows is the behaviour the emulator has, row by row.
 */

const { emulator, sink } = perTest();

interface Reply<T = unknown> {
  status: number;
  body: T;
}

async function call<T = unknown>(e: TestEmulator, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply<T>> {
  const response = await fetch(`${e.url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(headers ?? { 'x-goog-api-key': e.apiKey }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Bytes as sent, for request targets fetch would normalise. */
function raw(e: TestEmulator, request: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const socket = connect(e.port, '127.0.0.1', () => socket.end(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      resolve({ status, body: body ? (JSON.parse(body) as unknown) : undefined });
    });
  });
}

function expectGoogleError(reply: Reply<unknown>, status: number, rpcStatus: string): GoogleErrorBody['error'] {
  expect(reply.status).toBe(status);
  const error = (reply.body as GoogleErrorBody).error;
  expect(error).toMatchObject({ code: status, status: rpcStatus });
  expect(typeof error.message).toBe('string');
  return error;
}

const input = { uri: 'https://hooks.example.com/gemini', subscribed_events: ['batch.succeeded'] };

async function created(e: TestEmulator, body: Record<string, unknown> = input): Promise<Webhook> {
  const reply = await call<Webhook>(e, 'POST', '/v1/webhooks', body);
  expect(reply.status).toBe(200);
  return reply.body;
}

async function until<T>(what: string, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function dynamicToken(e: TestEmulator, to: RecordingServer): Promise<Record<string, unknown>> {
  e.deliveries.emit({ type: 'interaction.completed', dynamic: { uris: [`${to.url}/dyn`] } });
  const request = await until('the dynamic delivery', () => to.requests[0]);
  const authorization = String(request.headers.authorization ?? request.headers['webhook-signature'] ?? '');
  const token = authorization.replace(/^Bearer\s+/i, '').replace(/^v1,/, '');
  return decodeJwt(token) as Record<string, unknown>;
}

const checks: Record<string, () => Promise<void>> = {
  'events-enum': async () => {
    const e = await emulator();
    for (const type of ['batch.cancelled', 'interaction.cancelled', 'batch.completed', 'custom.event']) {
      const error = expectGoogleError(await call(e, 'POST', '/v1/webhooks', { ...input, subscribed_events: ['batch.succeeded', type] }), 400, 'INVALID_ARGUMENT');
      expect(error.message).toContain(`subscribed_events[1]`);
      expect(error.message).toContain(JSON.stringify(type));
      for (const allowed of API_EVENT_TYPES) expect(error.message).toContain(allowed);
    }
    const webhook = await created(e);
    expectGoogleError(await call(e, 'PATCH', `/v1/webhooks/${webhook.id}`, { subscribed_events: ['interaction.cancelled'] }), 400, 'INVALID_ARGUMENT');
    expect((await created(e, { ...input, subscribed_events: [...API_EVENT_TYPES] })).subscribed_events).toEqual(API_EVENT_TYPES);
  },
  'camel-case-body': async () => {
    const e = await emulator();
    const error = expectGoogleError(await call(e, 'POST', '/v1/webhooks', { uri: input.uri, subscribedEvents: input.subscribed_events }), 400, 'INVALID_ARGUMENT');
    expect(error.message).toMatch(/Unknown name "subscribedEvents".*Did you mean "subscribed_events"\?/);
    const webhook = await created(e);
    const rotate = expectGoogleError(
      await call(e, 'POST', `/v1/webhooks/${webhook.id}:rotateSigningSecret`, { revocationBehavior: 'revoke_previous_secrets_immediately' }),
      400,
      'INVALID_ARGUMENT',
    );
    expect(rotate.message).toMatch(/Did you mean "revocation_behavior"\?/);
    // The job endpoints take what the SDK sends: camelCase webhookConfig stays accepted.
    const batch = await call<{ name: string }>(e, 'POST', '/v1/models/m:batchGenerateContent', {
      batch: { inputConfig: { fileName: 'files/x' }, webhookConfig: { userMetadata: { k: 1 } } },
    });
    expect(batch.status).toBe(200);
  },
  'unknown-body-field': async () => {
    const e = await emulator();
    const webhook = await created(e);
    for (const name of ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'nonsense']) {
      // Raw text: JSON.stringify of an object literal would not keep an own __proto__ key.
      const body = `{"uri":"${input.uri}","subscribed_events":["batch.succeeded"],"${name}":{}}`;
      const error = expectGoogleError(await call(e, 'POST', '/v1/webhooks', body), 400, 'INVALID_ARGUMENT');
      expect(error.message).toContain(`Unknown name "${name}"`);
      expectGoogleError(await call(e, 'PATCH', `/v1/webhooks/${webhook.id}`, `{"name":"x","${name}":1}`), 400, 'INVALID_ARGUMENT');
      expectGoogleError(await call(e, 'POST', `/v1/webhooks/${webhook.id}:ping`, `{"${name}":1}`), 400, 'INVALID_ARGUMENT');
      expectGoogleError(await call(e, 'POST', `/v1/webhooks/${webhook.id}:rotateSigningSecret`, `{"${name}":1}`), 400, 'INVALID_ARGUMENT');
    }
    expect(e.store.records()).toHaveLength(1);
  },
  'no-timestamps': async () => {
    const e = await emulator();
    const webhook = await created(e);
    const replies = [
      webhook,
      (await call<Webhook>(e, 'GET', `/v1/webhooks/${webhook.id}`)).body,
      (await call<Webhook>(e, 'PATCH', `/v1/webhooks/${webhook.id}`, { name: 'renamed' })).body,
      ...(await call<{ webhooks: Webhook[] }>(e, 'GET', '/v1/webhooks')).body.webhooks,
    ];
    for (const reply of replies) {
      expect(reply).not.toHaveProperty('create_time');
      expect(reply).not.toHaveProperty('update_time');
    }
  },
  'update-mask': async () => {
    const e = await emulator();
    const webhook = await created(e, { ...input, name: 'orig' });
    const reply = await call<Webhook>(e, 'PATCH', `/v1/webhooks/${webhook.id}?update_mask=name`, { uri: 'https://other.example/h' });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ uri: 'https://other.example/h', name: 'orig' });
    const honoring = await emulator({ updateMask: 'honor' });
    const other = await created(honoring, { ...input, name: 'orig' });
    const honored = await call<Webhook>(honoring, 'PATCH', `/v1/webhooks/${other.id}?update_mask=name`, { uri: 'https://other.example/h', name: 'new' });
    expect(honored.body).toMatchObject({ uri: input.uri, name: 'new' });
  },
  'unknown-query': async () => {
    const e = await emulator();
    const webhook = await created(e);
    expect((await call(e, 'GET', '/v1/webhooks?foo=bar&alt=json&%00=1')).status).toBe(200);
    expect((await call(e, 'GET', `/v1/webhooks/${webhook.id}?nonsense=1`)).status).toBe(200);
  },
  'masked-secret': async () => {
    const e = await emulator();
    const webhook = await created(e);
    const secret = webhook.new_signing_secret!;
    expect(webhook.signing_secrets).toEqual([{ truncated_secret: `whsec_...${secret.replace(/=+$/, '').slice(-4)}` }]);
    expect(webhook.signing_secrets![0]!.truncated_secret).toMatch(/^whsec_\.\.\.[A-Za-z0-9+/]{4}$/);
  },
  'secret-once': async () => {
    const e = await emulator();
    const webhook = await created(e);
    expect(webhook.new_signing_secret).toMatch(/^whsec_/);
    expect((await call<Webhook>(e, 'GET', `/v1/webhooks/${webhook.id}`)).body).not.toHaveProperty('new_signing_secret');
  },
  'revocation-enum': async () => {
    const e = await emulator();
    const webhook = await created(e);
    for (const value of ['revoke_previous_secrets_after_h24', 'revoke_previous_secrets_immediately', 'REVOKE_PREVIOUS_SECRETS_AFTER_H24']) {
      expect((await call(e, 'POST', `/v1/webhooks/${webhook.id}:rotateSigningSecret`, { revocation_behavior: value })).status).toBe(200);
    }
    const error = expectGoogleError(await call(e, 'POST', `/v1/webhooks/${webhook.id}:rotateSigningSecret`, { revocation_behavior: 'later' }), 400, 'INVALID_ARGUMENT');
    expect(error.message).toContain('revoke_previous_secrets_immediately');
  },
  'ping-empty': async () => {
    const e = await emulator();
    const webhook = await created(e, { ...input, uri: 'http://127.0.0.1:9/unreachable' });
    expect(await call(e, 'POST', `/v1/webhooks/${webhook.id}:ping`, {})).toEqual({ status: 200, body: {} });
    expect(await call(e, 'POST', `/v1/webhooks/${webhook.id}:ping`)).toEqual({ status: 200, body: {} });
  },
  'api-versions': async () => {
    const e = await emulator();
    const webhook = await created(e);
    expect((await call<Webhook>(e, 'GET', `/v1beta/webhooks/${webhook.id}`)).body.id).toBe(webhook.id);
    expect((await call(e, 'GET', `/v2/webhooks/${webhook.id}`)).status).toBe(404);
  },
  'wrong-key': async () => {
    const e = await emulator();
    expectGoogleError(await call(e, 'GET', '/v1/webhooks', undefined, {}), 401, 'UNAUTHENTICATED');
    const error = await call<GoogleErrorBody>(e, 'GET', '/v1/webhooks', undefined, { 'x-goog-api-key': 'wrong' });
    expectGoogleError(error, 400, 'INVALID_ARGUMENT');
    expect(error.body.error.details).toMatchObject([{ reason: 'API_KEY_INVALID' }]);
  },
  'http-uri': async () => {
    const e = await emulator();
    expect((await created(e, { ...input, uri: 'http://127.0.0.1:3000/hook' })).uri).toBe('http://127.0.0.1:3000/hook');
  },
  'client-mistakes': async () => {
    const e = await emulator();
    const key = `x-goog-api-key: ${e.apiKey}\r\nhost: x\r\nconnection: close\r\n\r\n`;
    const doubled = await raw(e, `GET //x:y/v1beta/webhooks HTTP/1.1\r\n${key}`);
    expect(doubled.status).toBe(404);
    expect(doubled.body).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    const broken = await raw(e, `GET http://[/ HTTP/1.1\r\n${key}`);
    expect(broken.status).toBe(400);
    expect(broken.body).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    const absolute = await raw(e, `GET http://emulator.example/v1/webhooks HTTP/1.1\r\n${key}`);
    expect(absolute.status).toBe(200);
    expectGoogleError(await call(e, 'POST', '/v1/webhooks', '{"uri": '), 400, 'INVALID_ARGUMENT');
  },
  'data-ids': async () => {
    const e = await emulator({ jobs: { delayMs: 60_000 } });
    const batch = await call<{ name: string }>(e, 'POST', '/v1/models/m:batchGenerateContent', { batch: { input_config: { file_name: 'files/x' } } });
    const video = await call<{ name: string }>(e, 'POST', '/v1/models/veo:predictLongRunning', { instances: [{ prompt: 'x' }] });
    const interaction = await call<{ id: string }>(e, 'POST', '/v1/interactions', { model: 'm', input: 'x', background: true });
    const shapes: Array<[string, string, RegExp]> = [
      ['batch', batch.body.name, /^batches\/[a-z0-9]+$/],
      ['video', video.body.name, /^models\/[^/]+\/operations\/[a-z0-9]+$/],
      ['interaction', interaction.body.id, /^v1_[A-Za-z0-9_-]+$/],
    ];
    for (const [kind, name, shape] of shapes) {
      expect(name, kind).toMatch(shape);
      for (const type of API_EVENT_TYPES.filter((t) => t.startsWith(kind))) {
        const data = loadFixture(type).data as { id: string };
        expect(data.id, type).toMatch(shape);
      }
    }
  },
  'jwt-audience': async () => {
    const to = await sink(() => ({ status: 200 }));
    const e = await emulator();
    expect((await dynamicToken(e, to)).aud).toBe(`${to.url}/dyn`);
    const to2 = await sink(() => ({ status: 200 }));
    const set = await emulator({ delivery: { jwtAudience: 'my-client-id' } });
    expect((await dynamicToken(set, to2)).aud).toBe('my-client-id');
  },
  'jwt-issuer': async () => {
    const to = await sink(() => ({ status: 200 }));
    const e = await emulator();
    expect((await dynamicToken(e, to)).iss).toBe(e.url);
    const to2 = await sink(() => ({ status: 200 }));
    const set = await emulator({ delivery: { jwtIssuer: 'https://issuer.example' } });
    expect((await dynamicToken(set, to2)).iss).toBe('https://issuer.example');
  },
  'cancelled-dynamic': async () => {
    const to = await sink(() => ({ status: 200 }));
    const e = await emulator({ jobs: { delayMs: 60_000 } });
    const interaction = await call<{ id: string }>(e, 'POST', '/v1/interactions', {
      model: 'm',
      input: 'x',
      background: true,
      webhook_config: { uris: [`${to.url}/dyn`] },
    });
    expect((await call(e, 'POST', `/v1/interactions/${interaction.body.id}/cancel`)).status).toBe(200);
    const request = await until('the cancelled event', () => to.requests[0]);
    expect(JSON.parse(request.body.toString('utf8'))).toMatchObject({ type: 'interaction.cancelled', data: { id: interaction.body.id } });
  },
};

describe('the emulator fidelity table', () => {
  it('has one raw-HTTP check per row, and a row per check', () => {
    expect(Object.keys(checks).sort()).toEqual(FIDELITY_TABLE.map((row) => row.id).sort());
    expect(new Set(FIDELITY_TABLE.map((row) => row.id)).size).toBe(FIDELITY_TABLE.length);
  });

  for (const row of FIDELITY_TABLE) {
    it(`${row.id}: ${row.behaviour.replace(/`/g, '')}`, async () => {
      await checks[row.id]!();
    });
  }

  it('is in `gemwh help emulation` (src/help-topics/emulation.md) exactly as rendered from src/emulator/fidelity.ts (UPDATE_FIDELITY=1 rewrites it)', () => {
    const file = new URL('../../src/help-topics/emulation.md', import.meta.url);
    let readme = readFileSync(file, 'utf8');
    if (process.env.UPDATE_FIDELITY === '1') {
      readme = readme.replace(/(<!-- fidelity-table:start[^>]*-->\n)[\s\S]*?(<!-- fidelity-table:end -->)/, (_all, start: string, end: string) => `${start}${renderFidelityTable()}\n${end}`);
      writeFileSync(file, readme);
    }
    const table = /<!-- fidelity-table:start[^>]*-->\n([\s\S]*?)\n<!-- fidelity-table:end -->/.exec(readme)?.[1];
    expect(table, 'emulation.md markers <!-- fidelity-table:start --> … <!-- fidelity-table:end -->').toBe(renderFidelityTable());
  });

  it('names every guess in `gemwh emulator --help`, with the flag that changes it', async () => {
    const help = (await runGemwh(['emulator', '--help'])).stdout.replace(/\s+/g, ' ');
    for (const row of FIDELITY_TABLE.filter((r) => r.source === 'guess')) {
      expect(help).toContain(row.behaviour.replace(/`/g, '').replace(/\s+/g, ' '));
      if (row.flag) expect(help).toContain(row.flag);
    }
  });
});
