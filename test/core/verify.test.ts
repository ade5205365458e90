import { describe, expect, it } from 'vitest';
import { generateSigningKey, signJwt, webhookClaims } from '../../src/core/jwt-sign.js';
import { sign } from '../../src/core/standard-webhooks.js';
import { verifyDelivery, verifyDeliveryNow } from '../../src/core/verify.js';
import { createStaticJwksSource } from '../../src/jwks/jwks-source.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NOW = Date.UTC(2026, 4, 4, 12);
const TS = Math.floor(NOW / 1000);
const BODY = '{"type":"batch.succeeded","data":{"id":"batches/1"}}';

function staticInput(signature: string) {
  return { rawBody: BODY, headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': String(TS), 'webhook-signature': signature }, now: NOW, secrets: [{ secret: SECRET, label: 'wh_1' }] };
}

// listen calls verifyDeliveryNow once per request: a static delivery must not cost a promise.
describe('verifyDeliveryNow', () => {
  it('judges a static delivery on the spot, accepted or rejected, as verifyDelivery does', async () => {
    const accepted = verifyDeliveryNow(staticInput(sign('msg_1', TS, BODY, SECRET)));
    expect(accepted).not.toBeInstanceOf(Promise);
    expect(accepted).toMatchObject({ ok: true, scheme: 'static', webhookId: 'msg_1' });

    const forged = staticInput(sign('msg_1', TS, BODY, 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='));
    const rejected = verifyDeliveryNow({ ...forged, mayDiagnose: () => false });
    expect(rejected).not.toBeInstanceOf(Promise);
    expect(rejected).toMatchObject({ ok: false, reason: 'no_matching_signature' });
    expect(await verifyDelivery({ ...forged, mayDiagnose: () => false })).toEqual(rejected);
  });

  it('answers with a promise for a JWT, which needs the key source', async () => {
    const key = await generateSigningKey();
    const jwt = await signJwt(webhookClaims({ event: JSON.parse(BODY), body: BODY, webhookId: 'msg_2', audience: 'http://127.0.0.1/', issuedAt: TS }), key);
    const verdict = verifyDeliveryNow({ rawBody: BODY, headers: { 'webhook-signature': jwt }, now: NOW, keys: createStaticJwksSource({ keys: [key.publicJwk] }), audience: 'http://127.0.0.1/' });
    expect(verdict).toBeInstanceOf(Promise);
    expect(await verdict).toMatchObject({ ok: true, scheme: 'dynamic' });
  });
});
