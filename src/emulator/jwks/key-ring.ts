import { generateKeyPair } from 'node:crypto';
import type { JWK } from 'jose';
import { signingKeyFromPrivateJwk, toJwks, type Jwks, type JwtSigningKey } from '../../core/jwt-sign.js';
import type { Clock } from '../../deps.js';

/**
 * The emulator's RS256 keys for dynamic deliveries, published at /.well-known/jwks.json. One key
 * signs; after a rotation the previous ones stay published for `retireAfterMs` of emulated time
 * (a receiver may have cached a token's key), or are withdrawn at once with `dropOld`.
 * Keys live in memory only: every emulator run starts with a fresh key.
 */

/** How long a rotated-out key stays in the JWKS, in emulated time. */
export const DEFAULT_KEY_RETIRE_AFTER_MS = 3_600_000;

export interface KeyRingOptions {
  clock: Clock;
  /** Emulated time runs this many times faster than real time. */
  timeScale?: number;
  retireAfterMs?: number;
  /** Tests may hand in a pre-made key; default: a fresh 2048-bit RSA key. */
  generate?: () => Promise<JwtSigningKey>;
}

export interface PublishedKey {
  kid: string;
  /** Real epoch ms when it leaves the JWKS; absent for the signing key. */
  retiresAt?: number;
}

export interface RotationResult {
  /** The new signing key. */
  kid: string;
  /** What the JWKS publishes now, signing key first. */
  keys: PublishedKey[];
}

interface RetiringKey {
  key: JwtSigningKey;
  retiresAt: number;
}

export class EmulatorKeyRing {
  private readonly clock: Clock;
  private readonly timeScale: number;
  private readonly retireAfterMs: number;
  private readonly generate: () => Promise<JwtSigningKey>;
  // A promise, so concurrent first uses share one (slow) key generation.
  private signing: Promise<JwtSigningKey> | undefined;
  private retiring: RetiringKey[] = [];

  constructor(options: KeyRingOptions) {
    this.clock = options.clock;
    this.timeScale = options.timeScale ?? 1;
    this.retireAfterMs = options.retireAfterMs ?? DEFAULT_KEY_RETIRE_AFTER_MS;
    this.generate = options.generate ?? generateRsaSigningKey;
  }

  /** The key that signs new tokens; generated on first use, so emulators that never sign pay nothing. */
  current(): Promise<JwtSigningKey> {
    this.signing ??= this.generate().catch((error: unknown) => {
      this.signing = undefined;
      throw error;
    });
    return this.signing;
  }

  async jwks(): Promise<Jwks> {
    const current = await this.current();
    return toJwks([current, ...this.live().map((k) => k.key)]);
  }

  async published(): Promise<PublishedKey[]> {
    const current = await this.current();
    return [{ kid: current.kid }, ...this.live().map((k) => ({ kid: k.key.kid, retiresAt: k.retiresAt }))];
  }

  async rotate(options: { dropOld?: boolean } = {}): Promise<RotationResult> {
    const previous = await this.current();
    const next = await this.generate();
    this.signing = Promise.resolve(next);
    if (options.dropOld) {
      this.retiring = [];
    } else {
      const retiresAt = this.clock.now() + this.retireAfterMs / this.timeScale;
      this.retiring = [{ key: previous, retiresAt }, ...this.live()];
    }
    return { kid: next.kid, keys: await this.published() };
  }

  private live(): RetiringKey[] {
    const now = this.clock.now();
    this.retiring = this.retiring.filter((k) => k.retiresAt > now);
    return this.retiring;
  }
}

/** Like jwt-sign's generateSigningKey, but off the event loop: the emulator keeps serving meanwhile. */
export function generateRsaSigningKey(): Promise<JwtSigningKey> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: 2048 }, (error, _publicKey, privateKey) => {
      if (error) return reject(error);
      signingKeyFromPrivateJwk(privateKey.export({ format: 'jwk' }) as JWK).then(resolve, reject);
    });
  });
}

export type { Jwks };
