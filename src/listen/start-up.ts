import { readFile } from 'node:fs/promises';
import type { KeySource } from '../core/jwt.js';
import type { Verdict } from '../core/verdict.js';
import { InterruptedError, UsageError } from '../errors.js';
import { createStaticJwksSource, parseJwks } from '../jwks/jwks-source.js';
import type { DeliveryVerifier } from './session-options.js';

/**
 * What `gemwh listen` settles before and around its session: start-up that honours Ctrl-C, the
 * --jwks-file read once at start, and the audience note on dynamic verdicts.
 */

/**
 * Resolves like `work`, unless `signal` aborts first: then rejects with an InterruptedError at
 * once, and whatever `work` resolves with later is handed to `onLate` (e.g. to stop a session
 * that finished starting after the user gave up on it).
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal, what: string, onLate?: (value: T) => unknown): Promise<T> {
  const interrupted = () =>
    new InterruptedError(`stopped while ${what}`, { hint: 'Nothing is listening; run the command again to start it.' });
  const late = () => {
    work.then(
      (value) => void Promise.resolve(onLate?.(value)).catch(() => {}),
      () => {},
    );
  };
  if (signal.aborted) {
    late();
    return Promise.reject(interrupted());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      late();
      reject(interrupted());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

const JWKS_FILE_HINT = 'Give a JSON file of the form {"keys": [{"kty": "RSA", "kid": "…", "n": "…", "e": "AQAB"}]}, or --jwks-url URL instead.';

/** --jwks-file, read and checked at start: a bad file is a usage error, not a 503 on every delivery. */
export async function loadJwksFile(path: string): Promise<KeySource> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const cause = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (code ?? (error as Error).message);
    throw new UsageError(`--jwks-file: cannot read ${path}: ${cause}`, { hint: `Check the path. ${JWKS_FILE_HINT}` });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--jwks-file: ${path} is not JSON: ${(error as Error).message}`, { hint: JWKS_FILE_HINT });
  }
  let keys: ReturnType<typeof parseJwks>;
  try {
    keys = parseJwks(parsed);
  } catch (error) {
    // parseJwks says "not a JWKS: <why>".
    throw new UsageError(`--jwks-file: ${path} is ${(error as Error).message}`, { hint: JWKS_FILE_HINT });
  }
  if (keys.keys.length === 0) {
    throw new UsageError(`--jwks-file: ${path} holds no keys, so no dynamic delivery could verify`, { hint: JWKS_FILE_HINT });
  }
  return createStaticJwksSource(keys, path);
}

/** Short enough for the live view's one warning line at 80 columns; each verdict carries the detail. */
export const AUDIENCE_WARNING = 'JWT audience not checked: pass --audience AUD (the aud your tokens carry)';

/**
 * Without --audience, an accepted dynamic verdict says that its `aud` was not checked (the detail
 * view shows it), and `onFirst` runs once, at the first such delivery.
 */
export function withAudienceNote(verify: DeliveryVerifier, onFirst?: () => void): DeliveryVerifier {
  let noted = false;
  const note = (verdict: Verdict): Verdict => {
    if (!verdict.ok || verdict.scheme !== 'dynamic') return verdict;
    if (!noted) {
      noted = true;
      onFirst?.();
    }
    const aud = verdict.claims.aud;
    const carried = aud === undefined ? 'the token has no aud' : `aud ${JSON.stringify(aud)}`;
    return { ...verdict, explanation: `${verdict.explanation}; the audience was not checked (${carried}): pass --audience to require it` };
  };
  // A static verdict comes back without a promise: none is added here either.
  return (input) => {
    const verdict = verify(input);
    return verdict instanceof Promise ? verdict.then(note) : note(verdict);
  };
}
