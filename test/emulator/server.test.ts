import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GoogleErrorBody, ListWebhooksResponse, Webhook } from '../../src/api/types.js';
import { startTestEmulator, TEST_API_KEY, type TestEmulator } from '../helpers/emulator.js';

interface Reply<T = unknown> {
  status: number;
  body: T;
}

async function call<T = unknown>(
  emulator: TestEmulator,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { 'x-goog-api-key': TEST_API_KEY },
): Promise<Reply<T>> {
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

const validInput = { uri: 'https://hooks.example.com/gemini', subscribed_events: ['batch.succeeded'] };

describe('emulator HTTP surface', () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('creates a webhook with a 36-character id and a once-only whsec_ secret', async () => {
    const created = await call<Webhook>(emulator, 'POST', '/v1beta/webhooks', { ...validInput, name: 'first' });
    expect(created.status).toBe(200);
    expect(created.body.id).toMatch(/^[a-z0-9]{36}$/);
    expect(created.body.name).toBe('first');
    expect(created.body.state).toBe('enabled');
    expect(created.body.new_signing_secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(created.body.new_signing_secret!.slice(6), 'base64')).toHaveLength(32);
    expect(created.body.signing_secrets).toEqual([{ truncated_secret: `whsec_...${created.body.new_signing_secret!.slice(-5, -1)}` }]);
    expect(created.body).not.toHaveProperty('create_time');

    const fetched = await call<Webhook>(emulator, 'GET', `/v1beta/webhooks/${created.body.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body.new_signing_secret).toBeUndefined();
    expect(fetched.body.uri).toBe(validInput.uri);
  });

  it('answers without a key with 401 UNAUTHENTICATED and with a wrong key with 400 API_KEY_INVALID', async () => {
    const none = await call<GoogleErrorBody>(emulator, 'GET', '/v1beta/webhooks', undefined, {});
    expect(none.status).toBe(401);
    expect(none.body.error).toMatchObject({ code: 401, status: 'UNAUTHENTICATED' });
    const wrong = await call<GoogleErrorBody>(emulator, 'GET', '/v1beta/webhooks', undefined, { 'x-goog-api-key': 'wrong' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT', message: 'API key not valid. Please pass a valid API key.' });
    expect(JSON.stringify(wrong.body.error.details)).toContain('API_KEY_INVALID');
  });

  it.each([
    [{ subscribed_events: ['batch.succeeded'] }, /uri is required/],
    [{ uri: 'not a url', subscribed_events: ['batch.succeeded'] }, /absolute URL/],
    [{ uri: 'ftp://x.example/h', subscribed_events: ['batch.succeeded'] }, /http or https/],
    [{ uri: 'https://x.example/h', subscribed_events: [] }, /subscribed_events is required/],
    [{ uri: 'https://x.example/h', subscribed_events: [''] }, /subscribed_events\[0\]/],
    [{ uri: 'https://x.example/h', subscribed_events: [42] }, /subscribed_events\[0\]/],
    [{ ...validInput, colour: 'blue' }, /Unknown name "colour"/],
    [[1, 2], /must be a JSON object/],
  ])('rejects an invalid create body %j with 400 INVALID_ARGUMENT', async (body, message) => {
    const reply = await call<GoogleErrorBody>(emulator, 'POST', '/v1beta/webhooks', body);
    expect(reply.status).toBe(400);
    expect(reply.body.error.status).toBe('INVALID_ARGUMENT');
    expect(reply.body.error.message).toMatch(message);
  });

  it('refuses lowerCamelCase field names with a did-you-mean, as the live API does', async () => {
    const reply = await call<GoogleErrorBody>(emulator, 'POST', '/v1beta/webhooks', { uri: validInput.uri, subscribedEvents: ['video.generated'] });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    expect(reply.body.error.message).toMatch(/Unknown name "subscribedEvents".*Did you mean "subscribed_events"\?/);
  });

  it('answers invalid JSON with 400 and an oversized body with 413, and keeps serving', async () => {
    const bad = await call<GoogleErrorBody>(emulator, 'POST', '/v1beta/webhooks', '{"uri": ');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^Invalid JSON payload received/);
    const huge = await call<GoogleErrorBody>(emulator, 'POST', '/v1beta/webhooks', JSON.stringify({ name: 'x'.repeat(1_100_000) }));
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe(413);
    const after = await call(emulator, 'GET', '/v1beta/webhooks');
    expect(after.status).toBe(200);
  });

  it('answers unknown ids with 404 NOT_FOUND naming the id, and unknown routes with 404', async () => {
    for (const [method, path] of [
      ['GET', '/v1beta/webhooks/nosuchid'],
      ['PATCH', '/v1beta/webhooks/nosuchid?update_mask=name'],
      ['DELETE', '/v1beta/webhooks/nosuchid'],
      ['POST', '/v1beta/webhooks/nosuchid:ping'],
      ['POST', '/v1beta/webhooks/nosuchid:rotateSigningSecret'],
    ] as const) {
      const reply = await call<GoogleErrorBody>(emulator, method, path, method === 'PATCH' ? { name: 'n' } : method === 'POST' ? {} : undefined);
      expect(reply.status, `${method} ${path}`).toBe(404);
      expect(reply.body.error).toMatchObject({ code: 404, status: 'NOT_FOUND' });
      expect(reply.body.error.message).toContain('nosuchid');
    }
    const unknown = await call<GoogleErrorBody>(emulator, 'GET', '/v1beta/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.status).toBe('NOT_FOUND');
    const wrongMethod = await call<GoogleErrorBody>(emulator, 'PUT', '/v1beta/webhooks');
    expect(wrongMethod.status).toBe(404);
  });

  it('serves /v1/ as an alias of /v1beta/', async () => {
    const created = await call<Webhook>(emulator, 'POST', '/v1/webhooks', validInput);
    expect(created.status).toBe(200);
    const viaBeta = await call<Webhook>(emulator, 'GET', `/v1beta/webhooks/${created.body.id}`);
    expect(viaBeta.status).toBe(200);
  });

  it('pings an existing webhook with an empty body or none', async () => {
    const created = await call<Webhook>(emulator, 'POST', '/v1beta/webhooks', validInput);
    expect(await call(emulator, 'POST', `/v1beta/webhooks/${created.body.id}:ping`, {})).toEqual({ status: 200, body: {} });
    expect((await call(emulator, 'POST', `/v1beta/webhooks/${created.body.id}:ping`)).status).toBe(200);
  });

  it('deletes a webhook: get then answers 404', async () => {
    const created = await call<Webhook>(emulator, 'POST', '/v1beta/webhooks', validInput);
    expect(await call(emulator, 'DELETE', `/v1beta/webhooks/${created.body.id}`)).toEqual({ status: 200, body: {} });
    expect((await call(emulator, 'GET', `/v1beta/webhooks/${created.body.id}`)).status).toBe(404);
  });
});

describe('emulator update semantics as the reference reads them (--update-mask honor)', () => {
  let emulator: TestEmulator;
  let id: string;
  beforeAll(async () => {
    emulator = await startTestEmulator({ updateMask: 'honor' });
  });
  afterAll(async () => {
    await emulator.stop();
  });
  afterEach(async () => {
    if (id) await call(emulator, 'DELETE', `/v1beta/webhooks/${id}`);
  });

  async function fresh(): Promise<Webhook> {
    const created = await call<Webhook>(emulator, 'POST', '/v1beta/webhooks', { ...validInput, name: 'orig' });
    id = created.body.id;
    return created.body;
  }

  it('changes only the fields named in update_mask', async () => {
    await fresh();
    const reply = await call<Webhook>(emulator, 'PATCH', `/v1beta/webhooks/${id}?update_mask=subscribed_events`, {
      subscribed_events: ['batch.failed'],
      uri: 'https://ignored.example/h',
      name: 'ignored',
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ subscribed_events: ['batch.failed'], uri: validInput.uri, name: 'orig' });
  });

  it('without a mask changes the fields present, and clears name when the mask names it but the body omits it', async () => {
    await fresh();
    const noMask = await call<Webhook>(emulator, 'PATCH', `/v1beta/webhooks/${id}`, { state: 'disabled' });
    expect(noMask.body).toMatchObject({ state: 'disabled', name: 'orig', uri: validInput.uri });
    const upper = await call<Webhook>(emulator, 'PATCH', `/v1beta/webhooks/${id}?update_mask=state,name`, { state: 'ENABLED' });
    expect(upper.body.state).toBe('enabled');
    expect(upper.body.name).toBeUndefined();
  });

  it('rejects an unknown mask path, an empty update and a required field named but missing', async () => {
    await fresh();
    const badPath = await call<GoogleErrorBody>(emulator, 'PATCH', `/v1beta/webhooks/${id}?update_mask=id`, { name: 'x' });
    expect(badPath.status).toBe(400);
    expect(badPath.body.error.message).toMatch(/cannot be updated/);
    const empty = await call<GoogleErrorBody>(emulator, 'PATCH', `/v1beta/webhooks/${id}`, {});
    expect(empty.status).toBe(400);
    const missing = await call<GoogleErrorBody>(emulator, 'PATCH', `/v1beta/webhooks/${id}?update_mask=uri`, { name: 'x' });
    expect(missing.status).toBe(400);
    const badState = await call<GoogleErrorBody>(emulator, 'PATCH', `/v1beta/webhooks/${id}`, { state: 'paused' });
    expect(badState.status).toBe(400);
    expect(badState.body.error.message).toMatch(/state must be one of/);
  });
});

describe('emulator paging', () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
    for (let i = 0; i < 7; i++) await call(emulator, 'POST', '/v1beta/webhooks', { ...validInput, name: `w${i}` });
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('walks every webhook once in creation order with opaque page tokens', async () => {
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const query = `page_size=3${token ? `&page_token=${encodeURIComponent(token)}` : ''}`;
      const reply = await call<ListWebhooksResponse>(emulator, 'GET', `/v1beta/webhooks?${query}`);
      expect(reply.status).toBe(200);
      names.push(...(reply.body.webhooks ?? []).map((w) => w.name ?? ''));
      token = reply.body.next_page_token;
      if (token) expect(token).not.toMatch(/^\d+$/);
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(names).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6']);
  });

  it('uses 50 for page_size 0 and omits next_page_token on the last page', async () => {
    const reply = await call<ListWebhooksResponse>(emulator, 'GET', '/v1beta/webhooks?page_size=0');
    expect(reply.body.webhooks).toHaveLength(7);
    expect(reply.body.next_page_token).toBeUndefined();
  });

  it('rejects a forged or garbled page token and a bad page_size with 400', async () => {
    const first = await call<ListWebhooksResponse>(emulator, 'GET', '/v1beta/webhooks?page_size=2');
    const token = first.body.next_page_token!;
    const decoded = Buffer.from(token, 'base64url').toString();
    const forged = Buffer.from(decoded.replace(/^p1\.\d+/, 'p1.1')).toString('base64url');
    for (const bad of [forged, 'garbage', `${token}x`]) {
      const reply = await call<GoogleErrorBody>(emulator, 'GET', `/v1beta/webhooks?page_token=${encodeURIComponent(bad)}`);
      expect(reply.status, bad).toBe(400);
      expect(reply.body.error.message).toMatch(/page_token/);
    }
    for (const size of ['-1', 'ten', '1.5']) {
      const reply = await call<GoogleErrorBody>(emulator, 'GET', `/v1beta/webhooks?page_size=${size}`);
      expect(reply.status, size).toBe(400);
    }
  });

  it('does not skip or repeat when a webhook on an earlier page is deleted while paging', async () => {
    const first = await call<ListWebhooksResponse>(emulator, 'GET', '/v1beta/webhooks?page_size=2');
    const victim = first.body.webhooks![0]!;
    await call(emulator, 'DELETE', `/v1beta/webhooks/${victim.id}`);
    const second = await call<ListWebhooksResponse>(
      emulator,
      'GET',
      `/v1beta/webhooks?page_size=2&page_token=${encodeURIComponent(first.body.next_page_token!)}`,
    );
    expect(second.body.webhooks!.map((w) => w.name)).toEqual(['w2', 'w3']);
  });
});

describe('emulator robustness', () => {
  it('shrugs off a client that hangs up mid-body: no internal error, still serving', async () => {
    const { connect } = await import('node:net');
    const internal: unknown[] = [];
    const emulator = await startTestEmulator({ onInternalError: (error) => internal.push(error) });
    try {
      const { port } = new URL(emulator.url);
      await new Promise<void>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(`POST /v1beta/webhooks HTTP/1.1\r\nhost: x\r\nx-goog-api-key: ${TEST_API_KEY}\r\ncontent-length: 1000\r\n\r\n{"uri":`);
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 50);
        });
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await call(emulator, 'GET', '/v1beta/webhooks')).status).toBe(200);
      expect(internal).toEqual([]);
    } finally {
      await emulator.stop();
    }
  });
});
