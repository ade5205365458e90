import { GoogleGenAI } from '@google/genai';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { API_EVENT_TYPES } from '../../src/core/events.js';
import { verifyDelivery } from '../../src/core/verify.js';
import type { StartEmulatorOptions } from '../../src/emulator/server.js';
import { createRemoteJwksSource } from '../../src/jwks/jwks-source.js';
import { runGemwh } from '../helpers/deps.js';
import type { TestEmulator } from '../helpers/emulator.js';
import { perTest } from '../helpers/per-test.js';
import { startGemwh } from '../helpers/start-gemwh.js';
import type { RecordedRequest, RecordingServer } from '../helpers/recording-server.js';
import { until } from '../helpers/until.js';

const { defer, ...servers } = perTest();
const emulator = (options: StartEmulatorOptions = {}) => servers.emulator({ ...options, jobs: { delayMs: 30, ...options.jobs } });
const receiver = () => servers.sink();

/** A static webhook on `to`/static subscribed to every event type the API accepts; returns its secret. */
function staticWebhook(e: TestEmulator, to: RecordingServer): { id: string; secret: string } {
  const created = e.store.create({ uri: `${to.url}/static`, subscribed_events: [...API_EVENT_TYPES] });
  return { id: created.id, secret: created.new_signing_secret! };
}

function sdk(e: TestEmulator): GoogleGenAI {
  return new GoogleGenAI({ apiKey: e.apiKey, httpOptions: { baseUrl: e.url } });
}

function arrivals(to: RecordingServer, path: string, count = 1): Promise<RecordedRequest[]> {
  return until(`${count} request(s) on ${path}`, () => {
    const found = to.requests.filter((r) => r.url === path);
    return found.length >= count ? found : undefined;
  });
}

function headerBag(r: RecordedRequest): Record<string, string> {
  return Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
}

/** Checked by the Standard Webhooks reference library, not by gemwh's own verifier. */
function verifyStatic(r: RecordedRequest, secret: string): { type: string; data: Record<string, unknown> } {
  return new StandardWebhook(secret).verify(r.body.toString(), headerBag(r)) as { type: string; data: Record<string, unknown> };
}

/** The JWT of a dynamic delivery, checked against the emulator's published JWKS. */
async function verifyDynamic(e: TestEmulator, r: RecordedRequest): Promise<{ type: string; data: Record<string, unknown> }> {
  const keys = createRemoteJwksSource({ url: `${e.url}/.well-known/jwks.json`, now: () => Date.now() });
  const verdict = await verifyDelivery({ rawBody: r.body, headers: headerBag(r), now: Date.now(), keys });
  expect(verdict).toMatchObject({ ok: true, scheme: 'dynamic' });
  return JSON.parse(r.body.toString()) as { type: string; data: Record<string, unknown> };
}

async function postJson(url: string, body: unknown, apiKey: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': apiKey },
    body: JSON.stringify(body),
  });
  return { status: response.statusCode, json: (await response.body.json()) as Record<string, unknown> };
}

async function getJson(url: string, apiKey: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await request(url, { headers: { 'x-goog-api-key': apiKey } });
  return { status: response.statusCode, json: (await response.body.json()) as Record<string, unknown> };
}

