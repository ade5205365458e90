/**
 * The one exit-code table of gemwh lives in EXIT_CODE_TABLE at the end of this file (the README
 * renders it, a test keeps the two in step). Every non-zero exit comes from a GemwhError subclass,
 * matched by class, never by message text; anything else is a bug and exits 1.
 */
export const ExitCode = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  VERIFICATION: 3,
  AUTH: 4,
  NOT_FOUND: 5,
  API: 6,
  NETWORK: 7,
  SECRET_STORE: 8,
  CHECK_FAILED: 9,
  INTERRUPTED: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface GemwhErrorOptions {
  /** One or two lines telling the user what to do next. */
  hint?: string;
  cause?: unknown;
}

export class GemwhError extends Error {
  readonly exitCode: ExitCodeValue = ExitCode.INTERNAL;
  /** A stable machine-readable code, printed in --json error output. */
  readonly code: string = 'internal';
  readonly hint?: string;

  constructor(message: string, options: GemwhErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

export class UsageError extends GemwhError {
  override readonly exitCode = ExitCode.USAGE;
  override readonly code = 'usage';
}

export class VerificationFailedError extends GemwhError {
  override readonly exitCode = ExitCode.VERIFICATION;
  override readonly code = 'verification_failed';
}

export class AuthError extends GemwhError {
  override readonly exitCode = ExitCode.AUTH;
  override readonly code = 'auth';
}

export class NotFoundError extends GemwhError {
  override readonly exitCode = ExitCode.NOT_FOUND;
  override readonly code = 'not_found';
}

export class ApiError extends GemwhError {
  override readonly exitCode = ExitCode.API;
  override readonly code = 'api';
  /** HTTP status and Google's `error.status`, when the server answered. */
  readonly httpStatus?: number;
  readonly googleStatus?: string;

  constructor(message: string, options: GemwhErrorOptions & { httpStatus?: number; googleStatus?: string } = {}) {
    super(message, options);
    this.httpStatus = options.httpStatus;
    this.googleStatus = options.googleStatus;
  }
}

export class NetworkError extends GemwhError {
  override readonly exitCode = ExitCode.NETWORK;
  override readonly code = 'network';
}

export class SecretStoreError extends GemwhError {
  override readonly exitCode = ExitCode.SECRET_STORE;
  override readonly code = 'secret_store';
}

export class CheckFailedError extends GemwhError {
  override readonly exitCode = ExitCode.CHECK_FAILED;
  override readonly code = 'check_failed';
}

export class InterruptedError extends GemwhError {
  override readonly exitCode = ExitCode.INTERRUPTED;
  override readonly code = 'interrupted';
}

/** The README renders this table; a test keeps the two in step. */
export const EXIT_CODE_TABLE: ReadonlyArray<{ code: number; name: keyof typeof ExitCode; meaning: string }> = [
  { code: 0, name: 'OK', meaning: 'the command did what was asked' },
  { code: 1, name: 'INTERNAL', meaning: 'an unexpected error (a bug; GEMWH_DEBUG=1 shows the stack)' },
  { code: 2, name: 'USAGE', meaning: 'bad flags, arguments or input files' },
  { code: 3, name: 'VERIFICATION', meaning: 'a delivery failed verification (`gemwh verify`)' },
  { code: 4, name: 'AUTH', meaning: 'no API key, or the API refused it (401/403)' },
  { code: 5, name: 'NOT_FOUND', meaning: 'no such webhook (404) or local record' },
  { code: 6, name: 'API', meaning: 'any other API error: 400, 409, 429, 5xx, an unreadable reply' },
  { code: 7, name: 'NETWORK', meaning: 'a server could not be reached (refused, DNS, timeout)' },
  { code: 8, name: 'SECRET_STORE', meaning: 'the keychain or secret file is unusable, or holds no such secret' },
  { code: 9, name: 'CHECK_FAILED', meaning: 'a receiver answered wrongly (replay, conformance)' },
  { code: 130, name: 'INTERRUPTED', meaning: 'stopped by Ctrl-C before finishing' },
];
