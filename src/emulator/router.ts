import type { IncomingHttpHeaders } from 'node:http';

export interface EmulatorRequest {
  method: string;
  /** Decoded path, without the query. */
  path: string;
  /** Path parameters named in the route pattern, percent-decoded. */
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The body exactly as received; routes that accept JSON read `json()`. */
  rawBody: Buffer;
  /** The body parsed as JSON: undefined when empty; throws INVALID_ARGUMENT when not JSON. */
  json(): unknown;
}

export interface EmulatorResponse {
  status: number;
  /** Serialised as JSON. Undefined sends an empty body. */
  body?: unknown;
  headers?: Readonly<Record<string, string>>;
}

export type RouteHandler = (request: EmulatorRequest) => EmulatorResponse | Promise<EmulatorResponse>;

export interface RouteOptions {
  /** Management routes need x-goog-api-key; public ones (a JWKS document, say) do not. Default true. */
  auth?: boolean;
}

interface Route {
  method: string;
  pattern: string;
  regex: RegExp;
  names: string[];
  handler: RouteHandler;
  auth: boolean;
}

export type RouteMatch =
  | { kind: 'found'; handler: RouteHandler; params: Record<string, string>; auth: boolean }
  | { kind: 'wrong_method'; allowed: string[] }
  | { kind: 'none' };

/**
 * A small method + path router. Patterns are literal paths with `{name}` placeholders that match one
 * path segment up to a `:` (so `/v1beta/webhooks/{id}:ping` works the way Google's custom methods
 * do). Other emulator modules (event delivery, JWKS, jobs) add their routes to the same router.
 */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: RouteHandler, options: RouteOptions = {}): this {
    const names: string[] = [];
    const source = pattern
      .split(/(\{[a-z_][a-z0-9_]*\})/i)
      .map((part) => {
        const placeholder = /^\{([a-z_][a-z0-9_]*)\}$/i.exec(part);
        if (placeholder?.[1]) {
          names.push(placeholder[1]);
          return '([^/:]+)';
        }
        return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('');
    this.routes.push({
      method: method.toUpperCase(),
      pattern,
      regex: new RegExp(`^${source}$`),
      names,
      handler,
      auth: options.auth ?? true,
    });
    return this;
  }

  match(method: string, path: string): RouteMatch {
    const allowed: string[] = [];
    for (const route of this.routes) {
      const found = route.regex.exec(path);
      if (!found) continue;
      if (route.method !== method.toUpperCase()) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      route.names.forEach((name, index) => {
        const raw = found[index + 1] ?? '';
        params[name] = safeDecode(raw);
      });
      return { kind: 'found', handler: route.handler, params, auth: route.auth };
    }
    return allowed.length > 0 ? { kind: 'wrong_method', allowed } : { kind: 'none' };
  }

  /** `METHOD pattern` of every route, for diagnostics. */
  describe(): string[] {
    return this.routes.map((route) => `${route.method} ${route.pattern}`);
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
