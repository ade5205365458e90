import { generateKeyPair } from 'node:crypto';
import type { JWK } from 'jose';
import { signingKeyFromPrivateJwk, toJwks, type Jwks, type JwtSigningKey } from '../../core/jwt-sign.js';
import type { Clock } from '../../deps.js';

/**
 * The emulator's RS256 keys for dynamic deliveries, published at /.well-known/jwks.json. One key
 * signs; after a rotation the previous ones stay published for `retireAfterMs` of emulated time
 * (a receiver may have cached a token's key), or are withdrawn at once with `dropOld`.
 * Without a saved state every emulator run starts with a fresh key; with `--state` the keys are
 * kept there (state()/`restore`), so receivers that cached the JWKS keep working across restarts.
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
  /** Keys saved by an earlier run (state()). */
  restore?: KeyRingState;
  /** Called once the keys have changed (first key made, rotation), e.g. to save them. */
  onChange?: () => void;
}

/** The keys, private parts included, as kept in the emulator's state file. */
export interface KeyRingState {
  signing: JwtSigningKey;
  /** Rotated-out keys still published, with the real epoch ms at which each leaves the JWKS. */
  retiring: Array<{ key: JwtSigningKey; retires_at: number }>;
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
  /** The signing key once made, for state(). */
  private made: JwtSigningKey | undefined;
  private retiring: RetiringKey[] = [];
  private readonly onChange: () => void;

  constructor(options: KeyRingOptions) {
    this.clock = options.clock;
    this.timeScale = options.timeScale ?? 1;
    this.retireAfterMs = options.retireAfterMs ?? DEFAULT_KEY_RETIRE_AFTER_MS;
    this.generate = options.generate ?? generateRsaSigningKey;
    this.onChange = options.onChange ?? (() => {});
    if (options.restore) {
      this.made = options.restore.signing;
      this.signing = Promise.resolve(options.restore.signing);
      this.retiring = options.restore.retiring.map((k) => ({ key: k.key, retiresAt: k.retires_at }));
    }
  }

  /** What to save; undefined until the first key has been made (an emulator that never signs saves none). */
  state(): KeyRingState | undefined {
    if (!this.made) return undefined;
    return { signing: this.made, retiring: this.live().map((k) => ({ key: k.key, retires_at: k.retiresAt })) };
  }

  /** The key that signs new tokens; generated on first use, so emulators that never sign pay nothing. */
  current(): Promise<JwtSigningKey> {
    this.signing ??= this.generate().then(
      (key) => {
        this.made = key;
        this.onChange();
        return key;
      },
      (error: unknown) => {
        this.signing = undefined;
        throw error;
      },
    );
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
    this.made = next;
    if (options.dropOld) {
      this.retiring = [];
    } else {
      const retiresAt = this.clock.now() + this.retireAfterMs / this.timeScale;
      this.retiring = [{ key: previous, retiresAt }, ...this.live()];
    }
    this.onChange();
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
