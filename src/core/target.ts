/**
 * Where gemwh sends deliveries (read from flags by flags/target.ts): `replay --to`, `listen --forward`, `conformance`.
 * `hasPath` is false when the user named only a host and port: listen then keeps the path each
 * delivery arrived on, and replay posts to `/`.
 */
export interface Target {
  url: URL;
  hasPath: boolean;
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
