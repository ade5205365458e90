import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookApi, type WebhookApiOptions } from '../../src/api/client.js';
import type { WebhookApi } from '../../src/api/types.js';
import { ApiError, AuthError, GemwhError, InterruptedError, NetworkError, NotFoundError, UsageError } from '../../src/errors.js';
import { startTestEmulator, TEST_API_KEY, type TestEmulator } from '../helpers/emulator.js';
import { makeTestDeps } from '../helpers/deps.js';
import { closedPort, closeServer, listenOnLoopback } from '../helpers/loopback.js';
import { startRecordingServer, type Answer, type RecordingServer } from '../helpers/recording-server.js';

/** Catches the rejection so a test can assert on the error's class and fields. */
async function failure(promise: Promise<unknown>): Promise<GemwhError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GemwhError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

const input = { uri: 'https://hooks.example.com/gemini', subscribed_events: ['batch.succeeded', 'video.generated'] };

describe('WebhookApi against the emulator', () => {
  let emulator: TestEmulator;
  let api: WebhookApi;
  beforeAll(async () => {
    emulator = await startTestEmulator();
    api = createWebhookApi({ apiKey: TEST_API_KEY, apiRoot: emulator.url });
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('runs all seven operations end to end', async () => {
    const created = await api.create({ ...input, name: 'e2e' });
    expect(created.id).toMatch(/^[a-z0-9]{36}$/);
    expect(created.new_signing_secret).toMatch(/^whsec_/);

    const fetched = await api.get(created.id);
    expect(fetched).toMatchObject({ id: created.id, name: 'e2e', uri: input.uri, state: 'enabled' });

    const listed = await api.list();
    expect(listed.webhooks?.map((w) => w.id)).toContain(created.id);

    const updated = await api.update(created.id, { subscribed_events: ['batch.failed'], state: 'disabled' });
    expect(updated).toMatchObject({ subscribed_events: ['batch.failed'], state: 'disabled', name: 'e2e', uri: input.uri });

    await expect(api.ping(created.id)).resolves.toBeUndefined();

    const rotated = await api.rotateSigningSecret(created.id, 'revoke_previous_secrets_immediately');
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.new_signing_secret);
    const afterRotate = await api.get(created.id);
    expect(afterRotate.signing_secrets).toEqual([{ truncated_secret: `whsec_...${rotated.secret!.replace(/=+$/, '').slice(-4)}` }]);

    await expect(api.delete(created.id)).resolves.toBeUndefined();
    const gone = await failure(api.get(created.id));
    expect(gone).toBeInstanceOf(NotFoundError);
  });

  it('pages with page_size and page_token', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await api.create({ ...input, name: `page${i}` })).id);
    const first = await api.list({ page_size: 2 });
    expect(first.webhooks).toHaveLength(2);
    expect(first.next_page_token).toBeTruthy();
    const second = await api.list({ page_size: 2, page_token: first.next_page_token });
    const seen = [...first.webhooks!, ...second.webhooks!].map((w) => w.id);
    for (const id of ids) expect(seen).toContain(id);
    for (const id of ids) await api.delete(id);
  });

  it('maps a wrong key (400 API_KEY_INVALID, as the real API answers) to AuthError with the ways to set one', async () => {
    const wrong = createWebhookApi({ apiKey: 'not-the-key', apiRoot: emulator.url });
    const error = await failure(wrong.list());
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toContain('API key not valid');
    expect(error.hint).toMatch(/--api-key/);
    expect(error.hint).toMatch(/GEMINI_API_KEY/);
    expect(error.hint).toMatch(/gemwh auth login/);
  });

  it('refuses to build a client without a key', () => {
    expect(() => createWebhookApi({ apiKey: '', apiRoot: emulator.url })).toThrow(UsageError);
  });

  it('maps an unknown id to NotFoundError naming the id', async () => {
    const error = await failure(api.get('doesnotexist0000000000000000000000000'));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toContain('doesnotexist0000000000000000000000000');
    expect(error.hint).toMatch(/gemwh list/);
    expect(await failure(api.delete('nope'))).toBeInstanceOf(NotFoundError);
    expect(await failure(api.rotateSigningSecret('nope'))).toBeInstanceOf(NotFoundError);
    expect(await failure(api.ping('nope'))).toBeInstanceOf(NotFoundError);
  });

  it('maps invalid events and an invalid uri to ApiError carrying Google\'s message and status', async () => {
    const events = await failure(api.create({ uri: input.uri, subscribed_events: [] }));
    expect(events).toBeInstanceOf(ApiError);
    expect(events.message).toMatch(/subscribed_events is required/);
    expect((events as ApiError).httpStatus).toBe(400);
    expect((events as ApiError).googleStatus).toBe('INVALID_ARGUMENT');
    const uri = await failure(api.create({ uri: 'nope', subscribed_events: ['batch.succeeded'] }));
    expect(uri).toBeInstanceOf(ApiError);
    expect(uri.message).toMatch(/uri must be an absolute URL/);
  });

  it('rejects an empty update and an empty id before sending anything', async () => {
    expect(await failure(api.update('x', {}))).toBeInstanceOf(UsageError);
    await expect(async () => api.get('')).rejects.toBeInstanceOf(UsageError);
  });
});

