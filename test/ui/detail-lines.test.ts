import { describe, expect, it } from 'vitest';
import { detailLines, MAX_BODY_CHARS, secretWords } from '../../src/ui/detail-lines.js';
import { detailsFor } from './fake-session.js';

const text = (lines: ReturnType<typeof detailLines>) => lines.map((line) => line.text).join('\n');

describe('detailLines', () => {
  it('shows the request, headers, pretty JSON body, verdict and every forward attempt', () => {
    const out = text(
      detailLines(
        detailsFor(4, {
          forwards: [
            { target: 'http://localhost:3000/hook', attempt: 1, at: 0, ok: false, error: 'connect ECONNREFUSED 127.0.0.1:3000', latencyMs: 2 },
            { target: 'http://localhost:3000/hook', attempt: 2, at: 0, ok: true, status: 200, latencyMs: 12, responseStart: '{"ok":true}' },
          ],
        }),
        100,
      ),
    );
    expect(out).toContain('#4  POST /webhook');
    expect(out).toContain('answered 204');
    expect(out).toContain('webhook-signature: v1,abc=');
    expect(out).toContain('  "type": "batch.succeeded",');
    expect(out).toContain('✓ verified (static)');
    expect(out).toContain('signature matches the current secret of webhook k0h9');
    expect(out).toMatch(/✗ attempt 1 → http:\/\/localhost:3000\/hook {2}✗ refused \(connect ECONNREFUSED 127\.0\.0\.1:3000\)/);
    expect(out).toMatch(/✓ attempt 2 → http:\/\/localhost:3000\/hook {2}200 {2}12ms/);
    expect(out).toContain('{"ok":true}');
  });

  it('says whose secret matched: the current or previous one of a webhook, or a flag', () => {
    expect(secretWords('k0h9')).toBe('the current secret of webhook k0h9');
    expect(secretWords('k0h9 (previous)')).toBe('the previous secret of webhook k0h9');
    expect(secretWords('--secret')).toBe('the secret from --secret');
    expect(secretWords('$GEMINI_WEBHOOK_SECRET')).toBe('the secret from $GEMINI_WEBHOOK_SECRET');
    const base = detailsFor(6);
    const inGrace = detailsFor(6, {
      outcome: {
        kind: 'verified',
        willForward: true,
        verdict: {
          ok: true,
          scheme: 'static',
          webhookId: 'msg_6',
          timestamp: 1777896000,
          matched: { label: 'k0h9 (previous)', index: 1, inGrace: true },
          explanation: 'signature matches secret k0h9 (previous), which is in its grace period after a rotation and stops working at 2026-05-05T12:00:00Z',
        },
      },
    });
    expect(base.outcome.kind).toBe('verified');
    expect(text(detailLines(inGrace, 200))).toContain(
      'signature matches the previous secret of webhook k0h9, which is in its grace period after a rotation and stops working at 2026-05-05T12:00:00Z',
    );
  });

  it('shows the forwarder\'s own description of a failure once, not behind a short form of itself', () => {
    const error = 'connection refused (is the app running?)';
    const out = text(detailLines(detailsFor(5, { forwards: [{ target: 'http://localhost:3000/', attempt: 1, at: 0, ok: false, error, latencyMs: 1 }] }), 100));
    expect(out).toContain(`→ http://localhost:3000/  ✗ connection refused (is the app running?)  1ms`);
    expect(out).not.toContain('refused (connection refused');
  });

  it('gives the explanation and every diagnosis finding of a rejection', () => {
    const out = text(
      detailLines(
        detailsFor(2, {
          status: 401,
          forwards: [],
          outcome: {
            kind: 'rejected',
            reason: 'no_matching_signature',
            explanation: 'no secret produces this signature',
            diagnosis: ['the body looks re-serialised (spaces after colons)', 'secret whsec_…ab12 expired 2 h ago'],
          },
        }),
        100,
      ),
    );
    expect(out).toContain('✗ rejected: no_matching_signature (answered 401)');
    expect(out).toContain('no secret produces this signature');
    expect(out).toContain('- the body looks re-serialised (spaces after colons)');
    expect(out).toContain('- secret whsec_…ab12 expired 2 h ago');
    expect(out).toContain('none (only verified, first-seen deliveries are forwarded)');
  });

  it('shows a body that is not JSON as it came, and says when the body was cut', () => {
    const out = text(detailLines(detailsFor(1, { body: { encoding: 'utf8', data: 'not json {', bytes: 900_000, truncated: true } }), 100));
    expect(out).toContain('Body (900000 bytes, cut: the journal has all of it)');
    expect(out).toContain('not json {');
  });

  it('caps what it renders of a huge body', () => {
    const data = 'x'.repeat(MAX_BODY_CHARS * 2);
    const lines = detailLines(detailsFor(1, { body: { encoding: 'utf8', data, bytes: data.length, truncated: false } }), 100);
    expect(lines.length).toBeLessThan(MAX_BODY_CHARS / 90);
    expect(text(lines)).toContain(`… (${MAX_BODY_CHARS} more characters)`);
  });

  it('wraps every line to the width and escapes control characters from the sender', () => {
    const lines = detailLines(detailsFor(1, { headers: [['x-evil', '\u001b[31mred' + 'y'.repeat(200)]] }), 60);
    for (const line of lines) expect([...line.text].length).toBeLessThanOrEqual(60);
    expect(text(lines)).toContain('x-evil: \\x1b[31mred');
    expect(text(lines)).not.toContain('\u001b');
  });
});
