import { Webhook as StandardWebhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { EmulatorHttpError } from '../../src/emulator/google-error.js';
import { attemptOffsetsMs, retryDelayMs, DEFAULT_RETRY_SCHEDULE } from '../../src/emulator/deliveries/schedule.js';
import { manualTime } from '../helpers/manual-time.js';
import { perTest } from '../helpers/per-test.js';
import { header } from '../helpers/recording-server.js';

const { emulator, sink } = perTest();

function expectHttpError(fn: () => unknown, status: string, message: RegExp): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(EmulatorHttpError);
    expect((error as EmulatorHttpError).status).toBe(status);
    expect((error as EmulatorHttpError).message).toMatch(message);
    return;
  }
  throw new Error('expected an EmulatorHttpError');
}

describe('static deliveries', () => {
  it('posts the fixture payload with data overrides, signed per Standard Webhooks with the webhook secret', async () => {
    const e = await emulator();
    const receiver = await sink();
    const created = e.store.create({ uri: `${receiver.url}/hook`, subscribed_events: ['batch.succeeded'] });

    const result = e.deliveries.emit({ type: 'batch.succeeded', data: { id: 'batches/real-42' } });
    expect(result.deliveries).toEqual([{ deliveryId: expect.stringMatching(/^msg_[0-9A-Za-z]{24}$/), target: `${receiver.url}/hook`, webhookId: created.id }]);
    await e.deliveries.idle();

    expect(receiver.requests).toHaveLength(1);
    const request = receiver.requests[0]!;
    expect(request.url).toBe('/hook');
    expect(header(request, 'content-type')).toBe('application/json');
    expect(header(request, 'webhook-id')).toBe(result.deliveries[0]!.deliveryId);
    expect(Math.abs(Number(header(request, 'webhook-timestamp')) - Date.now() / 1000)).toBeLessThan(5);
    // The reference library, not gemwh's own verifier, decides whether the signature is right.
    const payload = new StandardWebhook(created.new_signing_secret!).verify(request.body.toString(), {
      'webhook-id': header(request, 'webhook-id'),
      'webhook-timestamp': header(request, 'webhook-timestamp'),
      'webhook-signature': header(request, 'webhook-signature'),
    }) as Record<string, unknown>;
    expect(payload).toMatchObject({ type: 'batch.succeeded', version: 'v1', data: { id: 'batches/real-42', output_file_uri: expect.any(String) } });
    // Compact JSON, as Gemini sends.
    expect(request.body.toString()).toBe(JSON.stringify(payload));

    const [attempt] = e.deliveries.attempts();
    expect(attempt).toMatchObject({ attempt: 1, outcome: 'delivered', status: 204, signatures: 1, scheme: 'static', webhookId: created.id, duplicate: false });
    expect(attempt!.nextRetryAt).toBeUndefined();
  });

  it('by default reaches every enabled webhook subscribed to the type, each with its own webhook-id', async () => {
    const e = await emulator();
    const receiver = await sink();
    const a = e.store.create({ uri: `${receiver.url}/a`, subscribed_events: ['batch.failed', 'batch.succeeded'] });
    const b = e.store.create({ uri: `${receiver.url}/b`, subscribed_events: ['batch.succeeded'] });
    e.store.create({ uri: `${receiver.url}/c`, subscribed_events: ['video.generated'] });
    const d = e.store.create({ uri: `${receiver.url}/d`, subscribed_events: ['batch.succeeded'] });
    e.store.update(d.id, { state: 'disabled' }, ['state']);

    const result = e.deliveries.emit({ type: 'batch.succeeded' });
    await e.deliveries.idle();
    expect(result.deliveries.map((x) => x.webhookId).sort()).toEqual([a.id, b.id].sort());
    expect(new Set(result.deliveries.map((x) => x.deliveryId)).size).toBe(2);
    expect(receiver.requests.map((r) => r.url).sort()).toEqual(['/a', '/b']);

    // --all: every enabled webhook, subscribed or not; disabled ones still get nothing.
    const all = e.deliveries.emit({ type: 'batch.succeeded', ignoreSubscriptions: true });
    expect(all.deliveries).toHaveLength(3);
    expect(e.deliveries.emit({ type: 'interaction.completed' }).deliveries).toEqual([]);
  });

  it('echoes a job\'s user_metadata (webhook_config without uris) in data.user_metadata of static deliveries', async () => {
    const e = await emulator();
    const receiver = await sink();
    e.store.create({ uri: receiver.url, subscribed_events: ['interaction.completed'] });
    e.deliveries.emit({ type: 'interaction.completed', data: { id: 'v1_job' }, userMetadata: { tenant: 'acme' } });
    await e.deliveries.idle();
    expect(JSON.parse(receiver.requests[0]!.body.toString())).toMatchObject({ data: { id: 'v1_job', user_metadata: { tenant: 'acme' } } });
  });

  it('refuses unknown event types and named webhooks that are unknown, disabled or not subscribed', async () => {
    const e = await emulator();
    const on = e.store.create({ uri: 'http://127.0.0.1:9/x', subscribed_events: ['batch.succeeded'] });
    const off = e.store.create({ uri: 'http://127.0.0.1:9/y', subscribed_events: ['batch.succeeded'] });
    e.store.update(off.id, { state: 'disabled_due_to_failed_deliveries' }, ['state']);

    expectHttpError(() => e.deliveries.emit({ type: 'batch.finished' }), 'INVALID_ARGUMENT', /no fixture for event type "batch.finished"/);
    expectHttpError(() => e.deliveries.emit({ type: 'batch.succeeded', webhookIds: ['nope'] }), 'NOT_FOUND', /nope/);
    expectHttpError(() => e.deliveries.emit({ type: 'batch.succeeded', webhookIds: [off.id] }), 'FAILED_PRECONDITION', /disabled_due_to_failed_deliveries/);
    expectHttpError(() => e.deliveries.emit({ type: 'video.generated', webhookIds: [on.id] }), 'FAILED_PRECONDITION', /not subscribed to video\.generated/);
    expectHttpError(() => e.deliveries.emit({ type: 'batch.succeeded', dynamic: { uris: ['ftp://x/y'] } }), 'INVALID_ARGUMENT', /http or https/);
    expect(e.deliveries.attempts()).toEqual([]);
  });

  it('signs with every valid secret during a 24 h rotation grace, and with one after an immediate rotation', async () => {
    const e = await emulator();
    const receiver = await sink();
    const created = e.store.create({ uri: receiver.url, subscribed_events: ['batch.succeeded'] });
    const old = created.new_signing_secret!;
    const { secret: fresh } = e.store.rotateSigningSecret(created.id, 'revoke_previous_secrets_after_h24');

    e.deliveries.emit({ type: 'batch.succeeded' });
    await e.deliveries.idle();
    const request = receiver.requests[0]!;
    const signatures = header(request, 'webhook-signature').split(' ');
    expect(signatures).toHaveLength(2);
    expect(signatures.every((s) => s.startsWith('v1,'))).toBe(true);
    const headers = { 'webhook-id': header(request, 'webhook-id'), 'webhook-timestamp': header(request, 'webhook-timestamp'), 'webhook-signature': signatures.join(' ') };
    for (const secret of [old, fresh!]) expect(() => new StandardWebhook(secret).verify(request.body.toString(), headers)).not.toThrow();
    expect(e.deliveries.attempts()[0]!.signatures).toBe(2);

    const { secret: newest } = e.store.rotateSigningSecret(created.id, 'revoke_previous_secrets_immediately');
    e.deliveries.emit({ type: 'batch.succeeded' });
    await e.deliveries.idle();
    const after = receiver.requests[1]!;
    expect(header(after, 'webhook-signature').split(' ')).toHaveLength(1);
    const afterHeaders = { 'webhook-id': header(after, 'webhook-id'), 'webhook-timestamp': header(after, 'webhook-timestamp'), 'webhook-signature': header(after, 'webhook-signature') };
    expect(() => new StandardWebhook(newest!).verify(after.body.toString(), afterHeaders)).not.toThrow();
    expect(() => new StandardWebhook(fresh!).verify(after.body.toString(), afterHeaders)).toThrow();
  });

  it('answers :ping with one webhook.ping delivery, whatever the subscriptions, and does not retry it', async () => {
    const e = await emulator({ delivery: { timeScale: 1_000_000 } });
    const receiver = await sink(() => ({ status: 503 }));
    const created = e.store.create({ uri: receiver.url, subscribed_events: ['video.generated'] });
    const response = await fetch(`${e.url}/v1beta/webhooks/${created.id}:ping`, { method: 'POST', headers: { 'x-goog-api-key': e.apiKey }, body: '{}' });
    expect(response.status).toBe(200);
    await e.deliveries.idle();
    expect(receiver.requests).toHaveLength(1);
    const payload = JSON.parse(receiver.requests[0]!.body.toString()) as Record<string, unknown>;
    expect(payload).toMatchObject({ type: 'webhook.ping', version: 'v1', data: { webhook_id: created.id } });
    expect(e.deliveries.attempts()).toMatchObject([{ eventType: 'webhook.ping', outcome: 'failed', status: 503, gaveUp: 'not_retried' }]);
    expect(e.store.get(created.id).state).toBe('enabled');
  });
});

