import { describeHolder, type LockHolder, type WaitForLockOptions } from '../fs/file-lock.js';
import { SecretStoreError } from '../errors.js';

/**
 * A store's lock is held for one read-modify-write: milliseconds for the file, at most two
 * keychain calls (each with its own deadline, 5 s by default) for the keychain. A lock older than a
 * minute is left by a process that died or hung, even if its pid is in use again.
 */
export const STORE_LOCK_OPTIONS = { waitMs: 20_000, staleAfterMs: 60_000 } satisfies Omit<WaitForLockOptions, 'onTimeout'>;

export function storeLockTimeout(what: string, lockPath: string, holder: LockHolder, waitMs = STORE_LOCK_OPTIONS.waitMs): SecretStoreError {
  return new SecretStoreError(`${what} has been locked by another gemwh (${describeHolder(holder)}) for over ${Math.round(waitMs / 1000)} s`, {
    hint: `Wait for that gemwh to finish and try again. If no gemwh is running, delete ${lockPath}.`,
  });
}
