import { parseGoogleError } from '../api/api-errors.js';
import { EMULATOR_DEFAULT_HOST, EMULATOR_DEFAULT_PORT, normalizeApiRoot } from '../api/api-root.js';
import { ApiError, AuthError, GemwhError, InterruptedError, NetworkError, NotFoundError, UsageError } from '../errors.js';
import type { GlobalOptions } from '../api/credentials.js';
import type { Deps } from '../deps.js';
import { VERSION } from '../version.js';
import type { WireAttempt } from './deliveries/routes.js';
import { TRIGGER_REFUSAL } from './google-error.js';

/**
 * Talks to a running `gemwh emulator` on its own control paths (/_emulator/...): trigger,
 * deliveries, jwks rotate. These paths exist only on the emulator, so the commands that use them
 * refuse the real API up front instead of sending it requests it cannot understand.
 */

const START_HINT = `Start one with \`gemwh emulator\` and point gemwh at it: --api-root http://${EMULATOR_DEFAULT_HOST}:${EMULATOR_DEFAULT_PORT} or GEMWH_API_ROOT.`;

export interface EmulatorControl {
  root: string;
  request<T>(method: 'GET' | 'POST', path: string, options?: { body?: unknown; query?: Record<string, string | undefined> }): Promise<T>;
}

/** The emulator's base URL from --api-root / GEMWH_API_ROOT; never the default (Google's) root. */
export function resolveEmulatorRoot(command: string, flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  const fromFlag = flag?.trim();
  const fromEnv = env.GEMWH_API_ROOT?.trim();
  const chosen = fromFlag || fromEnv;
  if (!chosen) {
    throw new UsageError(`${command} works only against \`gemwh emulator\`, and no --api-root (or GEMWH_API_ROOT) names one`, { hint: START_HINT });
  }
  const root = normalizeApiRoot(chosen, fromFlag ? '--api-root' : 'GEMWH_API_ROOT');
  if (new URL(root).hostname.endsWith('googleapis.com')) {
    throw new UsageError(`${command} works only against \`gemwh emulator\`, not the real Gemini API (${root})`, {
      hint: `Gemini sends events itself when your jobs finish; to test a receiver without it, use the emulator. ${START_HINT}`,
    });
  }
  return root;
}

export function createEmulatorControl(options: { root: string; apiKey: string; signal?: AbortSignal; timeoutMs?: number }): EmulatorControl {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    root: options.root,
    async request<T>(method: 'GET' | 'POST', path: string, request: { body?: unknown; query?: Record<string, string | undefined> } = {}): Promise<T> {
      const url = new URL(`${options.root}${path}`);
      for (const [name, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(name, value);
      const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
      let response: Response;
      let text: string;
      try {
        response = await fetch(url, {
          method,
          headers: {
            'x-goog-api-key': options.apiKey,
            'user-agent': `gemwh/${VERSION}`,
            ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          body: request.body === undefined ? undefined : JSON.stringify(request.body),
          signal: AbortSignal.any(signals),
        });
        text = await response.text();
      } catch (error) {
        if (options.signal?.aborted) throw new InterruptedError('stopped before the emulator answered');
        throw unreachable(url, error, timeoutMs);
      }
      if (response.ok) {
        try {
          return JSON.parse(text) as T;
        } catch {
          throw notEmulator(url, response.status, text);
        }
      }
      throw errorFrom(url, response.status, text);
    },
  };
}

function unreachable(url: URL, error: unknown, timeoutMs: number): NetworkError {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const what =
    error instanceof Error && error.name === 'TimeoutError'
      ? `no answer within ${Math.round(timeoutMs / 1000)} s`
      : code === 'ECONNREFUSED'
        ? 'connection refused'
        : (code ?? (error instanceof Error ? error.message : String(error)));
  return new NetworkError(`cannot reach the emulator at ${url.origin}: ${what}`, { hint: `Is it running? ${START_HINT}` });
}

function notEmulator(url: URL, status: number, text: string): GemwhError {
  const preview = text.trim().replace(/\s+/g, ' ').slice(0, 80);
  return new UsageError(`${url.origin} is not a gemwh emulator: ${url.pathname} answered ${status}${preview ? ` "${preview}"` : ''}`, {
    hint: `Only \`gemwh emulator\` serves /_emulator/... paths. ${START_HINT}`,
  });
}

function errorFrom(url: URL, status: number, text: string): GemwhError {
  const google = parseGoogleError(text);
  if (!google) return notEmulator(url, status, text);
  const message = google.message ?? `HTTP ${status}`;
  const label = `${status}${google.status ? ` ${google.status}` : ''}`;
  if (status === 401 || status === 403 || google.reasons.includes('API_KEY_INVALID')) {
    return new AuthError(`the emulator refused the request (${label}): ${message}`, {
      hint: 'Pass the key the emulator was started with (--api-key / GEMINI_API_KEY); without one it accepts any non-empty key.',
    });
  }
  // An emulator that predates these paths answers 404 with Google's "Method not found".
  if (status === 404 && /^Method not found/.test(message)) return notEmulator(url, status, text);
  if (status === 404) return new NotFoundError(message, { hint: 'Run `gemwh list` to see the webhooks the emulator has.' });
  if (google.status === 'FAILED_PRECONDITION') {
    // The hint that applies: the emulator names the reason (older ones do not: then both).
    const disabled = google.reasons.includes(TRIGGER_REFUSAL.disabled);
    const unsubscribed = google.reasons.includes(TRIGGER_REFUSAL.notSubscribed);
    const hints = [
      ...(disabled || !unsubscribed ? ['`gemwh update ID --state enabled` re-enables the webhook.'] : []),
      ...(unsubscribed || !disabled ? ['`gemwh update ID --add-events TYPE` subscribes it; --all sends to webhooks not subscribed to the type.'] : []),
    ];
    return new UsageError(message, { hint: hints.join('\n') });
  }
  if (status === 400) return new UsageError(message, { hint: 'Correct the value the message names and run the command again.' });
  return new ApiError(`the emulator answered ${label}: ${message}`, { httpStatus: status, googleStatus: google.status });
}

/** The control client of the emulator --api-root / GEMWH_API_ROOT names, with the API key gemwh would use there. */
export async function openEmulatorControl(command: string, globals: GlobalOptions, deps: Deps): Promise<EmulatorControl> {
  const root = resolveEmulatorRoot(command, globals.apiRoot, deps.env);
  const { resolveApiKey } = await import('../api/credentials.js');
  const { key } = await resolveApiKey(deps, { ...globals, apiRoot: root });
  return createEmulatorControl({ root, apiKey: key, signal: deps.signal });
}

/** An attempt's outcome in a few words, for tables. */
export function attemptResult(attempt: WireAttempt | undefined): string {
  if (!attempt) return '';
  if (attempt.outcome === 'in_flight') return 'in flight';
  if (attempt.status !== undefined) return `${attempt.outcome === 'delivered' ? 'delivered' : 'failed'}: HTTP ${attempt.status}`;
  return `failed: ${attempt.error ?? 'no answer'}`;
}
