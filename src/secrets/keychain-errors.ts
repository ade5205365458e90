import { SecretStoreError } from '../errors.js';

/** The ways out of an unusable keychain, shared by every keychain error. */
export function keychainWayOut(fileStorePath: string): string {
  return [
    'Start or unlock your keyring (GNOME Keyring, KWallet, macOS Keychain), or keep secrets elsewhere:',
    `  --secret-store file (or GEMWH_SECRET_STORE=file): a 0600 plain-text file at ${fileStorePath}`,
    '  --print-secret (create, rotate): print the secret once and store it yourself',
  ].join('\n');
}

/**
 * Turns what the keyring addon threw into a cause a person can act on. The addon only gives
 * messages (its `code` is always GenericFailure), so this is the one place that reads them.
 */
export function describeKeychainFailure(error: unknown, timeoutMs: number): string {
  if (isTimeout(error)) {
    return `the OS keychain did not answer within ${formatSeconds(timeoutMs)} (a locked keyring may be waiting on an unlock prompt)`;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/DBUS_SESSION_BUS_ADDRESS|autolaunch/i.test(message)) {
    return 'no D-Bus session bus to reach the Secret Service (DBUS_SESSION_BUS_ADDRESS is not set)';
  }
  // Without DBUS_SESSION_BUS_ADDRESS, listing falls back to the systemd default bus path.
  const defaultBus = /Failed to connect to address `unix:path=(\/run\/user\/\d+\/bus)`/.exec(message);
  if (defaultBus) {
    return `no D-Bus session bus at ${defaultBus[1]} (the default when DBUS_SESSION_BUS_ADDRESS is not set)`;
  }
  if (/Failed to connect to (socket|address)/i.test(message)) {
    return `the D-Bus session bus cannot be reached (${stripPrefix(message)})`;
  }
  if (/ServiceUnknown|org\.freedesktop\.secrets was not provided|not provided by any \.service files/i.test(message)) {
    return 'no Secret Service (GNOME Keyring, KWallet) is running on the D-Bus session bus';
  }
  if (/prompt was dismissed|locked/i.test(message)) {
    return 'the keyring is locked and could not be unlocked (the unlock prompt was dismissed or cannot be shown)';
  }
  if (/no result found/i.test(message)) {
    return 'the Secret Service has no default keyring collection (create or unlock a "login" keyring)';
  }
  return `the OS keychain failed: ${stripPrefix(message)}`;
}

export function keychainError(error: unknown, timeoutMs: number, fileStorePath: string): SecretStoreError {
  if (error instanceof SecretStoreError) return error;
  return new SecretStoreError(`cannot use the OS keychain: ${describeKeychainFailure(error, timeoutMs)}`, {
    hint: keychainWayOut(fileStorePath),
    cause: error,
  });
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

function stripPrefix(message: string): string {
  return message.replace(/^(Platform failure|Couldn't access platform storage):\s*/i, '').replace(/^(DBus|zbus) error:\s*/i, '');
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
