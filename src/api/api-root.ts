import { UsageError } from '../errors.js';

/**
 * Where the WebhookService lives. Kept apart from client.ts so that commands can import it at top
 * level for free: the client pulls in googleapis-common, which costs real start-up time.
 */
export const DEFAULT_API_ROOT = 'https://generativelanguage.googleapis.com';
export const DEFAULT_API_VERSION = 'v1';
/** `gemwh emulator` listens here unless told otherwise; error hints name it. */
export const EMULATOR_DEFAULT_PORT = 8790;
export const EMULATOR_DEFAULT_HOST = '127.0.0.1';

export interface ApiRootSources {
  /** --api-root */
  flag?: string;
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * --api-root beats GEMWH_API_ROOT beats the real service. The result has no trailing slash, so
 * `${root}/${version}/webhooks` is always one well-formed URL.
 */
export function resolveApiRoot(sources: ApiRootSources = {}): string {
  const fromFlag = sources.flag?.trim();
  const fromEnv = sources.env?.GEMWH_API_ROOT?.trim();
  const chosen = fromFlag || fromEnv || DEFAULT_API_ROOT;
  const origin = fromFlag ? '--api-root' : fromEnv ? 'GEMWH_API_ROOT' : 'the default API root';
  return normalizeApiRoot(chosen, origin);
}

export function normalizeApiRoot(value: string, origin = '--api-root'): string {
  // `127.0.0.1:8790` or `localhost:8790/prefix`, as people type a local server: plain HTTP. (To
  // URL, `localhost:8790` is the scheme `localhost:` with the path `8790`.)
  if (/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d+(\/.*)?$/.test(value)) value = `http://${value}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${origin} is not a URL: "${value}"`, {
      hint: 'Give an absolute http(s) URL, e.g. --api-root http://127.0.0.1:8790 for `gemwh emulator`.',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${origin} must be an http or https URL, got "${value}"`, {
      hint: 'e.g. --api-root http://127.0.0.1:8790 for `gemwh emulator`.',
    });
  }
  if (url.search || url.hash) {
    throw new UsageError(`${origin} must not carry a query or fragment: "${value}"`, {
      hint: 'Give only scheme, host, port and an optional path prefix.',
    });
  }
  return url.href.replace(/\/+$/, '');
}

/**
 * True when the root is on this machine (the emulator, a test server): it does not need a real
 * API key, and a real one should not be sent there.
 */
export function isLocalApiRoot(root: string): boolean {
  try {
    const host = new URL(root).hostname.toLowerCase().replace(/^\[|\]$/g, '');
    return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

/**
 * True when the root is Google's own service (generativelanguage.googleapis.com or another
 * *.googleapis.com host). Warnings about what the real API accepts only make sense there; the
 * emulator or a loopback server accepts what it accepts.
 */
export function isGoogleApiRoot(root: string): boolean {
  try {
    const host = new URL(root).hostname.toLowerCase();
    return host === 'googleapis.com' || host.endsWith('.googleapis.com');
  } catch {
    return false;
  }
}

/** --api-version beats the default; only a plain path segment is allowed, it goes into every URL. */
export function resolveApiVersion(flag?: string): string {
  const version = flag?.trim() || DEFAULT_API_VERSION;
  if (!/^[A-Za-z0-9._-]+$/.test(version)) {
    throw new UsageError(`--api-version must be a single path segment such as v1beta, got "${version}"`);
  }
  return version;
}
