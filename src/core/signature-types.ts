// The shapes standard-webhooks.ts produces and static-diagnosis.ts explains, kept apart from both
// so that neither imports the other.

export type SecretInspection = { ok: true; key: Buffer } | { ok: false; message: string; hint: string };

export interface ParsedSignatureHeader {
  /** Decoded `v1` signatures: 32 bytes each. */
  v1: Buffer[];
  /** Versions present but not ours (`v1a` is the Standard Webhooks ed25519 scheme). */
  otherVersions: string[];
  /** Entries that are neither: no `version,` prefix, or a `v1` value that is not a 32-byte base64 MAC. */
  malformed: string[];
}