describe('WebhookApi against servers that misbehave', () => {
  let server: RecordingServer | undefined;
  afterAll(async () => {
    await server?.close();
  });

  async function serve(...answers: Answer[]): Promise<RecordingServer> {
    await server?.close();
    let next = 0;
    server = await startRecordingServer(() => answers[Math.min(next++, answers.length - 1)]!);
    return server;
  }

  function client(target: RecordingServer | string, extra: Partial<WebhookApiOptions> = {}) {
    const delays: number[] = [];
    const api = createWebhookApi({
      apiKey: 'k',
      apiRoot: typeof target === 'string' ? target : target.url,
      sleep: async (ms) => {
        delays.push(ms);
      },
      now: () => Date.parse('2026-05-05T10:00:00Z'),
      ...extra,
    });
    return { api, delays };
  }

  const json = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => ({
    status,
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
  const unavailable = (headers: Record<string, string> = {}) =>
    json(503, { error: { code: 503, message: 'The service is currently unavailable.', status: 'UNAVAILABLE' } }, headers);

  it('retries list on 503, waiting as long as Retry-After (seconds) asks', async () => {
    const s = await serve(unavailable({ 'retry-after': '3' }), json(200, { webhooks: [] }));
    const { api, delays } = client(s);
    await expect(api.list()).resolves.toEqual({ webhooks: [] });
    expect(s.requests).toHaveLength(2);
    expect(delays).toEqual([3000]);
  });

  it('honours Retry-After given as an HTTP date, and backs off exponentially without it', async () => {
    const s = await serve(
      json(429, { error: { code: 429, message: 'Quota exceeded.', status: 'RESOURCE_EXHAUSTED' } }, { 'retry-after': 'Tue, 05 May 2026 10:00:02 GMT' }),
      unavailable(),
      unavailable(),
      json(200, { id: 'abc', uri: 'https://x', subscribed_events: [] }),
    );
    const { api, delays } = client(s);
    await expect(api.get('abc')).resolves.toMatchObject({ id: 'abc' });
    expect(s.requests).toHaveLength(4);
    expect(delays).toEqual([2000, 1000, 2000]);
  });

  it('gives up after 4 retries and says so', async () => {
    const s = await serve(unavailable());
    const { api, delays } = client(s);
    const error = await failure(api.delete('abc'));
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toMatch(/503 UNAVAILABLE/);
    expect(error.message).toMatch(/retried 4 times/);
    expect(s.requests).toHaveLength(5);
    expect(delays).toEqual([500, 1000, 2000, 4000]);
  });

  it('does not wait for a Retry-After beyond the cap, and tells how long the server asked', async () => {
    const s = await serve(json(429, { error: { code: 429, message: 'Slow down.', status: 'RESOURCE_EXHAUSTED' } }, { 'retry-after': '3600' }));
    const { api } = client(s);
    const error = await failure(api.list());
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toMatch(/^rate limited by the API/);
    expect(error.hint).toMatch(/3600 s/);
    expect(s.requests).toHaveLength(1);
  });

  it('never retries create on 503, and says the webhook may exist', async () => {
    const s = await serve(unavailable(), json(200, { id: 'dup' }));
    const { api, delays } = client(s);
    const error = await failure(api.create(input));
    expect(error).toBeInstanceOf(ApiError);
    expect(s.requests).toHaveLength(1);
    expect(delays).toEqual([]);
    expect(error.hint).toMatch(/may or may not have been created/);
  });

  it('never retries update or rotate on 5xx or 429', async () => {
    const s = await serve(json(500, { error: { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' } }));
    const { api } = client(s);
    expect(await failure(api.update('abc', { name: 'n' }))).toBeInstanceOf(ApiError);
    const rotate = await failure(api.rotateSigningSecret('abc'));
    expect(rotate).toBeInstanceOf(ApiError);
    expect(rotate.hint).toMatch(/new secret may have been minted/);
    expect(s.requests).toHaveLength(2);

    const limited = await serve(json(429, { error: { code: 429, message: 'Quota.', status: 'RESOURCE_EXHAUSTED' } }));
    expect(await failure(client(limited).api.rotateSigningSecret('abc'))).toBeInstanceOf(ApiError);
    expect(limited.requests).toHaveLength(1);
  });

  it('does not retry rotate when the connection breaks after the request arrived, but does retry get', async () => {
    const { createServer } = await import('node:http');
    let received = 0;
    const breaker = createServer((req) => {
      received++;
      req.socket.destroy();
    });
    const port = await listenOnLoopback(breaker);
    try {
      const { api, delays } = client(`http://127.0.0.1:${port}`);
      const rotate = await failure(api.rotateSigningSecret('abc'));
      expect(rotate).toBeInstanceOf(NetworkError);
      expect(rotate.hint).toMatch(/new secret may have been minted/);
      expect(received).toBe(1);
      expect(delays).toEqual([]);
      expect(await failure(api.get('abc'))).toBeInstanceOf(NetworkError);
      expect(received).toBe(6);
    } finally {
      await closeServer(breaker);
    }
  });

  it('gives up on an attempt after timeoutMs, and does not repeat an update that timed out', async () => {
    const s = await serve({ status: 200, body: '{}', delayMs: 1500 });
    const { api, delays } = client(s, { timeoutMs: 100 });
    const error = await failure(api.update('abc', { name: 'n' }));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toMatch(/timed out/);
    expect(error.hint).toMatch(/may or may not have been applied/);
    expect(delays).toEqual([]);
  });

  it('retries create when the connection was refused, since nothing was sent', async () => {
    const port = await closedPort();
    let late: RecordingServer | undefined;
    const api = createWebhookApi({
      apiKey: 'k',
      apiRoot: `http://127.0.0.1:${port}`,
      // The server appears only during the first wait: the first attempt is refused, the second lands.
      sleep: async () => {
        late ??= await startRecordingServer(() => json(200, { id: 'new', uri: input.uri, subscribed_events: input.subscribed_events }), port);
      },
    });
    try {
      await expect(api.create(input)).resolves.toMatchObject({ id: 'new' });
      expect(late?.requests).toHaveLength(1);
    } finally {
      await late?.close();
    }
  });

  it('reports a server that is down as NetworkError naming the URL', async () => {
    const emulator = await startTestEmulator();
    const url = emulator.url;
    await emulator.stop();
    const { api, delays } = client(url);
    const error = await failure(api.list({ page_size: 5 }));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toContain(`${url}/v1/webhooks?page_size=5`);
    expect(error.message).toMatch(/connection refused/);
    expect(error.hint).toMatch(/--api-root/);
    // A refused loopback server is almost surely not started: one quick retry, not four.
    expect(delays).toEqual([500]);
  });

  it('reports a reply that is not JSON as ApiError saying so', async () => {
    const s = await serve({ status: 200, body: '<html><body>Welcome to nginx!</body></html>', headers: { 'content-type': 'text/html' } });
    const error = await failure(client(s).api.get('abc'));
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toMatch(/not the API's JSON/);
    expect(error.message).toContain('Welcome to nginx!');
    expect(error.hint).toMatch(/--api-root/);

    const proxyPage = await serve({ status: 502, body: 'Bad Gateway', headers: { 'content-type': 'text/plain' } });
    const created = await failure(client(proxyPage).api.create(input));
    expect(created).toBeInstanceOf(ApiError);
    expect(created.message).toMatch(/answered 502 .*not the API's JSON/);
    expect(proxyPage.requests).toHaveLength(1);
  });

  it('maps 401 and 403 to AuthError', async () => {
    for (const [status, googleStatus] of [
      [401, 'UNAUTHENTICATED'],
      [403, 'PERMISSION_DENIED'],
    ] as const) {
      const s = await serve(json(status, { error: { code: status, message: 'Denied.', status: googleStatus } }));
      const error = await failure(client(s).api.list());
      expect(error, String(status)).toBeInstanceOf(AuthError);
      expect(error.message).toContain(googleStatus);
      expect(s.requests).toHaveLength(1);
    }
  });

  it('in the Deps form, finds the server through GEMWH_API_ROOT and announces retries on stderr', async () => {
    const s = await serve(unavailable(), json(200, { webhooks: [] }));
    const t = makeTestDeps({ env: { GEMWH_API_ROOT: s.url } });
    try {
      const api = createWebhookApi(t.deps, { apiKey: 'k', sleep: async () => {} });
      await expect(api.list()).resolves.toEqual({ webhooks: [] });
      expect(t.stderr()).toBe('gemwh: list failed (HTTP 503); retry 1 in 500 ms\n');
      expect(t.stdout()).toBe('');
    } finally {
      t.cleanup();
    }
  });

  it('sends the key only in x-goog-api-key, never in the URL', async () => {
    const s = await serve(json(200, { webhooks: [] }));
    await client(s, { apiKey: 'secret-key-123' }).api.list({ page_size: 3 });
    const request = s.requests[0]!;
    expect(request.headers['x-goog-api-key']).toBe('secret-key-123');
    expect(request.url).toBe('/v1/webhooks?page_size=3');
    expect(request.headers['user-agent']).toMatch(/^gemwh\//);
  });

  it('uses --api-version and a path prefix in --api-root', async () => {
    const s = await serve(json(200, {}));
    const api = createWebhookApi({ apiKey: 'k', apiRoot: `${s.url}/proxy/`, apiVersion: 'v1' });
    await api.ping('id with space');
    expect(s.requests[0]!.url).toBe('/proxy/v1/webhooks/id%20with%20space:ping');
  });

  it('stops waiting between retries when the signal aborts', async () => {
    const s = await serve(unavailable());
    const controller = new AbortController();
    const api = createWebhookApi({
      apiKey: 'k',
      apiRoot: s.url,
      signal: controller.signal,
      sleep: async () => {
        controller.abort();
      },
    });
    expect(await failure(api.list())).toBeInstanceOf(InterruptedError);
    expect(s.requests).toHaveLength(1);
  });
});
