import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { runGemwh } from '../helpers/deps.js';
import { startListenCli, type ListenCli } from '../helpers/listen-cli.js';
import { perTest } from '../helpers/per-test.js';
import { header } from '../helpers/recording-server.js';
import { post } from '../listen/helpers.js';

/**
 * The emulator's deliveries checked by `gemwh listen` itself (the CLI, in-process): the receiver
 * users will point at it, verifying with what they would give it.
 */

const { emulator, defer, ...servers } = perTest();
const sink = () => servers.sink(() => ({ status: 200 }));

/** Not a secret anything signs with: it keeps listen from opening the keychain for static ones. */
const UNUSED_SECRET = 'whsec_' + Buffer.alloc(32, 9).toString('base64');

/** `gemwh listen …args` (NDJSON: stdout is not a terminal), once it is ready. */
async function listen(args: string[]): Promise<Listen> {
  const cli = await startListenCli(args, { defer });
  const ready = await cli.waitFor((e) => e.type === 'ready', 'ready event');
  return { url: String(ready.url), events: cli.lines, waitFor: cli.waitFor };
}

interface Listen extends Pick<ListenCli, 'waitFor'> {
  url: string;
  events: ListenCli['lines'];
}

describe('static deliveries checked by gemwh listen', () => {
  it('during a 24 h rotation grace, listen accepts the delivery holding only the old or only the new secret', async () => {
    const e = await emulator();
    const created = e.store.create({ uri: 'http://127.0.0.1:9/', subscribed_events: ['batch.succeeded'] });
    const { secret: fresh } = e.store.rotateSigningSecret(created.id, 'revoke_previous_secrets_after_h24');
    // Three receivers: one knows only the old secret, one only the new, one neither.
    const receivers = [
      await listen(['--secret', created.new_signing_secret!]),
      await listen(['--secret', fresh!]),
      await listen(['--secret', UNUSED_SECRET]),
    ];
    const ids: string[] = [];
    for (const receiver of receivers) {
      e.store.update(created.id, { uri: receiver.url }, ['uri']);
      ids.push(e.deliveries.emit({ type: 'batch.succeeded' }).deliveries[0]!.deliveryId);
      // Not idle(): the refused one is retried (5 s later, time is not scaled here).
      await e.deliveries.quiet();
    }
    const [withOld, withNew, withNeither] = receivers as [Listen, Listen, Listen];
    expect(await withOld.waitFor((ev) => ev.type === 'verified', 'verified with the old secret')).toMatchObject({
      webhookId: ids[0],
      scheme: 'static',
      eventType: 'batch.succeeded',
    });
    expect(await withNew.waitFor((ev) => ev.type === 'verified', 'verified with the new secret')).toMatchObject({ webhookId: ids[1], scheme: 'static' });
    expect(await withNeither.waitFor((ev) => ev.type === 'rejected', 'rejection without the secrets')).toMatchObject({
      webhookId: ids[2],
      reason: 'no_matching_signature',
    });
    expect(e.deliveries.attempts().map((a) => [a.signatures, a.outcome])).toEqual([
      [2, 'delivered'],
      [2, 'delivered'],
      [2, 'failed'],
    ]);
  });

  it('--duplicate-rate 1 sends every delivery twice with the same webhook-id; listen reports the second as a duplicate', async () => {
    const e = await emulator({ delivery: { duplicateRate: 1 } });
    const created = e.store.create({ uri: 'http://127.0.0.1:9/', subscribed_events: ['video.generated'] });
    const real = await listen(['--secret', created.new_signing_secret!]);
    e.store.update(created.id, { uri: real.url }, ['uri']);

    const [delivery] = e.deliveries.emit({ type: 'video.generated' }).deliveries;
    const duplicate = await real.waitFor((ev) => ev.type === 'duplicate', 'duplicate event');
    expect(duplicate.webhookId).toBe(delivery!.deliveryId);
    await e.deliveries.idle();
    const verified = real.events().filter((ev) => ev.type === 'verified');
    expect(verified).toHaveLength(1);
    expect(e.deliveries.attempts().map((a) => [a.attempt, a.duplicate, a.outcome])).toEqual([
      [1, false, 'delivered'],
      [1, true, 'delivered'],
    ]);
  });
});

