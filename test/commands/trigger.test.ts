import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { runGemwh } from '../helpers/deps.js';
import { closedPort } from '../helpers/loopback.js';
import { perTest } from '../helpers/per-test.js';
import { startGemwh } from '../helpers/start-gemwh.js';

const { emulator, sink, defer } = perTest();

function json<T = Record<string, unknown>>(text: string): T {
  return JSON.parse(text) as T;
}

describe('gemwh trigger', () => {
  it('sends the fixture with --set changes to the subscribed webhooks and prints the deliveries', async () => {
    const e = await emulator();
    const receiver = await sink();
    const hook = e.store.create({ uri: `${receiver.url}/gemini`, subscribed_events: ['batch.succeeded'] });
    e.store.create({ uri: `${receiver.url}/other`, subscribed_events: ['video.generated'] });

    const result = await runGemwh(['trigger', 'batch.succeeded', '--set', 'data.id=batches/abc', '--set', 'data.extra={"n":1}', '--json'], { env: e.env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = json<{ event_type: string; deliveries: Array<Record<string, string>> }>(result.stdout);
    expect(out).toEqual({
      event_type: 'batch.succeeded',
      deliveries: [{ delivery_id: expect.stringMatching(/^msg_/), target: `${receiver.url}/gemini`, webhook_id: hook.id }],
    });
    await e.deliveries.idle();
    expect(receiver.requests.map((r) => r.url)).toEqual(['/gemini']);
    const body = json<{ type: string; data: Record<string, unknown> }>(receiver.requests[0]!.body.toString());
    expect(body.type).toBe('batch.succeeded');
    // Fields the fixture has and --set did not touch survive.
    expect(body.data).toEqual({ id: 'batches/abc', output_file_uri: expect.any(String), extra: { n: 1 } });
    expect(receiver.requests[0]!.headers['webhook-id']).toBe(out.deliveries[0]!.delivery_id);
  });

  it('--wait reports the first attempt, and exits 9 when it failed', async () => {
    const e = await emulator({ delivery: { timeScale: 1 } });
    const ok = await sink(() => ({ status: 200 }));
    const bad = await sink(() => ({ status: 500 }));
    const good = e.store.create({ uri: ok.url, subscribed_events: ['interaction.completed'] });
    const failing = e.store.create({ uri: bad.url, subscribed_events: ['interaction.completed'] });

    const success = await runGemwh(['trigger', 'interaction.completed', '--webhook', good.id, '--wait'], { env: e.env });
    expect(success.code).toBe(0);
    expect(success.stdout.split('\n')[0]).toBe('DELIVERY ID\tWEBHOOK\tTARGET\tFIRST ATTEMPT');
    expect(success.stdout).toContain(`\t${good.id}\t${ok.url}\tdelivered: HTTP 200`);

    const failure = await runGemwh(['trigger', 'interaction.completed', '--webhook', failing.id, '--wait'], { env: e.env });
    expect(failure.code).toBe(ExitCode.CHECK_FAILED);
    expect(failure.stdout).toContain('failed: HTTP 500');
    expect(failure.stderr).toMatch(/1 of 1 deliveries failed at the first attempt \(failed: HTTP 500\)/);
    expect(failure.stderr).toMatch(/keeps retrying/);
  });

  it('--wait counts the answered first attempts on a terminal\'s stderr and erases the line; nothing with --json', async () => {
    const e = await emulator({ delivery: { timeScale: 1 } });
    const ok = await sink(() => ({ status: 200 }));
    e.store.create({ uri: ok.url, subscribed_events: ['batch.failed'] });
    e.store.create({ uri: `${ok.url}/second`, subscribed_events: ['batch.failed'] });

    const tty = await runGemwh(['trigger', 'batch.failed', '--wait'], { env: e.env, stderrIsTTY: true });
    expect(tty.code).toBe(0);
    expect(tty.stderr).toContain('\r\x1b[K[0/2] first attempts answered; waiting for batch.failed to reach the rest');
    expect(tty.stderr).toMatch(/\r\x1b\[KSent batch\.failed to 2 webhooks/);
    const json = await runGemwh(['trigger', 'batch.failed', '--wait', '--json'], { env: e.env, stderrIsTTY: true });
    expect(json.code).toBe(0);
    expect(json.stderr).not.toContain('\r');
  });

  it('--all reaches unsubscribed webhooks; without subscribers it exits 5 and says how to get one', async () => {
    const e = await emulator();
    const receiver = await sink();
    e.store.create({ uri: receiver.url, subscribed_events: ['batch.failed'] });

    const none = await runGemwh(['trigger', 'video.generated'], { env: e.env });
    expect(none.code).toBe(ExitCode.NOT_FOUND);
    expect(none.stderr).toMatch(/no enabled webhook on the emulator is subscribed to video\.generated/);
    expect(none.stderr).toMatch(/gemwh create --uri URL --events video\.generated/);

    const all = await runGemwh(['trigger', 'video.generated', '--all', '--json'], { env: e.env });
    expect(all.code).toBe(0);
    await e.deliveries.idle();
    expect(json<{ type: string }>(receiver.requests[0]!.body.toString()).type).toBe('video.generated');
  });

  it('explains refusals: unsubscribed or disabled webhooks, unknown ids and types, bad --set', async () => {
    const e = await emulator();
    const hook = e.store.create({ uri: 'http://127.0.0.1:9/x', subscribed_events: ['batch.failed'] });

    const unsubscribed = await runGemwh(['trigger', 'batch.succeeded', '--webhook', hook.id], { env: e.env });
    expect(unsubscribed.code).toBe(ExitCode.USAGE);
    expect(unsubscribed.stderr).toMatch(/not subscribed to batch\.succeeded/);
    expect(unsubscribed.stderr).toMatch(/--add-events/);
    // The webhook is enabled: re-enabling it would not help.
    expect(unsubscribed.stderr).not.toMatch(/--state enabled|re-enable/);

    e.store.update(hook.id, { state: 'disabled' }, ['state']);
    const disabled = await runGemwh(['trigger', 'batch.failed', '--webhook', hook.id], { env: e.env });
    expect(disabled.code).toBe(ExitCode.USAGE);
    expect(disabled.stderr).toMatch(/is disabled/);
    expect(disabled.stderr).toMatch(/--state enabled/);
    expect(disabled.stderr).not.toMatch(/--add-events/);

    const unknown = await runGemwh(['trigger', 'batch.failed', '--webhook', 'nosuchwebhook'], { env: e.env });
    expect(unknown.code).toBe(ExitCode.NOT_FOUND);

    const badType = await runGemwh(['trigger', 'batch.done'], { env: e.env });
    expect(badType.code).toBe(ExitCode.USAGE);
    expect(badType.stderr).toMatch(/unknown event type "batch\.done"/);

    // The catalog's words, as --events and `gemwh events` use them.
    const nearMiss = await runGemwh(['trigger', 'batch.succeded'], { env: e.env });
    expect(nearMiss.code).toBe(ExitCode.USAGE);
    expect(nearMiss.stderr).toMatch(/unknown event type "batch\.succeded" \(did you mean "batch\.succeeded"\?\)/);
    const pattern = await runGemwh(['trigger', 'batch.*'], { env: e.env });
    expect(pattern.code).toBe(ExitCode.USAGE);
    expect(pattern.stderr).toMatch(/patterns such as "batch\.\*" are not accepted here/);
    expect(pattern.stderr).not.toMatch(/no fixture/);
    const two = await runGemwh(['trigger', 'batch.failed,batch.expired'], { env: e.env });
    expect(two.code).toBe(ExitCode.USAGE);
    expect(two.stderr).toMatch(/one event type at a time/);

    const ping = await runGemwh(['trigger', 'webhook.ping'], { env: e.env });
    expect(ping.code).toBe(ExitCode.USAGE);
    expect(ping.stderr).toMatch(/gemwh ping WEBHOOK_ID/);

    const badSet = await runGemwh(['trigger', 'batch.failed', '--set', 'type=other'], { env: e.env });
    expect(badSet.code).toBe(ExitCode.USAGE);
    expect(badSet.stderr).toMatch(/only data\.\* fields can be set/);

    const mixed = await runGemwh(['trigger', 'batch.failed', '--dynamic', '--uri', 'http://127.0.0.1:9/', '--all'], { env: e.env });
    expect(mixed.code).toBe(ExitCode.USAGE);
    const noUri = await runGemwh(['trigger', 'batch.failed', '--dynamic'], { env: e.env });
    expect(noUri.code).toBe(ExitCode.USAGE);
    expect(noUri.stderr).toMatch(/--dynamic needs at least one --uri/);
    expect(e.deliveries.attempts()).toEqual([]);
  });

  it('works only against the emulator: refuses the real API and no --api-root, and says when nothing listens', async () => {
    const real = await runGemwh(['trigger', 'batch.succeeded', '--api-root', 'https://generativelanguage.googleapis.com'], { env: { GEMINI_API_KEY: 'k' } });
    expect(real.code).toBe(ExitCode.USAGE);
    expect(real.stderr).toMatch(/works only against `gemwh emulator`, not the real Gemini API/);
    expect(real.stderr).not.toMatch(/\n\s+at /);

    const unset = await runGemwh(['trigger', 'batch.succeeded'], { env: { GEMINI_API_KEY: 'k' } });
    expect(unset.code).toBe(ExitCode.USAGE);
    expect(unset.stderr).toMatch(/--api-root http:\/\/127\.0\.0\.1:8790/);

    const port = await closedPort();
    const down = await runGemwh(['trigger', 'batch.succeeded', '--api-root', `http://127.0.0.1:${port}`], { env: { GEMINI_API_KEY: 'k' } });
    expect(down.code).toBe(ExitCode.NETWORK);
    expect(down.stderr).toMatch(/cannot reach the emulator .*connection refused/);

    // A server that is not the emulator (any other HTTP server) is named as such.
    const other = await sink(() => ({ status: 404, body: 'Not Found' }));
    const notEmulator = await runGemwh(['trigger', 'batch.succeeded', '--api-root', other.url], { env: { GEMINI_API_KEY: 'k' } });
    expect(notEmulator.code).toBe(ExitCode.USAGE);
    expect(notEmulator.stderr).toMatch(/is not a gemwh emulator/);
  });

  it('needs the key an emulator started with --api-key wants', async () => {
    const e = await emulator();
    const wrong = await runGemwh(['trigger', 'batch.succeeded'], { env: { ...e.env, GEMINI_API_KEY: 'wrong' } });
    expect(wrong.code).toBe(ExitCode.AUTH);
    expect(wrong.stderr).toMatch(/the emulator refused the request/);
  });
});

describe('gemwh trigger --wait interrupted', () => {
  it('Ctrl-C while waiting says the emulator accepted and queued the delivery, not that it never answered', async () => {
    const e = await emulator({ delivery: { timeScale: 1 } });
    // A receiver that takes its time: the first attempt is still in flight when the user gives up.
    const slow = await sink(() => ({ status: 200, delayMs: 3000 }));
    e.store.create({ uri: slow.url, subscribed_events: ['batch.succeeded'] });

    const trigger = await startGemwh(['trigger', 'batch.succeeded', '--wait'], { defer, env: e.env, signal: 'SIGINT' });
    // What the client printed, not what the emulator did: the trigger's reply may still be on its way to the client.
    await trigger.until('trigger to say it is waiting', () => (/queued 1 delivery of batch\.succeeded \(\S+\); waiting/.test(trigger.t.stderr()) ? true : undefined), 30_000);
    expect(await trigger.stop()).toBe(ExitCode.INTERRUPTED);
    const stderr = trigger.t.stderr();
    expect(stderr).not.toMatch(/stopped before the emulator answered/);
    const id = /queued 1 delivery of batch\.succeeded \((\S+)\); waiting/.exec(stderr)![1]!;
    expect(stderr).toMatch(new RegExp(`the emulator accepted batch\\.succeeded and queued 1 delivery \\(${id}\\); 1 not confirmed yet`));
    expect(stderr).toMatch(new RegExp(`gemwh emulator deliveries --delivery ${id}`));
  });
});

describe('gemwh emulator deliveries', () => {
  it('says when no attempt matches the filters, rather than that none was made', async () => {
    const e = await emulator();
    const none = await runGemwh(['emulator', 'deliveries', '--delivery', 'msg_nosuch'], { env: e.env });
    expect(none.code).toBe(0);
    expect(none.stderr).toMatch(/No delivery attempts yet/);

    const receiver = await sink();
    e.store.create({ uri: receiver.url, subscribed_events: ['batch.failed'] });
    e.deliveries.emit({ type: 'batch.failed' });
    await e.deliveries.idle();

    const result = await runGemwh(['emulator', 'deliveries', '--delivery', 'msg_nosuch'], { env: e.env });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toMatch(/No delivery attempts yet/);
    expect(result.stderr).toMatch(/No delivery attempt matches --delivery msg_nosuch \(the emulator has 1 attempt in all\)/);
  });


  it('lists every attempt with status, latency and the next retry; --webhook filters; --json is stable', async () => {
    const e = await emulator({ delivery: { timeScale: 1 } });
    const ok = await sink(() => ({ status: 202 }));
    const bad = await sink(() => ({ status: 503 }));
    const good = e.store.create({ uri: ok.url, subscribed_events: ['batch.expired'] });
    const failing = e.store.create({ uri: bad.url, subscribed_events: ['batch.expired'] });
    e.deliveries.emit({ type: 'batch.expired' });
    while (e.deliveries.attempts().filter((a) => a.outcome !== 'in_flight').length < 2) await new Promise((r) => setTimeout(r, 5));

    const listed = await runGemwh(['emulator', 'deliveries', '--json'], { env: e.env });
    expect(listed.code).toBe(0);
    const attempts = json<{ attempts: Array<Record<string, unknown>> }>(listed.stdout).attempts;
    expect(attempts).toHaveLength(2);
    const failed = attempts.find((a) => a.webhook_id === failing.id)!;
    expect(failed).toMatchObject({ event_type: 'batch.expired', attempt: 1, outcome: 'failed', status: 503, error: 'HTTP 503', next_retry_delay_ms: 5000 });
    expect(Date.parse(String(failed.next_retry_time)) - Date.parse(String(failed.time))).toBeGreaterThanOrEqual(4900);
    expect(attempts.find((a) => a.webhook_id === good.id)).toMatchObject({ outcome: 'delivered', status: 202, latency_ms: expect.any(Number) });

    const filtered = await runGemwh(['emulator', 'deliveries', '--webhook', good.id], { env: e.env });
    expect(filtered.code).toBe(0);
    const lines = filtered.stdout.trim().split('\n');
    expect(lines[0]).toBe('TIME\tEVENT\tDELIVERY ID\tWEBHOOK\tTARGET\tATTEMPT\tRESULT\tLATENCY\tNEXT');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`\tbatch.expired\t`);
    expect(lines[1]).toContain(`\t${good.id}\t${ok.url}\t1\tdelivered: HTTP 202\t`);

    const table = await runGemwh(['emulator', 'deliveries', '--webhook', failing.id], { env: e.env });
    expect(table.stdout).toMatch(/\tfailed: HTTP 503\t\d+ ms\tretry at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
  });
});

describe('gemwh emulator delivery flags', () => {
  it('--time-scale, --duplicate-rate and --disable-after reach the engine; each attempt is logged on stderr', async () => {
    const receiver = await sink(() => ({ status: 500 }));
    const { t, firstLine } = await startGemwh(['emulator', '--port', '0', '--time-scale', '1000000', '--disable-after', '3', '--duplicate-rate', '0'], { defer });
    const deadline = Date.now() + 5000;
    const url = await firstLine();
    expect(t.stderr()).toContain(`JWKS at ${url}/.well-known/jwks.json`);
    const env = { GEMWH_API_ROOT: url, GEMINI_API_KEY: 'any' };
    const created = await runGemwh(['create', '--uri', receiver.url, '--events', 'batch.failed', '--json', '--secret-store', 'file'], { env });
    expect(created.code).toBe(0);
    const id = (JSON.parse(created.stdout) as { id: string }).id;

    expect((await runGemwh(['trigger', 'batch.failed'], { env })).code).toBe(0);
    // Three failures 5, 10 s apart in emulated time take microseconds; then the webhook is disabled.
    for (;;) {
      const got = await runGemwh(['get', id, '--json'], { env });
      if ((JSON.parse(got.stdout) as { state: string }).state === 'disabled_due_to_failed_deliveries') break;
      if (Date.now() > deadline) throw new Error(`not disabled: ${t.stderr()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(receiver.requests).toHaveLength(3);
    const logged = t.stderr().split('\n').filter((line) => line.startsWith('deliver batch.failed'));
    expect(logged).toHaveLength(3);
    expect(logged[0]).toMatch(/^deliver batch\.failed msg_\w+ -> http:\/\/127\.0\.0\.1:\d+ attempt 1: failed HTTP 500 \(\d+ ms\), retry in 5 s \(emulated\)$/);
    expect(logged[2]).toMatch(/attempt 3: failed HTTP 500 .*webhook_auto_disabled$/);
  });

  it('refuses bad values with a usage error', async () => {
    for (const [flag, value, message] of [
      ['--time-scale', '0', /--time-scale must be a positive number/],
      ['--time-scale', 'fast', /--time-scale must be a positive number/],
      ['--duplicate-rate', '2', /--duplicate-rate must be a number from 0 to 1/],
      ['--disable-after', '0', /--disable-after must be a whole number/],
      ['--delivery-timeout', 'soon', /--delivery-timeout: "soon" is not a duration/],
    ] as const) {
      const result = await runGemwh(['emulator', '--port', '0', flag, value]);
      expect(result.code, `${flag} ${value}`).toBe(ExitCode.USAGE);
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe('');
    }
  });
});