describe('retries under time scaling', () => {
  it('follows the schedule for 24 emulated hours: same webhook-id, fresh timestamp and signature each time', async () => {
    // Unscaled, on a scheduler the test advances: the 24 h play out at once, to the millisecond.
    const start = Date.parse('2026-03-01T00:00:00Z');
    const time = manualTime(start);
    // The wall clock follows the scheduler, so each attempt's timestamp is the time it is due.
    const e = await emulator({
      clock: time.clock,
      delivery: { disableAfterFailures: 1000, scheduler: time.scheduler },
    });
    const arrivals: number[] = [];
    const receiver = await sink(() => {
      arrivals.push(time.clock.now() - start);
      return { status: 500, body: 'boom' };
    });
    const created = e.store.create({ uri: receiver.url, subscribed_events: ['batch.failed'] });

    const [delivery] = e.deliveries.emit({ type: 'batch.failed' }).deliveries;
    await e.deliveries.quiet();
    while (time.next()) await e.deliveries.quiet();
    await e.deliveries.idle();

    const offsets = attemptOffsetsMs();
    expect(offsets).toHaveLength(33);
    expect(offsets.slice(0, 5)).toEqual([0, 5_000, 15_000, 35_000, 75_000]);
    expect(offsets.at(-1)).toBeLessThanOrEqual(DEFAULT_RETRY_SCHEDULE.windowMs);
    expect(receiver.requests).toHaveLength(offsets.length);
    expect(time.delays).toEqual(offsets.slice(1).map((_, i) => retryDelayMs(i + 1)));
    expect(arrivals).toEqual(offsets);

    const ids = new Set(receiver.requests.map((r) => header(r, 'webhook-id')));
    expect(ids).toEqual(new Set([delivery!.deliveryId]));
    const timestamps = receiver.requests.map((r) => Number(header(r, 'webhook-timestamp')));
    expect(timestamps).toEqual(offsets.map((o) => Date.parse('2026-03-01T00:00:00Z') / 1000 + o / 1000));
    expect(new Set(receiver.requests.map((r) => header(r, 'webhook-signature'))).size).toBe(timestamps.length);
    // Each signature is valid for its own timestamp: the reference library checks the timestamp
    // against its own clock, so the signature is checked alone here.
    const secret = created.new_signing_secret!;
    const reference = new StandardWebhook(secret);
    for (const r of receiver.requests) {
      expect(reference.sign(header(r, 'webhook-id'), new Date(Number(header(r, 'webhook-timestamp')) * 1000), r.body.toString())).toBe(header(r, 'webhook-signature'));
    }

    const attempts = e.deliveries.attempts({ deliveryId: delivery!.deliveryId });
    expect(attempts.map((a) => a.attempt)).toEqual(offsets.map((_, i) => i + 1));
    expect(attempts.slice(0, -1).map((a) => a.nextRetryDelayMs)).toEqual(offsets.slice(1).map((o, i) => o - offsets[i]!));
    expect(attempts.every((a) => a.outcome === 'failed' && a.status === 500 && a.error === 'HTTP 500')).toBe(true);
    expect(attempts.at(-1)).toMatchObject({ gaveUp: 'retries_exhausted' });
    expect(attempts.at(-1)!.nextRetryAt).toBeUndefined();
    expect(e.store.get(created.id).state).toBe('enabled');
  });

  it('stops retrying once a 2xx arrives', async () => {
    let calls = 0;
    const time = manualTime();
    const e = await emulator({ delivery: { timeScale: 1000, scheduler: time.scheduler } });
    const receiver = await sink(() => ({ status: ++calls < 3 ? 502 : 200 }));
    e.store.create({ uri: receiver.url, subscribed_events: ['video.generated'] });
    e.deliveries.emit({ type: 'video.generated' });
    await e.deliveries.quiet();
    while (time.next()) await e.deliveries.quiet();
    await e.deliveries.idle();
    expect(receiver.requests).toHaveLength(3);
    // 5 s and 10 s of emulated time, a thousand times faster.
    expect(time.delays).toEqual([5, 10]);
    expect(e.deliveries.attempts().map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'delivered'],
    ]);
  });

  it('counts a receiver slower than the timeout as failed, and retries it', async () => {
    let calls = 0;
    const e = await emulator({ delivery: { timeScale: 100_000, timeoutMs: 300 } });
    const receiver = await sink(() => (++calls === 1 ? { status: 200, delayMs: 1500 } : { status: 200 }));
    e.store.create({ uri: receiver.url, subscribed_events: ['batch.expired'] });
    e.deliveries.emit({ type: 'batch.expired' });
    await e.deliveries.idle();
    const attempts = e.deliveries.attempts();
    expect(attempts).toHaveLength(2);
    expect(attempts[0]).toMatchObject({ outcome: 'failed', error: 'timed out: no answer within 300 ms', nextRetryDelayMs: 5000 });
    expect(attempts[0]!.status).toBeUndefined();
    expect(attempts[1]).toMatchObject({ attempt: 2, outcome: 'delivered' });
  });

  it('disables a webhook after 20 consecutive failed attempts; it then receives nothing until re-enabled', async () => {
    const e = await emulator({ delivery: { timeScale: 100_000 } });
    let healthy = false;
    const receiver = await sink(() => ({ status: healthy ? 200 : 500 }));
    const created = e.store.create({ uri: receiver.url, subscribed_events: ['batch.succeeded'] });

    e.deliveries.emit({ type: 'batch.succeeded' });
    await e.deliveries.idle();
    expect(receiver.requests).toHaveLength(20);
    expect(e.store.get(created.id).state).toBe('disabled_due_to_failed_deliveries');
    expect(e.deliveries.attempts().at(-1)).toMatchObject({ attempt: 20, gaveUp: 'webhook_auto_disabled' });

    // A disabled webhook is skipped by default and refused by name.
    expect(e.deliveries.emit({ type: 'batch.succeeded' }).deliveries).toEqual([]);
    expect(() => e.deliveries.emit({ type: 'batch.succeeded', webhookIds: [created.id] })).toThrow(/disabled_due_to_failed_deliveries/);

    // Re-enabled, it starts from a clean count.
    healthy = true;
    e.store.update(created.id, { state: 'enabled' }, ['state']);
    e.deliveries.emit({ type: 'batch.succeeded' });
    await e.deliveries.idle();
    expect(receiver.requests).toHaveLength(21);
    expect(e.deliveries.attempts().at(-1)).toMatchObject({ attempt: 1, outcome: 'delivered' });
  });

  it('drops pending retries when the webhook is deleted or disabled by the user', async () => {
    const time = manualTime();
    const e = await emulator({ delivery: { timeScale: 1, scheduler: time.scheduler } });
    const receiver = await sink(() => ({ status: 500 }));
    const created = e.store.create({ uri: receiver.url, subscribed_events: ['batch.succeeded'] });
    e.deliveries.emit({ type: 'batch.succeeded' });
    await e.deliveries.quiet();
    expect(e.deliveries.attempts()[0]).toMatchObject({ outcome: 'failed', nextRetryDelayMs: 5000 });
    expect(time.waiting).toBe(1);
    e.store.update(created.id, { state: 'disabled' }, ['state']);
    expect(time.waiting).toBe(0);
    await e.deliveries.idle();
    expect(receiver.requests).toHaveLength(1);
    expect(e.deliveries.attempts()[0]).toMatchObject({ gaveUp: 'webhook_unavailable' });
    expect(e.deliveries.attempts()[0]!.nextRetryAt).toBeUndefined();
  });
});

