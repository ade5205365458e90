import { createServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { createHttpSender, type SendResult } from '../../src/listen/forwarder.js';
import { closedPort } from '../helpers/recording-server.js';
import {
  columnWidths,
  errorWords,
  fit,
  forwardCell,
  formatClock,
  formatMs,
  printable,
  safeSecretLabel,
  shortId,
  verdictCell,
  wrapLines,
} from '../../src/ui/format.js';
import { localTime } from './fake-session.js';

describe('format', () => {
  it('prints times as local HH:MM:SS', () => {
    expect(formatClock(localTime(7))).toBe('12:00:07');
  });

  it('shortens webhook ids keeping the prefix and the tail', () => {
    expect(shortId('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', 10)).toBe('msg_…85f4W');
    expect(shortId('k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f', 10)).toBe('k0h…egl79f');
    expect(shortId('short', 10)).toBe('short');
    expect(shortId(undefined)).toBe('-');
  });

  it('marks verdicts', () => {
    expect(verdictCell({ kind: 'verified', scheme: 'static', inGrace: false })).toEqual({ text: '✓', tone: 'ok' });
    expect(verdictCell({ kind: 'rejected', reason: 'no_matching_signature', status: 401 }).text).toBe('✗ no_matching_signature');
    expect(verdictCell({ kind: 'duplicate', firstSeq: 3 }).text).toBe('DUP of #3');
    expect(verdictCell({ kind: 'pending' }).text).toBe('…');
  });

  it('describes forward outcomes as the list shows them', () => {
    expect(forwardCell({ kind: 'pending' }).text).toBe('pending');
    expect(forwardCell({ kind: 'reported', targets: [{ target: 'a', kind: 'ok', attempt: 1, status: 200, latencyMs: 12 }] })).toEqual({
      text: '200 12ms',
      tone: 'ok',
    });
    expect(
      forwardCell({
        kind: 'reported',
        targets: [{ target: 'a', kind: 'failed', attempt: 1, error: 'connect ECONNREFUSED 127.0.0.1:3000', latencyMs: 2, retryInMs: 4000 }],
      }),
    ).toEqual({ text: '✗ refused, retrying in 4s', tone: 'warn' });
    expect(
      forwardCell({ kind: 'reported', targets: [{ target: 'a', kind: 'failed', attempt: 5, status: 502, latencyMs: 1500 }] }),
    ).toEqual({ text: '✗ 502 1.5s', tone: 'bad' });
  });

  it('names common network errors in plain words and cuts the rest', () => {
    expect(errorWords('UND_ERR_CONNECT_TIMEOUT')).toBe('timeout');
    expect(errorWords('getaddrinfo ENOTFOUND app.local')).toBe('no such host');
    expect(errorWords('something long and unusual happened here')).toBe('something long and unus…');
    expect(errorWords(undefined)).toBe('failed');
    expect(errorWords('untrusted TLS certificate (self-signed certificate): for a local app, listen --insecure accepts it')).toBe('untrusted certificate');
  });

  it('names what the forwarder itself reports for an app that is not running, or too slow', async () => {
    const port = await closedPort();
    const sender = await createHttpSender({ timeoutMs: 200, concurrency: 1 });
    try {
      const refused = await new Promise<SendResult>((resolve) => sender.send(new URL(`http://127.0.0.1:${port}/`), [], Buffer.from('{}'), resolve));
      expect(errorWords(refused.error)).toBe('refused');
      const dropping = createNetServer((socket) => socket.once('data', () => socket.destroy()));
      await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve));
      try {
        const reset = await new Promise<SendResult>((resolve) => sender.send(new URL(`http://127.0.0.1:${(dropping.address() as AddressInfo).port}/`), [], Buffer.from('{}'), resolve));
        expect(errorWords(reset.error)).toBe('reset');
      } finally {
        await new Promise((resolve) => dropping.close(resolve));
      }
      const silent = createServer(() => {});
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const slow = await new Promise<SendResult>((resolve) => sender.send(new URL(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/`), [], Buffer.from('{}'), resolve));
        expect(errorWords(slow.error)).toBe('timeout');
      } finally {
        silent.closeAllConnections();
        await new Promise((resolve) => silent.close(resolve));
      }
    } finally {
      await sender.close();
    }
  });

  it('formats latencies', () => {
    expect(formatMs(12.4)).toBe('12ms');
    expect(formatMs(1500)).toBe('1.5s');
    expect(formatMs(42_000)).toBe('42s');
  });

  it('pads and cuts to a column width counting ✓ as one column', () => {
    expect(fit('✓', 3)).toBe('✓  ');
    expect(fit('abcdef', 4)).toBe('abc…');
  });

  it('pads and cuts CJK text by terminal cells (string-width), never splitting a wide character', () => {
    expect(fit('注文', 6)).toBe('注文  ');
    expect(stringWidth(fit('注文.完了済み', 7))).toBe(7);
    expect(fit('注文.完了済み', 7)).toBe('注文.… ');
    expect(fit('注文完了', 6)).toBe('注文… ');
    expect(wrapLines('注文注文注', 4)).toEqual(['注文', '注文', '注']);
  });

  const rowWidth = (w: ReturnType<typeof columnWidths>) =>
    2 + w.time + 1 + w.seq + 1 + (w.webhookId > 0 ? w.webhookId + 1 : 0) + w.eventType + 1 + w.verdict + (w.forward > 0 ? 1 + w.forward : 0);

  it('gives each column what its widest cell needs and the rest to the last column', () => {
    const needs = { eventType: 'interaction.requires_action'.length, verdict: 1, forward: '✗ refused, retrying in 4s'.length };
    for (const width of [80, 120]) {
      const w = columnWidths(width, { needs });
      expect(w.eventType).toBe(needs.eventType);
      // A column of ✓ is as wide as its header, not a rejection reason.
      expect(w.verdict).toBe('VERDICT'.length);
      expect(w.forward).toBeGreaterThanOrEqual(needs.forward);
      expect(rowWidth(w)).toBe(width);
    }
    expect(columnWidths(120, { needs }).webhookId).toBe(10);
  });

  it('hides FORWARD without a target and gives its room to the event type and the rejection reason', () => {
    const needs = { eventType: 'interaction.requires_action'.length, verdict: '✗ no_matching_signature'.length, forward: 0 };
    const w = columnWidths(80, { forward: false, needs });
    expect(w).toMatchObject({ forward: 0, eventType: needs.eventType, webhookId: 10 });
    expect(w.verdict).toBeGreaterThanOrEqual(needs.verdict);
    expect(rowWidth(w)).toBe(80);
  });

  it('drops the short webhook id first and then shares the cut when nothing else fits in 80 columns', () => {
    const w = columnWidths(80);
    expect(w.webhookId).toBe(0);
    expect(w.verdict).toBeGreaterThanOrEqual('DUP of #12'.length);
    expect(w.eventType).toBeGreaterThanOrEqual('batch.succeeded'.length);
    expect(w.forward).toBeGreaterThanOrEqual('✗ refused'.length);
    expect(rowWidth(w)).toBeLessThanOrEqual(80);
    expect(rowWidth(columnWidths(120))).toBe(120);
    expect(columnWidths(120)).toMatchObject({ eventType: 27, verdict: 23, webhookId: 10 });
  });

  it('turns control characters into visible escapes so a sender cannot drive the terminal', () => {
    expect(printable('evil\u001b[2Jtype\u0007')).toBe('evil\\x1b[2Jtype\\x07');
    expect(wrapLines('a\u001b]0;title\u0007', 80)).toEqual(['a\\x1b]0;title\\x07']);
  });

  it('wraps long lines to the width', () => {
    expect(wrapLines('abcdefghij\n\nxy', 4)).toEqual(['abcd', 'efgh', 'ij', '', 'xy']);
  });

  it('redacts a secret that reached the header unredacted, and leaves redacted ones alone', () => {
    expect(safeSecretLabel('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBe('whsec_…LaSw');
    expect(safeSecretLabel('whsec_…ab12')).toBe('whsec_…ab12');
  });
});
