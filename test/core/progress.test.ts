import { describe, expect, it } from 'vitest';
import { countText, createProgress } from '../../src/core/progress.js';
import { createResumeTracker, showResumeProgress } from '../../src/listen/resume-progress.js';
import { captureStream } from '../helpers/deps.js';

const ERASE = '\r\x1b[K';

/** What a terminal shows at the end: the text after the last carriage return. */
const lastLine = (written: string) => written.slice(written.lastIndexOf('\r')).replace(/\r\x1b\[K/g, '');

describe('createProgress', () => {
  it('rewrites one line in place on a terminal and erases it at the end', () => {
    const tty = captureStream(true, 80);
    const progress = createProgress(tty.stream);
    progress.update(countText(1, 3, 'sends'));
    progress.update(countText(2, 3, 'sends'));
    expect(tty.text()).toBe(`${ERASE}[1/3] sends${ERASE}[2/3] sends`);
    expect(lastLine(tty.text())).toBe('[2/3] sends');
    progress.done();
    expect(lastLine(tty.text())).toBe('');
    expect(tty.text()).not.toContain('\n');
    progress.update('late');
    expect(tty.text()).not.toContain('late');
  });

  it('writes nothing in a pipe, or when silent (--json)', () => {
    const pipe = captureStream(false);
    const json = captureStream(true);
    for (const progress of [createProgress(pipe.stream), createProgress(json.stream, { silent: true })]) {
      progress.update('[1/2] x');
      progress.hide();
      progress.done();
    }
    expect(pipe.text()).toBe('');
    expect(json.text()).toBe('');
  });

  it('stays on one line: cut to the width, control characters made spaces, a repeat not redrawn', () => {
    const tty = captureStream(true, 20);
    const progress = createProgress(tty.stream);
    progress.update('a\nb\x1b[2Jcdefghijklmnopqrstuvwxyz');
    expect(tty.text()).toBe(`${ERASE}a b [2Jcdefghijklm…`);
    progress.update('a\nb\x1b[2Jcdefghijklmnopqrstuvwxyz');
    expect(tty.text()).toBe(`${ERASE}a b [2Jcdefghijklm…`);
  });

  it('gets out of the way of other output and comes back with the next update', () => {
    const tty = captureStream(true);
    const progress = createProgress(tty.stream);
    progress.update('[1/2] x');
    progress.hide();
    tty.stream.write('a result row\n');
    progress.update('[2/2] x');
    expect(tty.text()).toBe(`${ERASE}[1/2] x${ERASE}a result row\n${ERASE}[2/2] x`);
  });
});

describe('resumed forwards', () => {
  it('counts a resumed delivery as settled once every target accepted it or gave up', () => {
    const tracker = createResumeTracker();
    tracker.see({ type: 'resumed', at: 0, seq: 1, receivedAt: 0, targets: ['http://a/', 'http://b/'] });
    tracker.see({ type: 'resumed', at: 0, seq: 2, receivedAt: 0, targets: ['http://a/'] });
    tracker.see({ type: 'forwarded', at: 0, seq: 1, target: 'http://a/', attempt: 1, status: 200, latencyMs: 1, responseStart: '' });
    expect([tracker.settled, tracker.total]).toEqual([0, 2]);
    // A failure with a retry to come is not settled; the last word is.
    tracker.see({ type: 'forward_failed', at: 0, seq: 1, target: 'http://b/', attempt: 1, status: 500, latencyMs: 1, nextAttemptAt: 10 });
    expect(tracker.settled).toBe(0);
    tracker.see({ type: 'forward_failed', at: 0, seq: 1, target: 'http://b/', attempt: 2, status: 500, latencyMs: 1 });
    expect(tracker.settled).toBe(1);
    // A delivery of this run (not resumed) does not count.
    tracker.see({ type: 'forwarded', at: 0, seq: 3, target: 'http://a/', attempt: 1, status: 200, latencyMs: 1, responseStart: '' });
    expect([tracker.settled, tracker.total]).toEqual([1, 2]);
  });

  it('shows how many resumed forwards are done on a terminal, and erases the line when all are', () => {
    const tty = captureStream(true);
    const see = showResumeProgress(createProgress(tty.stream));
    for (const seq of [1, 2, 3]) see({ type: 'resumed', at: 0, seq, receivedAt: 0, targets: ['http://a/'] });
    see({ type: 'forwarded', at: 0, seq: 1, target: 'http://a/', attempt: 1, status: 200, latencyMs: 1, responseStart: '' });
    expect(lastLine(tty.text())).toBe('[1/3] forwards resumed from the journal done');
    see({ type: 'forwarded', at: 0, seq: 2, target: 'http://a/', attempt: 1, status: 200, latencyMs: 1, responseStart: '' });
    see({ type: 'forward_failed', at: 0, seq: 3, target: 'http://a/', attempt: 1, error: 'refused', latencyMs: 1 });
    expect(lastLine(tty.text())).toBe('');
  });

  it('erases the line when listen stops before they are done', () => {
    const tty = captureStream(true);
    const see = showResumeProgress(createProgress(tty.stream));
    see({ type: 'resumed', at: 0, seq: 1, receivedAt: 0, targets: ['http://a/'] });
    see({ type: 'stopped', at: 0, reason: 'SIGINT' });
    expect(lastLine(tty.text())).toBe('');
  });
});
