import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-file.js';
import { UsageError } from '../errors.js';
import type { KeyRingState } from './jwks/key-ring.js';
import type { StoreSnapshot } from './store.js';

/** What --state keeps: the webhooks, and the JWT signing keys once dynamic deliveries made one. */
export interface EmulatorState extends StoreSnapshot {
  jwt_keys?: KeyRingState;
}

/**
 * `--state FILE`: the emulator's webhooks, full signing secrets (and JWT private keys) included, so the file is 0600 and
 * replaced atomically (fs/atomic-file.ts): a crash mid-write leaves the previous state, never half.
 * Writes are synchronous on purpose: each mutation is saved before its response is sent, and two
 * requests can never interleave their writes.
 */
export function loadStateFile(file: string): EmulatorState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read the emulator state file ${file}: ${(error as Error).message}`, {
      hint: 'Check the path and its permissions, or pass another --state FILE.',
    });
  }
  const notState = (why: string) =>
    new UsageError(`${file} is not a gemwh emulator state file (${why})`, {
      hint: 'Pass another --state FILE (it is created on first use), or delete this one to start empty.',
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw notState('not JSON');
  }
  if (!isSnapshot(parsed)) throw notState('unexpected content');
  return parsed;
}

export function saveStateFile(file: string, snapshot: EmulatorState): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomic(file, `${JSON.stringify(snapshot, null, 2)}\n`, { mode: 0o600 });
}

function isSnapshot(value: unknown): value is EmulatorState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<EmulatorState>;
  if (v.jwt_keys !== undefined && !isKeyRingState(v.jwt_keys)) return false;
  return (
    v.version === 1 &&
    typeof v.page_token_key === 'string' &&
    typeof v.next_seq === 'number' &&
    Array.isArray(v.webhooks) &&
    v.webhooks.every(
      (w) =>
        typeof w === 'object' &&
        w !== null &&
        typeof w.id === 'string' &&
        typeof w.seq === 'number' &&
        typeof w.uri === 'string' &&
        Array.isArray(w.subscribed_events) &&
        Array.isArray(w.secrets),
    )
  );
}

function isSigningKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const k = value as Record<string, unknown>;
  const isJwk = (jwk: unknown) => typeof jwk === 'object' && jwk !== null && (jwk as { kty?: unknown }).kty === 'RSA';
  return typeof k.kid === 'string' && isJwk(k.privateJwk) && typeof (k.privateJwk as { d?: unknown }).d === 'string' && isJwk(k.publicJwk);
}

function isKeyRingState(value: unknown): value is KeyRingState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<KeyRingState>;
  return (
    isSigningKey(v.signing) &&
    Array.isArray(v.retiring) &&
    v.retiring.every((r) => typeof r === 'object' && r !== null && isSigningKey(r.key) && typeof r.retires_at === 'number')
  );
}
