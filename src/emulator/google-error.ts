import type { GoogleErrorBody } from '../api/types.js';

/** The canonical Google RPC status names the emulator answers with, and their HTTP codes. */
export const GOOGLE_STATUS_HTTP = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type GoogleStatus = keyof typeof GOOGLE_STATUS_HTTP;

/**
 * Thrown by emulator routes and the store; the server turns it into Google's error body
 * `{"error":{"code","message","status"}}` so clients see the same shape as from the real API.
 */
export class EmulatorHttpError extends Error {
  readonly httpStatus: number;

  constructor(
    readonly status: GoogleStatus,
    message: string,
    readonly details?: unknown[],
    httpStatus?: number,
  ) {
    super(message);
    this.name = 'EmulatorHttpError';
    this.httpStatus = httpStatus ?? GOOGLE_STATUS_HTTP[status];
  }

  toBody(): GoogleErrorBody {
    return googleErrorBody(this.httpStatus, this.status, this.message, this.details);
  }
}

export function googleErrorBody(code: number, status: string, message: string, details?: unknown[]): GoogleErrorBody {
  return { error: { code, message, status, ...(details ? { details } : {}) } };
}

export function invalidArgument(message: string): EmulatorHttpError {
  return new EmulatorHttpError('INVALID_ARGUMENT', message);
}

/** A google.rpc.ErrorInfo detail: the machine-readable reason clients match instead of message text. */
export function errorInfo(reason: string): { '@type': string; reason: string; domain: string } {
  return { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'gemwh-emulator' };
}

/** Why the trigger endpoint refused a named webhook (emulator-only reasons). */
export const TRIGGER_REFUSAL = {
  disabled: 'WEBHOOK_NOT_ENABLED',
  notSubscribed: 'WEBHOOK_NOT_SUBSCRIBED',
} as const;