describe('jobs driven by @google/genai', () => {
  it('interactions.create with background and webhook_config: in_progress now, interaction.completed to the uris, completed on get', async () => {
    const e = await emulator();
    const to = await receiver();
    staticWebhook(e, to);
    const ai = sdk(e);

    const created = await ai.interactions.create({
      model: 'gemini-3-flash-preview',
      input: 'Summarise the attached logs.',
      background: true,
      webhook_config: { uris: [`${to.url}/dynamic`], user_metadata: { tenant: 'acme', job_ref: 'nightly-42' } },
    });
    expect(created.id).toMatch(/^v1_[A-Za-z0-9_-]{30,}$/);
    expect(created.status).toBe('in_progress');
    expect(created.webhook_config).toEqual({ uris: [`${to.url}/dynamic`], user_metadata: { tenant: 'acme', job_ref: 'nightly-42' } });

    const [delivery] = await arrivals(to, '/dynamic');
    const event = await verifyDynamic(e, delivery!);
    expect(event.type).toBe('interaction.completed');
    expect(event.data).toEqual({ id: created.id, user_metadata: { tenant: 'acme', job_ref: 'nightly-42' } });
    // uris replace the registered webhooks for this job.
    await e.deliveries.idle();
    expect(to.requests.filter((r) => r.url === '/static')).toHaveLength(0);

    const fetched = await ai.interactions.get(created.id);
    expect(fetched.status).toBe('completed');
    expect(fetched.output_text).toMatch(/emulated/);
  });

  it('batches.create with config.webhookConfig (camelCase userMetadata, no uris): batch.succeeded to the static webhooks, SUCCEEDED on get', async () => {
    const e = await emulator();
    const to = await receiver();
    const webhook = staticWebhook(e, to);
    const ai = sdk(e);

    const batch = await ai.batches.create({
      model: 'gemini-2.5-flash',
      src: [{ contents: [{ role: 'user', parts: [{ text: 'Hello' }] }] }, { contents: [{ role: 'user', parts: [{ text: 'Bye' }] }] }],
      config: { displayName: 'nightly', webhookConfig: { userMetadata: { run: 7 } } },
    });
    expect(batch.name).toMatch(/^batches\/[a-z0-9]{36}$/);
    expect(batch.state).toBe('JOB_STATE_PENDING');
    expect(batch.displayName).toBe('nightly');
    expect(batch.model).toBe('models/gemini-2.5-flash');

    const [delivery] = await arrivals(to, '/static');
    const event = verifyStatic(delivery!, webhook.secret);
    expect(event.type).toBe('batch.succeeded');
    expect(event.data).toEqual({ id: batch.name, output_file_uri: expect.stringMatching(/^files\//), user_metadata: { run: 7 } });

    const fetched = await ai.batches.get({ name: batch.name! });
    expect(fetched.state).toBe('JOB_STATE_SUCCEEDED');
    expect(fetched.dest?.fileName).toBe(event.data.output_file_uri);
  });

  it('generateVideos with config.webhookConfig: video.generated to the uris, and the operation polls done with the video', async () => {
    const e = await emulator();
    const to = await receiver();
    const ai = sdk(e);

    let operation = await ai.models.generateVideos({
      model: 'veo-3.1-generate-preview',
      source: { prompt: 'a cat playing the piano' },
      config: { webhookConfig: { uris: [`${to.url}/videos`], userMetadata: { clip: 'intro' } } },
    });
    expect(operation.name).toMatch(/^models\/veo-3\.1-generate-preview\/operations\/[a-z0-9]{12}$/);
    expect(operation.done).toBeFalsy();

    const [delivery] = await arrivals(to, '/videos');
    const event = await verifyDynamic(e, delivery!);
    expect(event.type).toBe('video.generated');
    expect(event.data).toMatchObject({ id: operation.name, file_name: expect.stringMatching(/^files\//), user_metadata: { clip: 'intro' } });
    expect(String(event.data.output_file_uri)).toContain(`${e.url}/v1beta/files/`);

    operation = await ai.operations.getVideosOperation({ operation });
    expect(operation.done).toBe(true);
    expect(operation.response?.generatedVideos?.[0]?.video?.uri).toBe(event.data.output_file_uri);
  });
});

describe('jobs over plain HTTP', () => {
  it('batchGenerateContent accepts snake_case webhook_config inner keys and a file input', async () => {
    const e = await emulator();
    const to = await receiver();
    const created = await postJson(
      `${e.url}/v1beta/models/gemini-2.5-flash:batchGenerateContent`,
      { batch: { display_name: 'from-file', input_config: { file_name: 'files/input-1' }, webhook_config: { uris: [`${to.url}/b`], user_metadata: { k: 'v' } } } },
      e.apiKey,
    );
    expect(created.status).toBe(200);
    const name = String(created.json.name);
    expect(created.json.metadata).toMatchObject({ state: 'BATCH_STATE_PENDING', displayName: 'from-file', webhookConfig: { uris: [`${to.url}/b`], userMetadata: { k: 'v' } } });

    const [delivery] = await arrivals(to, '/b');
    expect((await verifyDynamic(e, delivery!)).data).toMatchObject({ id: name, user_metadata: { k: 'v' } });
    const fetched = await getJson(`${e.url}/v1beta/${name}`, e.apiKey);
    expect(fetched.json).toMatchObject({ name, done: true, metadata: { state: 'BATCH_STATE_SUCCEEDED' }, response: { responsesFile: expect.stringMatching(/^files\//) } });
  });

  it('a job is running until its delay has passed, and the delay is emulated time (--time-scale)', async () => {
    const e = await emulator({ jobs: { delayMs: 60_000 }, delivery: { timeScale: 600 } });
    const to = await receiver();
    staticWebhook(e, to);
    const started = Date.now();
    const created = await postJson(`${e.url}/v1beta/models/veo-3:predictLongRunning`, { instances: [{ prompt: 'x' }] }, e.apiKey);
    expect(created.json).toEqual({ name: expect.stringMatching(/^models\/veo-3\/operations\//) });
    const running = await getJson(`${e.url}/v1beta/${String(created.json.name)}`, e.apiKey);
    expect(running.json.done).toBeUndefined();

    // 60 s of emulated time at 600x is 100 ms.
    await arrivals(to, '/static');
    expect(Date.now() - started).toBeLessThan(3000);
    const byBareId = await getJson(`${e.url}/v1beta/operations/${String(created.json.name).split('/').pop()}`, e.apiKey);
    expect(byBareId.json).toMatchObject({ name: created.json.name, done: true });
  });

  it('--fail-rate 1 ends interactions and batches failed, with error_code and error_message', async () => {
    const e = await emulator({ jobs: { failRate: 1 } });
    const to = await receiver();
    const webhook = staticWebhook(e, to);
    const ai = sdk(e);

    const interaction = await ai.interactions.create({ model: 'gemini-3-flash-preview', input: 'hi', background: true });
    const batch = await ai.batches.create({ model: 'gemini-2.5-flash', src: [{ contents: [{ role: 'user', parts: [{ text: 'Hello' }] }] }] });
    const deliveries = await arrivals(to, '/static', 2);
    const events = deliveries.map((d) => verifyStatic(d, webhook.secret));
    expect(events.map((ev) => ev.type).sort()).toEqual(['batch.failed', 'interaction.failed']);
    for (const ev of events) {
      expect(ev.data).toEqual({ id: expect.any(String), error_code: expect.any(String), error_message: expect.stringMatching(/fail-rate/) });
      // A job without user_metadata must not inherit the fixture's sample metadata.
      expect(ev.data).not.toHaveProperty('user_metadata');
    }
    expect((await ai.interactions.get(interaction.id)).status).toBe('failed');
    expect((await ai.batches.get({ name: batch.name! })).state).toBe('JOB_STATE_FAILED');
  });

  it('cancelling a running interaction or batch sends *.cancelled to its webhook_config uris (a guess) and the job stays cancelled', async () => {
    const e = await emulator({ jobs: { delayMs: 600_000 } });
    const to = await receiver();
    staticWebhook(e, to);
    const ai = sdk(e);
    const webhookConfig = { uris: [`${to.url}/dynamic`] };
    const interaction = await ai.interactions.create({ model: 'gemini-3-flash-preview', input: 'hi', background: true, webhook_config: webhookConfig });
    expect((await ai.interactions.get(interaction.id)).status).toBe('in_progress');
    const batch = await ai.batches.create({
      model: 'gemini-2.5-flash',
      src: [{ contents: [{ role: 'user', parts: [{ text: 'Hello' }] }] }],
      config: { webhookConfig },
    });
    expect((await ai.batches.get({ name: batch.name! })).state).toBe('JOB_STATE_RUNNING');

    expect((await ai.interactions.cancel(interaction.id)).status).toBe('cancelled');
    await ai.batches.cancel({ name: batch.name! });
    const events = (await arrivals(to, '/dynamic', 2)).map((d) => JSON.parse(d.body.toString('utf8')) as { type: string; data: { id: string } });
    expect(events.map((ev) => [ev.type, ev.data.id]).sort()).toEqual(
      [
        ['batch.cancelled', batch.name],
        ['interaction.cancelled', interaction.id],
      ].sort(),
    );
    // A static webhook cannot subscribe to the cancelled types, so nothing went there.
    expect(to.requests.filter((r) => r.url.startsWith('/static'))).toEqual([]);
    expect((await ai.batches.get({ name: batch.name! })).state).toBe('JOB_STATE_CANCELLED');
  });

  it('answers Google-shaped errors: webhook_config without background, unknown ids, bad uris', async () => {
    const e = await emulator();
    const noBackground = await postJson(`${e.url}/v1beta/interactions`, { model: 'm', input: 'x', webhook_config: { uris: ['http://127.0.0.1:9/'] } }, e.apiKey);
    expect(noBackground.status).toBe(400);
    expect(noBackground.json).toMatchObject({ error: { status: 'INVALID_ARGUMENT', message: expect.stringMatching(/background/) } });

    const badUri = await postJson(`${e.url}/v1beta/models/m:predictLongRunning`, { instances: [{}], webhookConfig: { uris: ['ftp://x'] } }, e.apiKey);
    expect(badUri.json).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });

    const unknownKey = await postJson(`${e.url}/v1beta/models/m:batchGenerateContent`, { batch: { input_config: { file_name: 'files/x' }, webhookConfig: { url: 'x' } } }, e.apiKey);
    expect(unknownKey.json).toMatchObject({ error: { status: 'INVALID_ARGUMENT', message: expect.stringMatching(/Unknown name "url"/) } });

    expect((await getJson(`${e.url}/v1beta/interactions/v1_nope`, e.apiKey)).json).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    expect((await getJson(`${e.url}/v1beta/batches/nope`, e.apiKey)).status).toBe(404);

    // A foreground interaction is answered complete at once and sends nothing.
    const foreground = await postJson(`${e.url}/v1beta/interactions`, { model: 'm', input: 'x' }, e.apiKey);
    expect(foreground.json).toMatchObject({ status: 'completed' });
  });
});

describe('gemwh emulator --job-delay --fail-rate', () => {
  it('ends jobs after the given delay, failed at --fail-rate 1', async () => {
    const { t, firstLine } = await startGemwh(['emulator', '--port', '0', '--quiet', '--job-delay', '50ms', '--fail-rate', '100%'], { defer });
    const url = await firstLine();
    const to = await receiver();
    const created = await postJson(`${url}/v1beta/webhooks`, { uri: `${to.url}/static`, subscribed_events: ['interaction.failed'] }, 'any');
    const secret = String(created.json.new_signing_secret);

    const interaction = await postJson(`${url}/v1beta/interactions`, { model: 'gemini-3-flash-preview', input: 'x', background: true }, 'any');
    expect(interaction.json).toMatchObject({ status: 'in_progress' });
    const [delivery] = await arrivals(to, '/static');
    expect(verifyStatic(delivery!, secret)).toMatchObject({ type: 'interaction.failed', data: { id: interaction.json.id } });
    expect(t.stderr()).toMatch(/generateVideos end after 50 ms/);
  });

  it('rejects a --fail-rate outside 0..1 and a --job-delay that is not a duration', async () => {
    for (const args of [['--fail-rate', '1.5'], ['--fail-rate', 'often'], ['--job-delay', 'soon']]) {
      const result = await runGemwh(['emulator', '--port', '0', ...args]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(args[0]);
    }
  });
});
