import { UsageError } from '../errors.js';

/**
 * Where gemwh sends deliveries: `replay --to`, `listen --forward`, `conformance`.
 * `hasPath` is false when the user named only a host and port: listen then keeps the path each
 * delivery arrived on, and replay posts to `/`.
 */
export interface Target {
  url: URL;
  hasPath: boolean;
}

const FORMS_HINT =
  'Give a port (3000), port/path (3000/webhook), host:port[/path] (localhost:3000/webhook, 127.0.0.1:8080) or a full URL (https://example.com/hook).';

export function parseTarget(input: string): Target {
  const raw = input.trim();
  if (raw === '') throw new UsageError('the target is empty', { hint: FORMS_HINT });

  // A bare port is the common case when testing a local app; `localhost` lets Node try both
  // 127.0.0.1 and ::1, as dev servers differ in which one they bind.
  const bare = /^:?(\d+)$/.exec(raw);
  if (bare) return { url: new URL(`http://localhost:${checkPort(bare[1] ?? '', raw)}/`), hasPath: false };
  // `8787/hook`: a port and a path, the short form of localhost:8787/hook.
  const portAndPath = /^:?(\d+)(\/.*)$/.exec(raw);
  if (portAndPath) return parseTarget(`localhost:${checkPort(portAndPath[1] ?? '', raw)}${portAndPath[2]}`);

  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(raw);
  let withScheme: string;
  if (scheme) {
    const name = (scheme[1] ?? '').toLowerCase();
    if (name !== 'http' && name !== 'https') {
      throw new UsageError(`unsupported scheme "${name}:" in target "${raw}"`, {
        hint: 'Webhooks are delivered over HTTP: use http:// or https://.',
      });
    }
    withScheme = raw;
  } else {
    // Without a scheme a port is required: "localhost/hook" or "example.com" are more likely
    // typos than a wish to post to port 80 over plain HTTP.
    if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d+([/?].*)?$/.test(raw)) {
      throw new UsageError(`cannot read target "${raw}"`, { hint: FORMS_HINT });
    }
    withScheme = `http://${raw}`;
  }

  const afterScheme = withScheme.slice(withScheme.indexOf('://') + 3);
  const authorityEnd = afterScheme.search(/[/?#]/);
  const authority = authorityEnd === -1 ? afterScheme : afterScheme.slice(0, authorityEnd);
  const rest = authorityEnd === -1 ? '' : afterScheme.slice(authorityEnd);
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  const portMatch = /:(\d*)$/.exec(hostPort.endsWith(']') ? '' : hostPort);
  if (portMatch) checkPort(portMatch[1] ?? '', raw);

  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`"${raw}" is not a valid URL`, { hint: FORMS_HINT });
  }
  if (url.hostname === '') throw new UsageError(`target "${raw}" has no host`, { hint: FORMS_HINT });
  if (url.hash !== '') {
    throw new UsageError(`target "${raw}" has a #fragment, which is never sent to a server`, {
      hint: 'Remove the part from # on.',
    });
  }
  return { url, hasPath: rest !== '' };
}

/**
 * The URL one delivery goes to: the target's own path when it has one, else the path (and
 * query) the delivery came in on, so `listen --forward 3000` mirrors /webhooks/gemini as is.
 *
 * The request line is not signed, so nothing in it may choose the host: the path is set on a
 * URL of the target's origin, never resolved against it (resolving reads `/\\host`, `//host` and
 * an absolute-form `http://host/` as another authority).
 */
export function targetUrlFor(target: Target, incomingPathAndQuery = '/'): URL {
  if (target.hasPath) return new URL(target.url);
  const { path, query } = splitRequestTarget(incomingPathAndQuery);
  const url = new URL(target.url.origin);
  // Leading slashes (either kind) are collapsed so the path reads the same on the app's side.
  url.pathname = `/${path.replace(/^[/\\]+/, '')}`;
  if (query !== undefined) url.search = `?${query}`;
  return url;
}

/** Path and query of a request target; an absolute-form one (`http://host/p?q`) gives only its path and query. */
function splitRequestTarget(requestTarget: string): { path: string; query?: string } {
  let pathAndQuery = requestTarget;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(requestTarget)) {
    try {
      const absolute = new URL(requestTarget);
      pathAndQuery = `${absolute.pathname}${absolute.search}`;
    } catch {
      // Not a URL after all: it stays a (strange) path on the target.
    }
  }
  const q = pathAndQuery.indexOf('?');
  return q === -1 ? { path: pathAndQuery } : { path: pathAndQuery.slice(0, q), query: pathAndQuery.slice(q + 1) };
}

function checkPort(digits: string, raw: string): number {
  const port = Number(digits);
  if (digits === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`port ${digits === '' ? '(empty)' : digits} in target "${raw}" is out of range`, {
      hint: 'A port is a number from 1 to 65535.',
    });
  }
  return port;
}
