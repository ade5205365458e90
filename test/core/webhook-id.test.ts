import { describe, expect, it } from 'vitest';
import { newWebhookId } from '../../src/core/webhook-id.js';

describe('newWebhookId', () => {
  it('is msg_ + 24 base62 characters, different each time', () => {
    const random = (size: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(size)));
    const ids = new Set(Array.from({ length: 200 }, () => newWebhookId(random)));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^msg_[0-9A-Za-z]{24}$/);
  });

  it('skips bytes that would bias the alphabet (248 and above)', () => {
    const batches = [Buffer.alloc(32, 250), Buffer.from(Array.from({ length: 32 }, (_, i) => (i % 2 === 0 ? i / 2 : 255)))];
    let call = 0;
    const random = () => batches[call++] ?? Buffer.from(Array.from({ length: 32 }, (_, i) => 12 + i));
    // Even positions of the second batch give 0..15, the third batch 12, 13, … → "C", "D", …
    expect(newWebhookId(random)).toBe('msg_0123456789ABCDEFCDEFGHIJ');
  });
});
