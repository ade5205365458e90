import { GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookApi } from '../../src/api/client.js';
import { startTestEmulator, TEST_API_KEY, type TestEmulator } from '../helpers/emulator.js';
import { startRecordingServer, type RecordedRequest, type RecordingServer } from '../helpers/recording-server.js';

/**
 * Proof of shape: Google's own SDK (@google/genai) talks to the emulator without noticing, and
 * gemwh's client puts the same requests on the wire as the SDK does.
 */

const API_VERSIONS = ['v1', 'v1beta'] as const;

const input = { uri: 'https://hooks.example.com/gemini', subscribed_events: ['batch.succeeded', 'interaction.completed'] };

describe('@google/genai against the emulator', () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(async () => {
    await emulator.stop();
  });

  // @google/genai 2.x talks to /v1beta by default, 3.1+ to /v1: the emulator serves both.
  it.each(API_VERSIONS)('succeeds on all seven ai.webhooks methods under /%s', async (apiVersion) => {
    const ai = new GoogleGenAI({ apiKey: TEST_API_KEY, httpOptions: { baseUrl: emulator.url, apiVersion } });
    const created = await ai.webhooks.create({ ...input, name: 'sdk' });
    expect(created.id).toMatch(/^[a-z0-9]{36}$/);
    expect(created.new_signing_secret).toMatch(/^whsec_/);

    const listed = await ai.webhooks.list({ page_size: 10 });
    expect(listed.webhooks?.map((w) => w.id)).toEqual([created.id]);

    const fetched = await ai.webhooks.get(created.id!);
    expect(fetched).toMatchObject({ name: 'sdk', uri: input.uri, state: 'enabled' });

    const updated = await ai.webhooks.update(created.id!, { state: 'disabled', update_mask: 'state' });
    expect(updated.state).toBe('disabled');

    await ai.webhooks.ping(created.id!, { body: {} });
    // The SDK sends no body at all when none is given; the emulator takes that too.
    await ai.webhooks.ping(created.id!);

    const rotated = await ai.webhooks.rotateSigningSecret(created.id!, { revocation_behavior: 'revoke_previous_secrets_after_h24' });
    expect(rotated.secret).toMatch(/^whsec_/);
    expect((await ai.webhooks.get(created.id!)).signing_secrets).toHaveLength(2);

    await ai.webhooks.delete(created.id!);
    await expect(ai.webhooks.get(created.id!)).rejects.toThrow();
    expect(emulator.store.records()).toEqual([]);
  });
});

interface WireRequest {
  method: string;
  path: string;
  query: Array<[string, string]>;
  body: unknown;
  apiKey: string | undefined;
  jsonContentType: boolean;
}

function toWire(request: RecordedRequest): WireRequest {
  const url = new URL(request.url, 'http://recorder.invalid');
  const text = request.body.toString('utf8');
  return {
    method: request.method,
    path: url.pathname,
    query: [...url.searchParams.entries()].sort(([a], [b]) => a.localeCompare(b)),
    body: text === '' ? null : JSON.parse(text),
    apiKey: request.headers['x-goog-api-key'] as string | undefined,
    jsonContentType: text === '' || String(request.headers['content-type']).startsWith('application/json'),
  };
}

describe('gemwh client and @google/genai send the same requests', () => {
  let recorder: RecordingServer;
  beforeAll(async () => {
    const webhook = { id: 'abc123', uri: input.uri, subscribed_events: input.subscribed_events, state: 'enabled' };
    recorder = await startRecordingServer((request) => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request.url.includes('rotateSigningSecret') ? { secret: 'whsec_AAAA' } : request.method === 'GET' && !request.url.includes('abc123') ? { webhooks: [webhook] } : webhook),
    }));
  });
  afterAll(async () => {
    await recorder.close();
  });

  it.each(API_VERSIONS)('for every operation under /%s: method, path, query, JSON body and x-goog-api-key', async (apiVersion) => {
    const key = 'same-key-for-both';
    const ours = createWebhookApi({ apiKey: key, apiRoot: recorder.url, apiVersion });
    const ai = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: recorder.url, apiVersion } });

    const scenario: Array<{ label: string; gemwh: () => Promise<unknown>; sdk: () => Promise<unknown> }> = [
      { label: 'create', gemwh: () => ours.create({ ...input, name: 'n' }), sdk: () => ai.webhooks.create({ ...input, name: 'n' }) },
      { label: 'list', gemwh: () => ours.list(), sdk: () => ai.webhooks.list() },
      {
        label: 'list paged',
        gemwh: () => ours.list({ page_size: 25, page_token: 'tok/en+=' }),
        sdk: () => ai.webhooks.list({ page_size: 25, page_token: 'tok/en+=' }),
      },
      { label: 'get', gemwh: () => ours.get('abc123'), sdk: () => ai.webhooks.get('abc123') },
      {
        label: 'update one field',
        gemwh: () => ours.update('abc123', { subscribed_events: ['batch.failed'] }),
        sdk: () => ai.webhooks.update('abc123', { subscribed_events: ['batch.failed'], update_mask: 'subscribed_events' }),
      },
      {
        label: 'update several fields',
        gemwh: () => ours.update('abc123', { state: 'disabled', name: 'renamed', uri: 'https://new.example/h' }),
        sdk: () =>
          ai.webhooks.update('abc123', { name: 'renamed', uri: 'https://new.example/h', state: 'disabled', update_mask: 'name,uri,state' }),
      },
      { label: 'delete', gemwh: () => ours.delete('abc123'), sdk: () => ai.webhooks.delete('abc123') },
      { label: 'ping', gemwh: () => ours.ping('abc123'), sdk: () => ai.webhooks.ping('abc123', { body: {} }) },
      {
        label: 'rotate (default behaviour)',
        gemwh: () => ours.rotateSigningSecret('abc123'),
        sdk: () => ai.webhooks.rotateSigningSecret('abc123'),
      },
      {
        label: 'rotate immediately',
        gemwh: () => ours.rotateSigningSecret('abc123', 'revoke_previous_secrets_immediately'),
        sdk: () => ai.webhooks.rotateSigningSecret('abc123', { revocation_behavior: 'revoke_previous_secrets_immediately' }),
      },
    ];

    for (const step of scenario) {
      const before = recorder.requests.length;
      await step.gemwh();
      await step.sdk();
      expect(recorder.requests.length - before, step.label).toBe(2);
      const [mine, theirs] = recorder.requests.slice(before).map(toWire);
      expect(mine, step.label).toEqual(theirs);
      expect(mine!.apiKey, step.label).toBe(key);
      expect(mine!.jsonContentType, step.label).toBe(true);
      expect(mine!.path.startsWith(`/${apiVersion}/webhooks`), step.label).toBe(true);
    }
  });

  it('uses /v1 when no version is given, as @google/genai 3.1+ does', async () => {
    const before = recorder.requests.length;
    await createWebhookApi({ apiKey: 'k', apiRoot: recorder.url }).list();
    expect(toWire(recorder.requests[before]!).path).toBe('/v1/webhooks');
  });
});