describe('the control endpoints', () => {
  it('trigger and deliveries need the API key; the JWKS is public and cacheable', async () => {
    const e = await emulator();
    const receiver = await sink();
    const created = e.store.create({ uri: receiver.url, subscribed_events: ['interaction.completed'] });
    const noKey = await fetch(`${e.url}/_emulator/trigger`, { method: 'POST', body: JSON.stringify({ type: 'interaction.completed' }) });
    expect(noKey.status).toBe(401);

    const triggered = await fetch(`${e.url}/_emulator/trigger`, {
      method: 'POST',
      headers: { 'x-goog-api-key': e.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'interaction.completed', data: { id: 'v1_abc' }, webhook_ids: [created.id] }),
    });
    expect(triggered.status).toBe(200);
    const body = (await triggered.json()) as { deliveries: Array<Record<string, string>> };
    expect(body.deliveries).toEqual([{ delivery_id: expect.stringMatching(/^msg_/), target: receiver.url, webhook_id: created.id }]);
    await e.deliveries.idle();

    const listed = await fetch(`${e.url}/_emulator/deliveries?webhook_id=${created.id}`, { headers: { 'x-goog-api-key': e.apiKey } });
    const attempts = ((await listed.json()) as { attempts: Array<Record<string, unknown>> }).attempts;
    expect(attempts).toMatchObject([{ delivery_id: body.deliveries[0]!.delivery_id, event_type: 'interaction.completed', attempt: 1, outcome: 'delivered', status: 204 }]);

    const bad = await fetch(`${e.url}/_emulator/trigger`, { method: 'POST', headers: { 'x-goog-api-key': e.apiKey }, body: JSON.stringify({ type: 'nope.nope' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { status: string } }).error.status).toBe('INVALID_ARGUMENT');

    const jwks = await fetch(`${e.url}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    expect(jwks.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const doc = (await jwks.json()) as { keys: Array<Record<string, string>> };
    expect(doc.keys).toHaveLength(1);
    expect(doc.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String), n: expect.any(String), e: 'AQAB' });
    expect(doc.keys[0]!.d).toBeUndefined();
  });
});
