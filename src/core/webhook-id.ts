const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * A fresh `webhook-id` in the Standard Webhooks style: `msg_` + 24 base62 characters (~142 bits).
 * `randomBytes` is Deps.random.bytes, so tests can make ids predictable.
 */
export function newWebhookId(randomBytes: (size: number) => Buffer): string {
  let id = 'msg_';
  while (id.length < 28) {
    for (const byte of randomBytes(32)) {
      // 248 = 4 × 62: rejecting larger bytes keeps every character equally likely.
      if (byte < 248 && id.length < 28) id += BASE62[byte % 62];
    }
  }
  return id;
}
