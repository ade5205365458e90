import { findCredentialsAsync, AsyncEntry } from '@napi-rs/keyring';
import { randomBytes } from 'node:crypto';

/**
 * Keychain tests run against a real Secret Service. They skip when none is reachable, except
 * under GEMWH_REQUIRE_KEYCHAIN=1 (CI), where a missing keychain must fail them instead.
 */
export const keychainRequired = process.env.GEMWH_REQUIRE_KEYCHAIN === '1';

export function testServiceName(): string {
  return `gemwh-test-${randomBytes(6).toString('hex')}`;
}

/** Why the keychain cannot be used here, or undefined when it works (probed with a write). */
export async function keychainUnavailableReason(): Promise<string | undefined> {
  const service = testServiceName();
  try {
    const entry = new AsyncEntry(service, 'probe', { linux: { store: 'secret-service' } });
    await entry.setPassword('probe', AbortSignal.timeout(5000));
    await entry.deleteCredential(AbortSignal.timeout(5000));
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Removes every entry a test left under its service name. */
export async function deleteAllEntries(service: string): Promise<void> {
  const credentials = await findCredentialsAsync(service);
  for (const { account } of credentials) {
    await new AsyncEntry(service, account, { linux: { store: 'secret-service' } }).deleteCredential();
  }
}
