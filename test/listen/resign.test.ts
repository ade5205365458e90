import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSigningKey, signJwt, toJwks, webhookClaims } from '../../src/core/jwt-sign.js';
import { createFileJwksSource } from '../../src/jwks/jwks-source.js';
import { parseTarget } from '../../src/flags/target.js';
import type { JournalForwardRecord } from '../../src/listen/journal-records.js';
import { createListenVerifier } from '../../src/listen/verification.js';
import { OLD_SECRET, SECRET, body, post, signedHeaders, startTestSession, type TestSession } from './helpers.js';

/**
 * A forward that waited (retried, resent, resumed) reaches an app that verifies the way Gemini's
 * guide says: the `standardwebhooks` package, whose 5-minute tolerance is fixed and measured on
 * the real clock. The listener's clock is injected 10 minutes behind while the deliveries
 * arrive, so they are "10 minutes old" by the time the app is up, without sleeping.
 */

const TEN_MINUTES = 10 * 60 * 1000;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

interface Received {
  headers: IncomingHttpHeaders;
  body: Buffer;
  accepted: boolean;
  refusal?: string;
}

/** An app that verifies with standardwebhooks and answers 503 while `up` is false. */
async function strictApp(secret = SECRET): Promise<{ port: number; received: Received[]; setUp(up: boolean): void }> {
  const wh = new Webhook(secret);
  const received: Received[] = [];
  let up = false;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!up) {
        res.writeHead(503).end('down');
        return;
      }
      const raw = Buffer.concat(chunks);
      try {
        wh.verify(raw.toString('utf8'), req.headers as Record<string, string>);
        received.push({ headers: req.headers, body: raw, accepted: true });
        res.writeHead(204).end();
      } catch (error) {
        const refusal = (error as Error).message;
        received.push({ headers: req.headers, body: raw, accepted: false, refusal });
        res.writeHead(400).end(refusal);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { port: (server.address() as AddressInfo).port, received, setUp: (value) => (up = value) };
}

/** A clock that starts 10 minutes behind and can be set right. */
function laggingClock(): { now: () => number; catchUp(): void } {
  let offset = -TEN_MINUTES;
  return { now: () => Date.now() + offset, catchUp: () => (offset = 0) };
}

/**
 * Sets the clock right, then waits until every delivery had an attempt begin after that (so
 * none prepared with the old clock is still on its way) before the app comes up.
 */
async function catchUpThenStart(t: TestSession, clock: { now: () => number; catchUp(): void }, app: { setUp(up: boolean): void }, seqs: number[]): Promise<void> {
  clock.catchUp();
  const caughtUp = clock.now();
  for (const seq of seqs) {
    await t.waitFor('forward_failed', (e) => e.seq === seq && t.session.getDelivery(seq)!.forwards.some((f) => f.at >= caughtUp));
  }
  app.setUp(true);
}

function forwardRecords(file: string): JournalForwardRecord[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"kind":"forward"'))
    .map((line) => JSON.parse(line) as JournalForwardRecord);
}

async function deliver(t: TestSession, clock: { now: () => number }, count: number): Promise<Array<{ id: string; raw: string; timestamp: string }>> {
  const sent = [];
  for (let i = 0; i < count; i++) {
    const id = `msg_resign_${i}_${Date.now().toString(36)}`;
    // Bytes a re-serialisation would change: the body must arrive exactly as signed.
    const raw = `{"type":"batch.succeeded",  "data":{"id":"batch_${i}","note":"é\\u00e9"}}`;
    const timestamp = Math.floor(clock.now() / 1000);
    expect((await post(t.session.url, raw, signedHeaders(raw, { id, timestamp }))).status).toBe(200);
    sent.push({ id, raw, timestamp: String(timestamp) });
  }
  return sent;
}

