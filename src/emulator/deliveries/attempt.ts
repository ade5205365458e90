import { signJwt, webhookClaims } from '../../core/jwt-sign.js';
import { computeSignature, parseSecret } from '../../core/standard-webhooks.js';
import { createSender, type Sender } from '../../http/send.js';
import { VERSION } from '../../version.js';
import type { EmulatorKeyRing } from '../jwks/key-ring.js';
import type { DeliveryAttempt } from './types.js';

/** What one attempt sends: the same delivery id and body every time, a fresh timestamp and signature. */
export interface AttemptInput {
  deliveryId: string;
  body: string;
  scheme: 'static' | 'dynamic';
  target: string;
  /** Static deliveries: the webhook's secrets still valid now, one `v1,` signature each. */
  secrets: readonly string[];
  /** Epoch seconds: the `webhook-timestamp`, and the JWT's `iat`. */
  timestamp: number;
}

/** How it ended: a status when the receiver answered, else why not. */
export interface AttemptResult {
  status?: number;
  error?: string;
  latencyMs?: number;
}

export interface AttemptSenderOptions {
  keys: EmulatorKeyRing;
  /** The JWT `iss`. */
  issuer: () => string;
  /** The JWT `aud` of every dynamic delivery; undefined: the URI it is sent to. */
  jwtAudience?: string;
  /** Real ms a receiver has for the whole exchange. */
  timeoutMs: number;
  /** Connections per receiver. */
  connections: number;
}

/**
 * Signs and sends one attempt of a delivery, on the one sender (src/http/send.ts). The sender, and
 * undici with it, is loaded with the first attempt: an emulator that never delivers does not pay.
 */
export class AttemptSender {
  private sender: Promise<Sender> | undefined;
  private readonly secretKeys = new Map<string, Buffer>();
  // The few target URIs are parsed once: the sender keys its own cache on the URL object.
  private readonly urls = new Map<string, URL>();

  constructor(private readonly options: AttemptSenderOptions) {}

  /** Sends it; sets `record.kid` as soon as a JWT is signed, so a listing in flight shows it. */
  async send(input: AttemptInput, record: DeliveryAttempt): Promise<AttemptResult> {
    let signature: string;
    try {
      signature = await this.sign(input, record);
    } catch (error) {
      return { error: `could not sign: ${error instanceof Error ? error.message : String(error)}` };
    }
    this.sender ??= createSender({ timeoutMs: this.options.timeoutMs, connections: this.options.connections });
    const result = await (await this.sender).send(
      this.urlOf(input.target),
      {
        'content-type': 'application/json',
        'user-agent': `gemwh-emulator/${VERSION}`,
        'webhook-id': input.deliveryId,
        'webhook-timestamp': String(input.timestamp),
        'webhook-signature': signature,
      },
      input.body,
    );
    return result.error ? { error: result.error.message, latencyMs: result.latencyMs } : { status: result.status, latencyMs: result.latencyMs };
  }

  /** Ends the attempts in flight (as failed) and closes every connection. */
  async close(): Promise<void> {
    if (this.sender) await (await this.sender).close('the emulator is stopping');
  }

  private async sign(input: AttemptInput, record: DeliveryAttempt): Promise<string> {
    if (input.scheme === 'static') {
      return input.secrets
        .map((secret) => `v1,${computeSignature(this.keyOf(secret), input.deliveryId, String(input.timestamp), input.body).toString('base64')}`)
        .join(' ');
    }
    const key = await this.options.keys.current();
    record.kid = key.kid;
    const claims = webhookClaims({
      event: JSON.parse(input.body) as unknown,
      body: input.body,
      webhookId: input.deliveryId,
      audience: this.options.jwtAudience ?? input.target,
      issuedAt: input.timestamp,
      issuer: this.options.issuer(),
    });
    return signJwt(claims, key);
  }

  private keyOf(secret: string): Buffer {
    let key = this.secretKeys.get(secret);
    if (!key) {
      key = parseSecret(secret);
      this.secretKeys.set(secret, key);
    }
    return key;
  }

  private urlOf(target: string): URL {
    let url = this.urls.get(target);
    if (!url) {
      url = new URL(target);
      if (this.urls.size > 1000) this.urls.clear();
      this.urls.set(target, url);
    }
    return url;
  }
}
