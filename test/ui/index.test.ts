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
  return { stdin, stdout, text };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('renderListenUi', () => {
  it('shows events the session emitted before the UI started, and resolves after q stopped the session', async () => {
    const session = new FakeSession([READY, ...deliveredEvents(1)]);
    const term = fakeTerminal();
    const done = renderListenUi({ session, stdin: term.stdin, stdout: term.stdout, color: false, flushIntervalMs: 5 });
    await sleep(50);
    session.emit(...deliveredEvents(2));
    await sleep(50);
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
    expect(term.text()).toContain('stopped: SIGTERM');
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
