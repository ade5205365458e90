/**
 * The result of checking one delivery. `reason` is a closed union so that every consumer
 * (listen's answer codes, the TUI, conformance, `gemwh verify`) can switch on it exhaustively.
 */
export type StaticRejectReason =
  | 'missing_header'
  | 'bad_timestamp'
  | 'too_old'
  | 'too_new'
  | 'malformed_signature'
  | 'no_matching_signature'
  | 'bad_secret';

export type DynamicRejectReason =
  | 'missing_header'
  | 'bad_jwt'
  | 'unsupported_alg'
  | 'unknown_kid'
  | 'jwt_expired'
  | 'jwt_claim_mismatch'
  | 'jwks_unavailable';

export type RejectReason = StaticRejectReason | DynamicRejectReason;

/** Header names are matched case-insensitively; node:http's IncomingHttpHeaders fits. */
export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A secret to try, with a label that the verdict reports back (a webhook id, "--secret #2", …). */
export interface SecretCandidate {
  secret: string;
  label: string;
  /** Epoch ms after which the secret no longer counts (rotation grace period). */
  expiresAt?: number;
}

export interface StaticAccepted {
  ok: true;
  scheme: 'static';
  webhookId: string;
  /** Seconds, as sent in webhook-timestamp. */
  timestamp: number;
  matched: {
    label: string;
    /** Index in the secrets given to verify. */
    index: number;
    /** True when the secret has an expiry: it is in its 24 h grace period after a rotation. */
    inGrace: boolean;
  };
  explanation: string;
}

export interface DynamicAccepted {
  ok: true;
  scheme: 'dynamic';
  /** From the webhook-id header, else the `jti` claim. */
  webhookId?: string;
  kid: string;
  claims: Record<string, unknown>;
  explanation: string;
}

export interface Rejected {
  ok: false;
  scheme: 'static' | 'dynamic';
  reason: RejectReason;
  /** One sentence: what was wrong. */
  explanation: string;
  /** Plain-words findings that point at the cause (skew, re-serialised JSON, expired secret, …). */
  diagnosis: string[];
  /** The webhook-id header (or the JWT's `jti`) when the delivery carried one: for logs and dedup. */
  webhookId?: string;
  /** Dynamic only: the JWT's `kid` and, once its signature verified, its claims. */
  kid?: string;
  claims?: Record<string, unknown>;
}

export type Verdict = StaticAccepted | DynamicAccepted | Rejected;
