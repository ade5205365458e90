import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InterruptedError } from '../../src/errors.js';
import { renderListenUi } from '../../src/ui/index.js';
import { deliveredEvents, FakeSession, READY } from './fake-session.js';

/** A terminal for Ink: a TTY-looking stdin that accepts raw mode, and a stdout that records. */
function fakeTerminal(stdinIsTTY = true) {
  const stdin = Object.assign(new PassThrough(), {
    isTTY: stdinIsTTY,
    setRawMode() {
      return stdin;
    },
    ref() {},
    unref() {},
  });
  let written = '';
  const stdout = Object.assign(
    new Writable({
      write(chunk, _encoding, callback) {
        written += chunk.toString();
        callback();
      },
    }),
    { isTTY: true, columns: 100, rows: 30 },
  );
  // Strips the cursor and erase sequences Ink draws frames with.
  const text = () => written.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
  return { stdin, stdout, text, screen: () => screenOf(written) };
}

/**
 * What a terminal shows after `output`: enough of one to follow Ink (erase line, cursor up, to
 * column 1, newline), so a test sees what stays on screen rather than every frame ever drawn.
 */
function screenOf(output: string): string {
  const lines: string[] = [''];
  let row = 0;
  const re = /\u001b\[([0-9;?]*)([A-Za-z])|\n|[^\u001b\n]+/g;
  for (const [token, args = '', command] of output.matchAll(re)) {
    if (token === '\n') {
      row++;
      if (lines.length <= row) lines.push('');
    } else if (command === 'K') lines[row] = '';
    else if (command === 'A') row = Math.max(0, row - Number(args || 1));
    else if (command === undefined) lines[row] = (lines[row] ?? '') + token;
  }
  return lines.join('\n').replace(/\n+$/, '').replace(/^\n+/, '');
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !condition(); i++) await sleep(10);
  expect(condition()).toBe(true);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('renderListenUi', () => {
  it('shows events the session emitted before the UI started, and resolves after q stopped the session', async () => {
    const session = new FakeSession([READY, ...deliveredEvents(1)]);
    const term = fakeTerminal();
    const done = renderListenUi({ session, stdin: term.stdin, stdout: term.stdout, color: false, flushIntervalMs: 5 });
    await sleep(50);
    session.emit(...deliveredEvents(2));
    await until(() => /#2 +batch\.succeeded/.test(term.text()));
    term.stdin.write('q');
    await done;
    expect(session.stopCalls).toBe(1);
    expect(session.listenerCount).toBe(0);
    expect(term.text()).toContain('listening on http://127.0.0.1:8787/webhook');
    expect(term.text()).toMatch(/#1 +batch\.succeeded/);
    expect(term.text()).toMatch(/#2 +batch\.succeeded/);
  });

  it('resolves when the session stops on its own', async () => {
    const session = new FakeSession([READY]);
    const term = fakeTerminal();
    const done = renderListenUi({ session, stdin: term.stdin, stdout: term.stdout, color: false, flushIntervalMs: 5 });
    await sleep(30);
    await session.stop('SIGTERM');
    await done;
    expect(term.screen()).toBe('gemwh listen stopped (SIGTERM): received 0, verified 0, rejected 0, forwarded 0; no journal');
  });

  it('shows how many resumed forwards are done while they run, then the total', async () => {
    const resumed = (seq: number) => ({ type: 'resumed' as const, at: 0, seq, receivedAt: 0, targets: ['http://localhost:3000/hook'] });
    const forwarded = (seq: number) => ({
      type: 'forwarded' as const,
      at: 0,
      seq,
      target: 'http://localhost:3000/hook',
      attempt: 1,
      status: 200,
      latencyMs: 3,
      responseStart: '',
    });
    const session = new FakeSession([READY, resumed(1), resumed(2), resumed(3), forwarded(1)]);
    const term = fakeTerminal();
    const done = renderListenUi({ session, stdin: term.stdin, stdout: term.stdout, color: false, flushIntervalMs: 5 });
    await until(() => term.screen().includes('resuming 1/3'));
    session.emit(forwarded(2), forwarded(3));
    await until(() => term.screen().includes('resumed 3') && !term.screen().includes('resuming'));
    term.stdin.write('q');
    await done;
    expect(term.screen()).toContain('forwarded 3, resumed 3');
  });

  it('replaces the live view with a one-line summary when the user quits', async () => {
    const session = new FakeSession([
      { ...READY, journal: '/tmp/gemwh/journal.ndjson' } as typeof READY,
      ...deliveredEvents(1),
      ...deliveredEvents(2),
      { type: 'received', at: 0, seq: 3, method: 'POST', path: '/webhook', bodyBytes: 9 },
      { type: 'rejected', at: 0, seq: 3, status: 401, reason: 'too_old', explanation: '', diagnosis: [] },
    ]);
    const term = fakeTerminal();
    const done = renderListenUi({ session, stdin: term.stdin, stdout: term.stdout, color: false, flushIntervalMs: 5 });
    await sleep(80);
    expect(term.screen()).toContain('q quit');
    term.stdin.write('q');
    await done;
    expect(term.screen()).toBe('gemwh listen stopped: received 3, verified 2, rejected 1, forwarded 2; journal /tmp/gemwh/journal.ndjson');
  });

  it('still shows the session when stdin is not a terminal, and leaves stopping to the signal', async () => {
    const session = new FakeSession([READY, ...deliveredEvents(1)]);
    const term = fakeTerminal(false);
    const done = renderListenUi({ session, stdin: term.stdin, stdout: term.stdout, color: false, flushIntervalMs: 5 });
    await sleep(30);
    term.stdin.write('q');
    await sleep(30);
    expect(session.stopCalls).toBe(0);
    await session.stop('SIGINT');
    await done;
    expect(term.text()).toMatch(/#1 +batch\.succeeded/);
    expect(term.text()).toContain('Ctrl-C stop (stdin is not a terminal, so no other keys)');
  });

  it('gives up waiting on a second Ctrl-C when stopping hangs', async () => {
    const session = new FakeSession([READY]);
    session.stop = async () => {
      session.stopCalls++;
      await new Promise(() => {});
    };
    const term = fakeTerminal();
    const done = renderListenUi({ session, stdin: term.stdin, stdout: term.stdout, color: false });
    await sleep(30);
    term.stdin.write('\u0003');
    await sleep(30);
    term.stdin.write('\u0003');
    await expect(done).rejects.toBeInstanceOf(InterruptedError);
    expect(session.stopCalls).toBe(1);
  });

  it('rejects with the session’s error when the session fails', async () => {
    const session = new FakeSession([READY]);
    const term = fakeTerminal();
    const done = renderListenUi({ session, stdin: term.stdin, stdout: term.stdout, color: false });
    await sleep(30);
    session.fail(new Error('port 8787 is already in use'));
    await expect(done).rejects.toThrow('port 8787 is already in use');
    expect(session.listenerCount).toBe(0);
  });
});