describe('dynamic deliveries checked by gemwh listen --jwks-url', () => {
  it('verifies RS256 JWT deliveries against the emulator JWKS, and rejects them once their key is withdrawn', async () => {
    const e = await emulator();
    const jwksUrl = `${e.url}/.well-known/jwks.json`;
    const capture = await sink();
    const first = await listen(['--secret', UNUSED_SECRET, '--jwks-url', jwksUrl]);

    const triggered = await runGemwh(
      ['trigger', 'interaction.completed', '--uri', first.url, '--uri', `${capture.url}/dyn`, '--metadata', 'tenant=acme', '--metadata', 'priority=3', '--set', 'data.id=v1_xyz', '--json'],
      { env: e.env },
    );
    expect(triggered.stderr).toBe('');
    expect(triggered.code).toBe(0);
    const deliveries = (JSON.parse(triggered.stdout) as { deliveries: Array<{ delivery_id: string; target: string; webhook_id?: string }> }).deliveries;
    expect(deliveries.map((d) => d.target)).toEqual([first.url, `${capture.url}/dyn`]);
    expect(deliveries.every((d) => d.webhook_id === undefined)).toBe(true);

    const verified = await first.waitFor((ev) => ev.type === 'verified', 'verified dynamic delivery');
    expect(verified).toMatchObject({ scheme: 'dynamic', eventType: 'interaction.completed', webhookId: deliveries[0]!.delivery_id });
    await e.deliveries.idle();

    // What was sent: webhook-id, webhook-timestamp and a JWT whose claims carry the event.
    const captured = capture.requests[0]!;
    const token = header(captured, 'webhook-signature');
    const webhookId = header(captured, 'webhook-id');
    expect(webhookId).toBe(deliveries[1]!.delivery_id);
    expect(header(captured, 'webhook-timestamp')).toMatch(/^\d+$/);
    const claims = decodeJwt(token);
    const kid = decodeProtectedHeader(token).kid;
    expect(decodeProtectedHeader(token).alg).toBe('RS256');
    expect(claims).toMatchObject({ iss: e.url, aud: `${capture.url}/dyn`, jti: webhookId, type: 'interaction.completed' });
    expect(claims.exp! - claims.iat!).toBe(300);
    expect(claims.iat).toBe(Number(header(captured, 'webhook-timestamp')));
    const body = JSON.parse(captured.body.toString()) as { data: Record<string, unknown> };
    expect(body.data).toEqual({ id: 'v1_xyz', user_metadata: { tenant: 'acme', priority: 3 } });
    expect(claims.data).toEqual(body.data);
    const replayHeaders = { 'content-type': 'application/json', 'webhook-id': webhookId, 'webhook-timestamp': header(captured, 'webhook-timestamp'), 'webhook-signature': token };

    // Rotating keeps the old key published: a fresh listener (nothing cached) still accepts the token.
    const rotated = await runGemwh(['emulator', 'jwks', 'rotate', '--json'], { env: e.env });
    expect(rotated.code).toBe(0);
    const rotation = JSON.parse(rotated.stdout) as { kid: string; keys: Array<{ kid: string; retire_time?: string }> };
    expect(rotation.kid).not.toBe(kid);
    expect(rotation.keys.map((k) => k.kid)).toEqual([rotation.kid, kid]);
    expect(Date.parse(rotation.keys[1]!.retire_time!) - Date.now()).toBeGreaterThan(3_500_000);
    const second = await listen(['--secret', UNUSED_SECRET, '--jwks-url', jwksUrl]);
    expect((await post(second.url, captured.body, replayHeaders)).status).toBe(200);
    await second.waitFor((ev) => ev.type === 'verified' && ev.scheme === 'dynamic', 'old-key token verified during retirement');

    // --drop-old withdraws it: a fresh listener no longer finds the kid.
    const dropped = await runGemwh(['emulator', 'jwks', 'rotate', '--drop-old'], { env: e.env });
    expect(dropped.code).toBe(0);
    const newestKid = dropped.stdout.trim();
    expect(dropped.stderr).toMatch(/withdrawn/);
    const jwks = (await (await fetch(jwksUrl)).json()) as { keys: Array<{ kid: string }> };
    expect(jwks.keys.map((k) => k.kid)).toEqual([newestKid]);
    const third = await listen(['--secret', UNUSED_SECRET, '--jwks-url', jwksUrl]);
    expect((await post(third.url, captured.body, replayHeaders)).status).toBeGreaterThanOrEqual(400);
    const rejected = await third.waitFor((ev) => ev.type === 'rejected', 'rejection of the withdrawn key');
    expect(rejected.reason).toBe('unknown_kid');

    // New deliveries are signed with the newest key and verify.
    const again = await runGemwh(['trigger', 'batch.succeeded', '--dynamic', '--uri', third.url], { env: e.env });
    expect(again.code).toBe(0);
    await third.waitFor((ev) => ev.type === 'verified' && ev.scheme === 'dynamic', 'verified with the newest key');
    await e.deliveries.idle();
    expect(e.deliveries.attempts().at(-1)).toMatchObject({ scheme: 'dynamic', kid: newestKid, outcome: 'delivered', signatures: 0 });
  });

  it('retries failed dynamic deliveries with a fresh token but the same webhook-id and jti', async () => {
    let calls = 0;
    const e = await emulator({ delivery: { timeScale: 100_000 } });
    const receiver = await servers.sink(() => ({ status: ++calls < 3 ? 500 : 200 }));
    const [delivery] = e.deliveries.emit({ type: 'batch.failed', dynamic: { uris: [receiver.url] } }).deliveries;
    await e.deliveries.idle();
    expect(receiver.requests).toHaveLength(3);
    const tokens = receiver.requests.map((r) => header(r, 'webhook-signature'));
    expect(new Set(receiver.requests.map((r) => header(r, 'webhook-id')))).toEqual(new Set([delivery!.deliveryId]));
    expect(new Set(tokens.map((t) => decodeJwt(t).jti))).toEqual(new Set([delivery!.deliveryId]));
    // Dynamic targets have no webhook to disable; the engine records them without a webhook id.
    expect(e.deliveries.attempts().every((a) => a.webhookId === undefined && a.scheme === 'dynamic')).toBe(true);
  });
});
