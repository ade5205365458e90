import { describe, expect, it } from 'vitest';
import { formatVerdict } from '../../src/core/format-verdict.js';

const NOW = 1_777_896_010_000;

describe('formatVerdict', () => {
  it('shows a static acceptance with the secret and the age', () => {
    const text = formatVerdict(
      { ok: true, scheme: 'static', webhookId: 'msg_1', timestamp: 1_777_896_000, matched: { label: 'old', index: 1, inGrace: true }, explanation: 'signature matches secret old' },
      NOW,
    );
    expect(text).toBe('✓ valid static delivery msg_1\n  signature matches secret old\n  signed at 2026-05-04T12:00:00Z (10 s ago)\n');
  });

  it('shows a dynamic acceptance with its claims', () => {
    const text = formatVerdict({ ok: true, scheme: 'dynamic', kid: 'k', claims: { jti: 'e1' }, explanation: 'ok' }, NOW);
    expect(text).toBe('✓ valid dynamic delivery\n  ok\n  claims:\n    {\n      "jti": "e1"\n    }\n');
  });

  it('shows a rejection with every diagnosis line', () => {
    const text = formatVerdict(
      { ok: false, scheme: 'static', reason: 'too_old', explanation: 'too old', diagnosis: ['one', 'two'], webhookId: 'msg_2' },
      NOW,
    );
    expect(text).toBe('✗ rejected (static): too_old — msg_2\n  too old\n  - one\n  - two\n');
  });
});
