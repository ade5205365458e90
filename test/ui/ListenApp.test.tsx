import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { render } from 'ink-testing-library';
import stringWidth from 'string-width';
import { afterEach, describe, expect, it } from 'vitest';
import type { ListenEvent } from '../../src/listen/events.js';
import { createStateBatcher, type StateBatcher } from '../../src/ui/batcher.js';
import { ListenApp } from '../../src/ui/ListenApp.js';
import { makeTheme } from '../../src/ui/theme.js';
import type { ListenUiTrigger } from '../../src/ui/types.js';
import { startRecordingServer } from '../helpers/recording-server.js';
import { deliveredEvents, detailsFor, FakeSession, localTime, READY } from './fake-session.js';

const KEY = {
  up: '\u001B[A',
  down: '\u001B[B',
  enter: '\r',
  escape: '\u001B',
  ctrlC: '\u0003',
};

const mounted: Array<{ unmount(): void; batcher: StateBatcher }> = [];

afterEach(() => {
  for (const m of mounted.splice(0)) {
    m.unmount();
    m.batcher.close();
  }
});

function mount(session: FakeSession, options: { rows?: number; columns?: number; trigger?: ListenUiTrigger; color?: boolean; exportDir?: string } = {}) {
  const batcher = createStateBatcher({ intervalMs: 5 });
  const unsubscribe = session.on((event) => batcher.push(event));
  for (const event of session.history()) batcher.push(event);
  const app = render(
    <ListenApp
      batcher={batcher}
      session={session}
      color={options.color ?? false}
      rows={options.rows ?? 30}
      columns={options.columns}
      trigger={options.trigger}
      exportDir={options.exportDir ?? '/nonexistent/gemwh-test'}
    />,
  );
  mounted.push({
    batcher,
    unmount: () => {
      unsubscribe();
      app.unmount();
    },
  });
  const frame = () => app.lastFrame() ?? '';
  const waitFor = async (predicate: (frame: string) => boolean, what = 'a matching frame') => {
    const deadline = Date.now() + 3000;
    while (!predicate(frame())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last frame:\n${frame()}`);
      await sleep(5);
    }
    return frame();
  };
  const press = async (...keys: string[]) => {
    for (const key of keys) {
      app.stdin.write(key);
      // Ink parses a lone ESC only after a short pause, and each key must land in its own render.
      await sleep(key === KEY.escape ? 60 : 10);
    }
  };
  return { app, batcher, frame, waitFor, press };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The line of the list that shows delivery `seq`. */
function rowLine(frame: string, seq: number): string {
  return frame.split('\n').find((line) => new RegExp(`\\s#${seq}\\s`).test(line)) ?? '';
}

describe('ListenApp', () => {
  it('shows where it listens, what it forwards to and verifies against, and the counters', async () => {
    const session = new FakeSession([{ ...READY, journal: '/tmp/gemwh/journal.ndjson' } as ListenEvent, ...deliveredEvents(1), ...deliveredEvents(2)]);
    const ui = mount(session);
    const frame = await ui.waitFor((f) => f.includes('listening on'));
    expect(frame).toContain('listening on http://127.0.0.1:8787/webhook → http://localhost:3000/hook');
    expect(frame).toContain('verifying against webhooks k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f; secrets whsec_…ab12\n');
    expect(frame).toContain('JWKS https://example.test/jwks  journal /tmp/gemwh/journal.ndjson\n');
    expect(frame).toContain('received 2  ✓ 2  ✗ 0  DUP 0  forwarded 2  failed 0');
  });

  it('lists deliveries with time, type, short id, verdict and forward result', async () => {
    const session = new FakeSession([
      READY,
      ...deliveredEvents(1),
      { type: 'received', at: localTime(2), seq: 2, method: 'POST', path: '/webhook', webhookId: 'msg_bad', eventType: 'batch.failed', bodyBytes: 9 },
      {
        type: 'rejected',
        at: localTime(2),
        seq: 2,
        status: 401,
        reason: 'no_matching_signature',
        explanation: 'x',
        diagnosis: [],
        webhookId: 'msg_bad',
        eventType: 'batch.failed',
      },
      { type: 'received', at: localTime(3), seq: 3, method: 'POST', path: '/webhook', webhookId: 'msg_00000001abcdef', bodyBytes: 9 },
      { type: 'duplicate', at: localTime(3), seq: 3, webhookId: 'msg_00000001abcdef', eventType: 'batch.succeeded', firstSeq: 1 },
      ...deliveredEvents(4, 'video.generated').slice(0, 2),
      ...deliveredEvents(5, 'interaction.completed').slice(0, 2),
      {
        type: 'forward_failed',
        at: localTime(5),
        seq: 5,
        target: 'http://localhost:3000/hook',
        attempt: 1,
        error: 'connect ECONNREFUSED 127.0.0.1:3000',
        latencyMs: 1,
        nextAttemptAt: localTime(9),
      },
    ]);
    const ui = mount(session);
    const frame = await ui.waitFor((f) => f.includes('#5'));
    expect(rowLine(frame, 1)).toMatch(/12:00:01 +#1 +batch\.succeeded +msg_…bcdef +✓ +200 12ms/);
    expect(rowLine(frame, 2)).toMatch(/12:00:02 +#2 +batch\.failed +msg_bad +✗ no_matching_signature/);
    expect(rowLine(frame, 3)).toMatch(/#3 +batch\.succeeded +msg_…bcdef +DUP of #1/);
    expect(rowLine(frame, 4)).toMatch(/#4 +video\.generated .*✓ +pending/);
    expect(rowLine(frame, 5)).toMatch(/#5 +interaction\.completed .*✓ +✗ refused, retrying in 4s/);
    expect(frame).toMatch(/↑↓ select {2}enter\/d detail {2}r forward again {2}f filter {2}s save as curl {2}c clear {2}q quit/);
  });

  describe('at 80 and 120 columns', () => {
    const NO_TARGET: ListenEvent = { ...READY, forwardTargets: [] } as ListenEvent;
    /** What `listen --emulator --demo` shows: no target, long types, a rejection. */
    function demoEvents(): ListenEvent[] {
      return [
        NO_TARGET,
        { type: 'received', at: localTime(1), seq: 1, method: 'POST', path: '/webhook', webhookId: 'msg_1', eventType: 'interaction.requires_action', bodyBytes: 9 },
        { type: 'verified', at: localTime(1), seq: 1, webhookId: 'msg_1', eventType: 'interaction.requires_action', scheme: 'static', willForward: false },
        { type: 'received', at: localTime(2), seq: 2, method: 'POST', path: '/webhook', webhookId: 'msg_2', eventType: 'batch.failed', bodyBytes: 9 },
        { type: 'rejected', at: localTime(2), seq: 2, status: 401, reason: 'no_matching_signature', explanation: 'x', diagnosis: [], webhookId: 'msg_2', eventType: 'batch.failed' },
      ];
    }

    for (const columns of [80, 120]) {
      it(`shows the whole event type and rejection reason and no FORWARD column without a target (${columns})`, async () => {
        const ui = mount(new FakeSession(demoEvents()), { columns });
        const frame = await ui.waitFor((f) => f.includes('#2'));
        expect(rowLine(frame, 1)).toMatch(/#1 +interaction\.requires_action +msg_1 +✓$/);
        expect(rowLine(frame, 2)).toMatch(/#2 +batch\.failed +msg_2 +✗ no_matching_signature$/);
        expect(frame).not.toContain('FORWARD');
        expect(frame).not.toContain('not forwarded');
        for (const line of frame.split('\n')) expect(stringWidth(line)).toBeLessThanOrEqual(columns);
      });

      it(`keeps the event type, verdict and a retry readable with a target (${columns})`, async () => {
        const session = new FakeSession([
          READY,
          ...deliveredEvents(1, 'interaction.requires_action').slice(0, 2),
          { type: 'forward_failed', at: localTime(1), seq: 1, target: 'http://localhost:3000/hook', attempt: 1, error: 'connect ECONNREFUSED 127.0.0.1:3000', latencyMs: 1, nextAttemptAt: localTime(5) },
          ...deliveredEvents(2),
          { type: 'received', at: localTime(3), seq: 3, method: 'POST', path: '/webhook', webhookId: 'msg_3', eventType: 'interaction.requires_action', bodyBytes: 9 },
          { type: 'rejected', at: localTime(3), seq: 3, status: 401, reason: 'no_matching_signature', explanation: 'x', diagnosis: [], webhookId: 'msg_3', eventType: 'interaction.requires_action' },
        ]);
        const ui = mount(session, { columns });
        const frame = await ui.waitFor((f) => f.includes('#3'));
        // A rejected row forwards nothing, so its reason runs on into the FORWARD column.
        expect(rowLine(frame, 3)).toMatch(/#3 +interaction\.requires_action +(msg_3 +)?✗ no_matching_signature$/);
        expect(frame).toContain('FORWARD');
        // At 80 columns the short webhook id makes way (the detail view has it whole).
        expect(rowLine(frame, 1)).toMatch(columns === 80 ? /#1 +interaction\.requires_action ✓ +✗ refused, retrying in 4s$/ : /#1 +interaction\.requires_action +msg_…bcdef ✓ +✗ refused, retrying in 4s$/);
        // A column of ✓ is not padded to the width of a rejection reason.
        expect(rowLine(frame, 2)).toMatch(/batch\.succeeded +(msg_…bcdef )?✓ {1,7}200 12ms$/);
        for (const line of frame.split('\n')) expect(stringWidth(line)).toBeLessThanOrEqual(columns);
      });

      it(`aligns columns after an event type in CJK, measured in terminal cells (${columns})`, async () => {
        const session = new FakeSession([
          { ...READY, forwardTargets: [] } as ListenEvent,
          { type: 'received', at: localTime(1), seq: 1, method: 'POST', path: '/webhook', webhookId: 'msg_1', eventType: '注文.完了', bodyBytes: 9 },
          { type: 'verified', at: localTime(1), seq: 1, webhookId: 'msg_1', eventType: '注文.完了', scheme: 'static', willForward: false },
          { type: 'received', at: localTime(2), seq: 2, method: 'POST', path: '/webhook', webhookId: 'msg_2', eventType: 'batch.succeeded', bodyBytes: 9 },
          { type: 'verified', at: localTime(2), seq: 2, webhookId: 'msg_2', eventType: 'batch.succeeded', scheme: 'static', willForward: false },
        ]);
        const ui = mount(session, { columns });
        const frame = await ui.waitFor((f) => f.includes('#2'));
        const cjk = rowLine(frame, 1);
        const ascii = rowLine(frame, 2);
        const cellsBefore = (line: string, text: string) => stringWidth(line.slice(0, line.indexOf(text)));
        expect(cellsBefore(cjk, 'msg_1')).toBe(cellsBefore(ascii, 'msg_2'));
        expect(cellsBefore(frame.split('\n').find((l) => l.includes('WEBHOOK-ID')) ?? '', 'WEBHOOK-ID')).toBe(cellsBefore(ascii, 'msg_2'));
      });
    }

    it('leaves r out of the key bar without a target, and says why when it is pressed', async () => {
      const session = new FakeSession(demoEvents());
      const ui = mount(session, { columns: 80 });
      const frame = await ui.waitFor((f) => f.includes('#2'));
      expect(frame).not.toContain('forward again');
      await ui.press('r');
      await ui.waitFor((f) => f.includes('nothing to forward to: r needs a --forward or --route target'));
      expect(session.resent).toEqual([]);
    });

    it('shows every warning whole with w, however narrow the terminal', async () => {
      const long = 'the app at http://localhost:3000/hook answered 401 to a delivery signed with the current secret; check its clock and secret (this sentence is longer than a line)';
      const session = new FakeSession([READY, { type: 'warning', at: localTime(3), message: long }]);
      const ui = mount(session, { columns: 80 });
      const list = await ui.waitFor((f) => f.includes('w warnings (1)'));
      expect(list).not.toContain('(this sentence is longer than a line)');
      await ui.press('w');
      const warnings = await ui.waitFor((f) => f.includes('Warnings'), 'the warnings view');
      expect(warnings.replace(/\n {2}/g, '').replace(/\s+/g, ' ')).toContain(long.replace(/\s+/g, ' '));
      expect(warnings).toContain('esc/w back');
      await ui.press(KEY.escape);
      await ui.waitFor((f) => f.includes('enter/d detail'), 'the list again');
    });

    it('says there is nothing to show when w is pressed without warnings', async () => {
      const ui = mount(new FakeSession([READY]), { columns: 80 });
      await ui.waitFor((f) => f.includes('listening on'));
      expect(ui.frame()).not.toContain('w warnings');
      await ui.press('w');
      await ui.waitFor((f) => f.includes('no warnings so far'));
    });
  });

  it('updates a row as its forward result arrives', async () => {
    const session = new FakeSession([READY]);
    const ui = mount(session);
    const [received, verified, forwarded] = deliveredEvents(1) as [ListenEvent, ListenEvent, ListenEvent];
    session.emit(received, verified);
    await ui.waitFor((f) => /#1 .*pending/.test(f), 'the pending row');
    session.emit(forwarded);
    await ui.waitFor((f) => /#1 .*200 12ms/.test(f), 'the forwarded row');
  });

  it('follows the newest delivery until the user moves up, then keeps the selection', async () => {
    const session = new FakeSession([READY, ...deliveredEvents(1), ...deliveredEvents(2), ...deliveredEvents(3)]);
    const ui = mount(session);
    await ui.waitFor((f) => f.includes('#3'));
    expect(rowLine(ui.frame(), 3)).toMatch(/^› /);

    await ui.press(KEY.up);
    await ui.waitFor((f) => rowLine(f, 2).startsWith('› '), 'the selection on #2');
    session.emit(...deliveredEvents(4));
    const frame = await ui.waitFor((f) => f.includes('#4'));
    expect(rowLine(frame, 2)).toMatch(/^› /);
    expect(rowLine(frame, 4)).not.toMatch(/^› /);

    await ui.press(KEY.down, KEY.down);
    session.emit(...deliveredEvents(5));
    await ui.waitFor((f) => rowLine(f, 5).startsWith('› '), 'following again on #5');
  });

  it('handles keys that arrive faster than frames (key repeat, paste)', async () => {
    const session = new FakeSession([READY, ...deliveredEvents(1), ...deliveredEvents(2), ...deliveredEvents(3), ...deliveredEvents(4)]);
    const ui = mount(session);
    await ui.waitFor((f) => f.includes('#4'));
    ui.app.stdin.write(KEY.up + KEY.up + KEY.up);
    ui.app.stdin.write('r');
    await ui.waitFor((f) => f.includes('forwarded #1 again'), 'the resend of #1');
    expect(session.resent).toEqual([1]);
  });

  it('opens the detail of the selected delivery with enter and goes back with esc', async () => {
    const session = new FakeSession([READY, ...deliveredEvents(1), ...deliveredEvents(2)]);
    session.setDetails(detailsFor(1));
    const ui = mount(session);
    await ui.waitFor((f) => f.includes('#2'));
    await ui.press(KEY.up, KEY.enter);
    const detail = await ui.waitFor((f) => f.includes('Headers'), 'the detail view');
    expect(detail).toContain('#1  POST /webhook');
    expect(detail).toContain('webhook-timestamp: 1777896000');
    expect(detail).toContain('"type": "batch.succeeded"');
    expect(detail).toContain('signature matches the current secret of webhook k0h9');
    expect(detail).toContain('✓ attempt 1 → http://localhost:3000/hook  200  12ms');
    expect(detail).toContain('esc/d back');

    await ui.press(KEY.escape);
    await ui.waitFor((f) => f.includes('enter/d detail') && !f.includes('Headers'), 'the list again');
    await ui.press('d');
    await ui.waitFor((f) => f.includes('Headers'), 'the detail view via d');
    await ui.press('d');
    await ui.waitFor((f) => !f.includes('Headers'), 'the list via d');
  });

  it('scrolls a long detail view', async () => {
    const body = JSON.stringify({ data: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`field_${i}`, i])) });
    const session = new FakeSession([READY, ...deliveredEvents(1)]);
    session.setDetails(detailsFor(1, { body: { encoding: 'utf8', data: body, bytes: body.length, truncated: false } }));
    const ui = mount(session, { rows: 20 });
    await ui.waitFor((f) => f.includes('#1'));
    await ui.press(KEY.enter);
    const top = await ui.waitFor((f) => f.includes('Verdict'));
    expect(top).toContain('#1  POST /webhook');
    expect(top.split('\n').length).toBeLessThan(20);
    for (let i = 0; i < 25; i++) await ui.press(KEY.down);
    const scrolled = await ui.waitFor((f) => !f.includes('#1  POST /webhook'), 'a scrolled view');
    expect(scrolled).toMatch(/"field_\d+": \d+/);
  });

  it('says so when the details of a delivery are no longer kept', async () => {
    const session = new FakeSession([READY, ...deliveredEvents(1)]);
    const ui = mount(session);
    await ui.waitFor((f) => f.includes('#1'));
    await ui.press(KEY.enter);
    await ui.waitFor((f) => f.includes('#1 is no longer kept in memory'), 'the eviction notice');
  });

  it('filters with a picker that f opens and typing narrows; esc clears the filter', async () => {
    const session = new FakeSession([
      READY,
      ...deliveredEvents(1),
      { type: 'received', at: localTime(2), seq: 2, method: 'POST', path: '/webhook', bodyBytes: 9 },
      { type: 'rejected', at: localTime(2), seq: 2, status: 401, reason: 'too_old', explanation: '', diagnosis: [] },
    ]);
    const ui = mount(session);
    await ui.waitFor((f) => f.includes('#2'));
    await ui.press('f');
    const picker = await ui.waitFor((f) => f.includes('Show only'), 'the filter picker');
    expect(picker).toMatch(/› all\n {2}rejected\n {2}forward failed\n {2}duplicate\n {2}verified\n {2}batch\.succeeded/);
    await ui.press(KEY.down, KEY.enter);
    const rejectedOnly = await ui.waitFor((f) => f.includes('filter: rejected'));
    expect(rowLine(rejectedOnly, 2)).toContain('✗ too_old');
    expect(rowLine(rejectedOnly, 1)).toBe('');

    // Typing narrows the choices (q is a letter here, not quit); enter takes the first match.
    await ui.press('f', 'f', 'a', 'i', 'q');
    await ui.waitFor((f) => f.includes('no filter matches "faiq"'));
    await ui.press('\u007f', KEY.enter);
    const failedOnly = await ui.waitFor((f) => f.includes('filter: forward failed'));
    expect(failedOnly).toContain('no delivery matches the filter "forward failed"');
    expect(session.stopCalls).toBe(0);

    await ui.press(KEY.escape);
    const all = await ui.waitFor((f) => f.includes('filter cleared'));
    expect(rowLine(all, 1)).toContain('batch.succeeded');
    expect(all).toContain('f filter  ');
  });

  it('clears the list with c and keeps the totals', async () => {
    const session = new FakeSession([READY, ...deliveredEvents(1), ...deliveredEvents(2)]);
    const ui = mount(session);
    await ui.waitFor((f) => f.includes('#2'));
    await ui.press('c');
    const frame = await ui.waitFor((f) => !f.includes('#1') && !f.includes('#2'), 'an empty list');
    expect(frame).toContain('waiting for deliveries…');
    expect(frame).toContain('received 2');
  });

  it('re-sends the selected delivery with r and reports the outcome', async () => {
    const session = new FakeSession([READY, ...deliveredEvents(1), ...deliveredEvents(2)]);
    const ui = mount(session);
    await ui.waitFor((f) => f.includes('#2'));
    await ui.press(KEY.up, 'r');
    await ui.waitFor((f) => f.includes('forwarded #1 again'), 'the resend message');
    expect(session.resent).toEqual([1]);

    session.resendError = new Error('delivery #2 was rejected; nothing to re-send');
    await ui.press(KEY.down, 'r');
    await ui.waitFor((f) => f.includes('forwarding #2 again failed: delivery #2 was rejected'), 'the resend error');
    expect(session.resent).toEqual([1, 2]);
  });

  describe('s saves the selected delivery as curl', () => {
    const dirs: string[] = [];
    afterEach(() => {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    });
    const tempDir = () => {
      const dir = mkdtempSync(join(tmpdir(), 'gemwh-ui-curl-'));
      dirs.push(dir);
      return dir;
    };
    /** What the app asked the terminal to put on the clipboard (OSC 52), decoded. */
    const clipboard = (frames: readonly string[]) =>
      frames.flatMap((f) => [...f.matchAll(/\u001b\]52;c;([A-Za-z0-9+/=]*)\u0007/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8')));

    it('writes a 0600 file whose command sends the whole body and headers to the app, and offers it to the clipboard', async () => {
      const app = await startRecordingServer(() => ({ status: 204 }));
      try {
        // Longer than the session shows: the file must carry every byte.
        const body = JSON.stringify({ type: 'batch.succeeded', data: { id: 'batch_1', note: "it's 'quoted' \\ and long ".repeat(40) } });
        const session = new FakeSession([READY, ...deliveredEvents(1), ...deliveredEvents(2)]);
        session.shownBodyChars = 100;
        session.setDetails(detailsFor(1, { body: { encoding: 'utf8', data: body, bytes: Buffer.byteLength(body), truncated: false }, targets: [`${app.url}/hooks/gemini`] }));
        const dir = tempDir();
        const ui = mount(session, { exportDir: dir, columns: 200 });
        await ui.waitFor((f) => f.includes('#2'));
        await ui.press(KEY.up, 's');
        const file = join(dir, 'gemwh-msg_1.curl.sh');
        const frame = await ui.waitFor((f) => f.includes('saved #1 as curl'), 'the saved message');
        expect(frame).toContain(`saved #1 as curl to ${file} (0600); clipboard asked (OSC 52); it posts to ${app.url}/hooks/gemini`);
        expect(statSync(file).mode & 0o777).toBe(0o600);
        const text = readFileSync(file, 'utf8');
        expect(text).toMatch(/^# gemwh listen: delivery #1 \(msg_1 batch\.succeeded\), received /);
        // The clipboard gets the command alone: a comment line pasted into zsh is an error.
        const [copied] = clipboard(ui.app.frames);
        expect(copied).toMatch(/^curl -sS -X POST /);
        expect(text.endsWith(copied!)).toBe(true);

        await promisify(execFile)('sh', [file]);
        expect(app.requests).toHaveLength(1);
        expect(app.requests[0]!.body.toString()).toBe(body);
        expect(app.requests[0]!.url).toBe('/hooks/gemini');
        expect(app.requests[0]!.headers['webhook-signature']).toBe('v1,abc=');

        // Saving again never overwrites: the detail view's s makes a second file.
        await ui.press(KEY.enter);
        await ui.waitFor((f) => f.includes('s save as curl') && f.includes('Headers'), 'the detail view with s');
        await ui.press('s');
        await ui.waitFor((f) => f.includes('gemwh-msg_1-2.curl.sh'), 'the second file');
        expect(readdirSync(dir).sort()).toEqual(['gemwh-msg_1-2.curl.sh', 'gemwh-msg_1.curl.sh']);
      } finally {
        await app.close();
      }
    });

    it('refuses a body the listener cut at the size limit instead of writing another request', async () => {
      const session = new FakeSession([READY, ...deliveredEvents(1)]);
      session.setDetails(detailsFor(1, { body: { encoding: 'utf8', data: '{"type":', bytes: 5_000_000, truncated: true } }));
      const dir = tempDir();
      const ui = mount(session, { exportDir: dir, columns: 200 });
      await ui.waitFor((f) => f.includes('#1'));
      await ui.press('s');
      await ui.waitFor((f) => f.includes('#1 was refused as too large and only the start of its body was read: a curl command would send another request'));
      expect(readdirSync(dir)).toEqual([]);
      expect(clipboard(ui.app.frames)).toEqual([]);
    });

    it('points at the journal once the delivery is no longer kept, and says when the file cannot be written', async () => {
      const session = new FakeSession([READY, ...deliveredEvents(1), ...deliveredEvents(2)]);
      session.setDetails(detailsFor(2));
      const ui = mount(session, { exportDir: join(tempDir(), 'missing'), columns: 200 });
      await ui.waitFor((f) => f.includes('#2'));
      await ui.press('s');
      await ui.waitFor((f) => /saving #2 as curl failed: ENOENT.*; clipboard asked \(OSC 52\)/.test(f), 'the write failure');
      await ui.press(KEY.up, 's');
      await ui.waitFor((f) => f.includes('#1 is no longer kept in memory: gemwh deliveries export msg_00000001abcdef --as curl reads it from the journal'));
    });

    it('keeps q quit and the rarer keys give way at 80 columns', async () => {
      const session = new FakeSession([READY, ...deliveredEvents(1), { type: 'warning', at: localTime(3), message: 'w' }]);
      const ui = mount(session, { columns: 80, trigger: { eventTypes: ['batch.succeeded'], trigger: async () => {} } });
      const frame = await ui.waitFor((f) => f.includes('q quit'));
      const bar = frame.split('\n').find((line) => line.includes('q quit'))!;
      expect(bar).toBe('enter/d detail  r forward again  f filter  w warnings (1)  t trigger  q quit');
      const wide = mount(new FakeSession([READY, ...deliveredEvents(1)]), { columns: 120 });
      expect(await wide.waitFor((f) => f.includes('q quit'))).toMatch(/↑↓ select {2}enter\/d detail {2}r forward again {2}f filter {2}s save as curl {2}c clear {2}q quit/);
    });
  });

  it('quits with q, stopping the session', async () => {
    const session = new FakeSession([READY]);
    const ui = mount(session);
    await ui.waitFor((f) => f.includes('listening on'));
    await ui.press('q');
    expect(session.stopCalls).toBe(1);
  });

  it('quits with Ctrl-C too', async () => {
    const session = new FakeSession([READY]);
    const ui = mount(session);
    await ui.waitFor((f) => f.includes('listening on'));
    await ui.press(KEY.ctrlC);
    expect(session.stopCalls).toBe(1);
  });

  it('offers t only with a trigger, and triggers the chosen event type', async () => {
    const withoutTrigger = mount(new FakeSession([READY]));
    expect(await withoutTrigger.waitFor((f) => f.includes('q quit'))).not.toContain('t trigger');
    await withoutTrigger.press('t');
    expect(withoutTrigger.frame()).not.toContain('Trigger a delivery');
    await withoutTrigger.waitFor((f) => f.includes('t sends a test event through the emulator: start with gemwh listen --emulator'), 'why t does nothing');

    const triggered: string[] = [];
    const trigger: ListenUiTrigger = {
      eventTypes: ['batch.succeeded', 'batch.failed', 'video.generated'],
      trigger: async (type) => {
        triggered.push(type);
      },
    };
    const ui = mount(new FakeSession([READY]), { trigger });
    expect(await ui.waitFor((f) => f.includes('q quit'))).toContain('t trigger');
    await ui.press('t');
    await ui.waitFor((f) => f.includes('Trigger a delivery of:'));
    await ui.press(KEY.down, KEY.down, KEY.enter);
    await ui.waitFor((f) => f.includes('triggered video.generated'));
    expect(triggered).toEqual(['video.generated']);
  });

  it('draws at most the terminal height however many deliveries it holds', async () => {
    const session = new FakeSession([READY]);
    for (let seq = 1; seq <= 800; seq++) session.emit(...deliveredEvents(seq));
    const ui = mount(session, { rows: 24 });
    const frame = await ui.waitFor((f) => f.includes('#800'));
    expect(frame.split('\n').length).toBeLessThan(24);
    expect(frame).toContain('received 800');
  });

  it('renders a burst of events in a handful of frames', async () => {
    const session = new FakeSession([READY]);
    const ui = mount(session);
    await ui.waitFor((f) => f.includes('listening on'));
    const framesBefore = ui.app.frames.length;
    for (let seq = 1; seq <= 1000; seq++) session.emit(...deliveredEvents(seq));
    await ui.waitFor((f) => f.includes('received 1000'));
    expect(ui.app.frames.length - framesBefore).toBeLessThan(10);
  });

  it('shows a sender’s escape sequences as text', async () => {
    const session = new FakeSession([
      READY,
      { type: 'received', at: localTime(1), seq: 1, method: 'POST', path: '/webhook', eventType: 'x\u001b]0;pwned\u0007', bodyBytes: 1 },
    ]);
    const ui = mount(session);
    const frame = await ui.waitFor((f) => f.includes('#1'));
    expect(rowLine(frame, 1)).toContain('x\\x1b]0;pwned\\x07');
    expect(frame).not.toContain('\u0007');
  });

  it('draws nothing once the session stops on its own (the caller prints the summary)', async () => {
    const session = new FakeSession([READY]);
    const ui = mount(session);
    await ui.waitFor((f) => f.includes('listening on'));
    session.emit({ type: 'stopped', at: localTime(9), reason: 'SIGTERM' });
    await ui.waitFor((f) => f === '', 'an empty frame');
  });
});

describe('makeTheme', () => {
  it('drops every style without colour (NO_COLOR) and keeps them with it', () => {
    const plain = makeTheme(false);
    for (const tone of ['ok', 'bad', 'warn', 'dim', 'plain'] as const) expect(plain.tone(tone)).toEqual({});
    expect(plain.selected).toEqual({});
    const colored = makeTheme(true);
    expect(colored.tone('bad')).toEqual({ color: 'red' });
    expect(colored.tone('ok')).toEqual({ color: 'green' });
    expect(colored.selected).toEqual({ inverse: true });
  });
});