function expectAllAccepted(received: Received[], sent: Array<{ id: string; raw: string; timestamp: string }>): void {
  for (const delivery of sent) {
    const accepted = received.filter((r) => r.accepted && r.headers['webhook-id'] === delivery.id);
    expect(accepted, delivery.id).toHaveLength(1);
    expect(accepted[0]!.body.toString('utf8')).toBe(delivery.raw);
    expect(accepted[0]!.headers['webhook-timestamp']).not.toBe(delivery.timestamp);
  }
}

describe('a forward that waited is signed afresh', () => {
  it('retries reach an app that checks the timestamp, after it was down longer than its tolerance', async () => {
    const app = await strictApp();
    const clock = laggingClock();
    const t = await startTestSession({ forward: [parseTarget(`127.0.0.1:${app.port}`)], now: clock.now, retry: { initialMs: 50, maxMs: 100 } });
    cleanups.push(() => t.stop());
    const sent = await deliver(t, clock, 3);
    for (let seq = 1; seq <= 3; seq++) await t.waitFor('forward_failed', (e) => e.seq === seq);
    await catchUpThenStart(t, clock, app, [1, 2, 3]);
    for (let seq = 1; seq <= 3; seq++) {
      const forwarded = await t.waitFor('forwarded', (e) => e.seq === seq);
      expect(forwarded.signature).toBe('resigned');
    }
    expectAllAccepted(app.received, sent);
    // Journal lines are written in groups: all of them are on disk once the session stops.
    await t.session.stop();
    const records = forwardRecords(t.journalFile);
    expect(records.filter((r) => r.attempt === 1).every((r) => r.signature === 'as_received')).toBe(true);
    const resigned = records.filter((r) => r.ok);
    expect(resigned).toHaveLength(3);
    for (const record of resigned) expect(record).toMatchObject({ signature: 'resigned', timestamp: expect.stringMatching(/^\d+$/) });
  });

  it('forwards resumed by the next listen reach the app as well', async () => {
    const app = await strictApp();
    const clock = laggingClock();
    const first = await startTestSession({ forward: [parseTarget(`127.0.0.1:${app.port}`)], now: clock.now, retry: { initialMs: 60_000, maxMs: 60_000 } });
    let firstStopped = false;
    cleanups.push(() => (firstStopped ? undefined : first.stop()));
    const sent = await deliver(first, clock, 3);
    for (let seq = 1; seq <= 3; seq++) await first.waitFor('forward_failed', (e) => e.seq === seq);
    await first.session.stop();
    firstStopped = true;

    app.setUp(true);
    const second = await startTestSession({ dir: first.dir, forward: [parseTarget(`127.0.0.1:${app.port}`)] });
    cleanups.push(async () => {
      await second.stop();
      await first.stop();
    });
    for (const delivery of sent) await second.waitFor('forwarded', (e) => e.seq === sent.indexOf(delivery) + 1 && e.signature === 'resigned');
    expectAllAccepted(app.received, sent);
  });

  it('a resumed forward is signed afresh even when the next listen labels its secrets otherwise', async () => {
    const app = await strictApp();
    const clock = laggingClock();
    const first = await startTestSession({
      forward: [parseTarget(`127.0.0.1:${app.port}`)],
      now: clock.now,
      retry: { initialMs: 60_000, maxMs: 60_000 },
      secrets: [{ secret: SECRET, label: '--secret' }],
    });
    let firstStopped = false;
    cleanups.push(() => (firstStopped ? undefined : first.stop()));
    const sent = await deliver(first, clock, 1);
    await first.waitFor('forward_failed');
    await first.session.stop();
    firstStopped = true;

    app.setUp(true);
    // Now verified through the stored webhook: the journaled label "--secret" names no secret of this run.
    const second = await startTestSession({ dir: first.dir, forward: [parseTarget(`127.0.0.1:${app.port}`)], secrets: [{ secret: SECRET, label: 'wh_test' }] });
    cleanups.push(async () => {
      await second.stop();
      await first.stop();
    });
    await second.waitFor('forwarded', (e) => e.signature === 'resigned');
    expectAllAccepted(app.received, sent);
  });

  it('signs with every valid secret of the webhook, so an app still on the previous one accepts it', async () => {
    const app = await strictApp(OLD_SECRET);
    const clock = laggingClock();
    const t = await startTestSession({
      forward: [parseTarget(`127.0.0.1:${app.port}`)],
      now: clock.now,
      retry: { initialMs: 50, maxMs: 100 },
      secrets: [
        { secret: SECRET, label: 'wh_test' },
        { secret: OLD_SECRET, label: 'wh_test (previous)', expiresAt: Date.now() + TEN_MINUTES },
        { secret: 'whsec_' + Buffer.alloc(32, 9).toString('base64'), label: 'wh_other' },
      ],
    });
    cleanups.push(() => t.stop());
    const sent = await deliver(t, clock, 1);
    await t.waitFor('forward_failed');
    await catchUpThenStart(t, clock, app, [1]);
    await t.waitFor('forwarded');
    expectAllAccepted(app.received, sent);
    // One v1 signature per valid secret of this webhook; none with another webhook's.
    expect(String(app.received.find((r) => r.accepted)!.headers['webhook-signature']).split(' ')).toHaveLength(2);
  });

  it('--forward-as-received keeps the original headers, and the refusal names the timestamp', async () => {
    const app = await strictApp();
    const clock = laggingClock();
    const t = await startTestSession({ forward: [parseTarget(`127.0.0.1:${app.port}`)], now: clock.now, retry: { initialMs: 50, maxMs: 100 }, forwardAsReceived: true });
    cleanups.push(() => t.stop());
    const [delivery] = await deliver(t, clock, 1);
    await t.waitFor('forward_failed');
    clock.catchUp();
    app.setUp(true);
    const refused = await t.waitFor('forward_failed', (e) => e.status === 400);
    expect(refused).toMatchObject({ refusedFor: 'timestamp', nextAttemptAt: undefined });
    expect(app.received[0]!.headers['webhook-timestamp']).toBe(delivery!.timestamp);
    const details = t.session.getDelivery(refused.seq)!;
    expect(details.forwards.at(-1)).toMatchObject({ refusedFor: 'timestamp', signature: 'as_received', timestamp: delivery!.timestamp });
  });

  it('says so when a dynamic delivery is forwarded after its JWT expired', async () => {
    const key = await generateSigningKey();
    const dir = mkdtempSync(join(tmpdir(), 'gemwh-resign-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify(toJwks([key])));
    const app = await strictApp();
    const clock = laggingClock();
    const t = await startTestSession({
      forward: [parseTarget(`127.0.0.1:${app.port}`)],
      now: clock.now,
      retry: { initialMs: 50, maxMs: 100 },
      verify: createListenVerifier({ secrets: [], keys: createFileJwksSource(jwksFile), toleranceSec: 300, now: clock.now }),
    });
    cleanups.push(() => t.stop());
    const raw = body('interaction.completed');
    const claims = webhookClaims({ event: JSON.parse(raw), body: raw, webhookId: 'msg_jwt_late', audience: 'https://hooks.example.com', issuedAt: Math.floor(clock.now() / 1000), lifetimeSeconds: 120 });
    const headers = { 'content-type': 'application/json', 'webhook-id': 'msg_jwt_late', 'webhook-signature': await signJwt(claims, key) };
    expect((await post(t.session.url, raw, headers)).status).toBe(200);
    await t.waitFor('forward_failed', (e) => e.attempt === 1);
    clock.catchUp();
    const late = await t.waitFor('forward_failed', (e) => e.tokenExpired === true);
    expect(late.note).toMatch(/JWT expired.*cannot be re-signed/);
    expect(t.session.getDelivery(late.seq)!.forwards.at(-1)).toMatchObject({ tokenExpired: true });
  });
});
