import { eventFilter, matchesEventPattern } from '../core/events.js';
import { targetUrlFor, type Target } from '../core/target.js';

/** `--route 'batch.*=http://localhost:3000/batch'`: deliveries of matching types go to that target. */
export interface Route {
  pattern: string;
  target: Target;
}

export interface RoutingOptions {
  /** `--forward`: where deliveries go when no route matches. */
  forward: readonly Target[];
  routes: readonly Route[];
  /** `--events`: only these types (globs) are forwarded; empty means all. */
  events: readonly string[];
}


/**
 * Decides where one delivery goes. Every route whose pattern matches the type receives it; when
 * none matches, the --forward targets do. `--events` applies on top (unless `ignoreFilter`, for
 * an explicit resend). Returns full URLs, the incoming path kept for targets without one.
 */
export function createRouter(options: RoutingOptions): (eventType: string | undefined, incomingPath: string, ignoreFilter?: boolean) => URL[] {
  const allowed = eventFilter(options.events);
  return (eventType, incomingPath, ignoreFilter = false) => {
    if (!ignoreFilter && !allowed(eventType)) return [];
    const routed =
      eventType === undefined ? [] : options.routes.filter((route) => matchesEventPattern(eventType, route.pattern)).map((route) => route.target);
    const targets = routed.length > 0 ? routed : options.forward;
    const seen = new Set<string>();
    const urls: URL[] = [];
    for (const target of targets) {
      const url = targetUrlFor(target, incomingPath);
      if (seen.has(url.href)) continue;
      seen.add(url.href);
      urls.push(url);
    }
    return urls;
  };
}

/** True when the session forwards anything at all. */
export function hasTargets(options: RoutingOptions): boolean {
  return options.forward.length > 0 || options.routes.length > 0;
}

/** How targets are shown in `ready`: `http://localhost:3000/ (keeps path)` style strings. */
export function describeTargets(options: RoutingOptions): string[] {
  const show = (t: Target) => (t.hasPath ? t.url.href : `${t.url.origin} (incoming path kept)`);
  return [...options.forward.map(show), ...options.routes.map((r) => `${r.pattern} → ${show(r.target)}`)];
}

/** (event type, path) pairs whose forward URLs are kept. */
const ROUTE_CACHE_LIMIT = 1024;

/**
 * The router for new deliveries, cached: where deliveries go depends only on their type and
 * path, so the URLs are parsed once per pair, not per delivery. Bounded, since the path is the
 * client's choice. `hrefs` are the URLs as the journal records them.
 */
export function createCachedRouter(route: ReturnType<typeof createRouter>): (eventType: string | undefined, path: string) => { urls: readonly URL[]; hrefs: readonly string[] } {
  const cache = new Map<string | undefined, Map<string, { urls: URL[]; hrefs: readonly string[] }>>();
  let size = 0;
  return (eventType, path) => {
    let byPath = cache.get(eventType);
    let entry = byPath?.get(path);
    if (entry) return entry;
    const urls = route(eventType, path);
    entry = { urls, hrefs: urls.map((u) => u.href) };
    if (size >= ROUTE_CACHE_LIMIT) {
      cache.clear();
      size = 0;
      byPath = undefined;
    }
    if (!byPath) cache.set(eventType, (byPath = new Map()));
    byPath.set(path, entry);
    size += 1;
    return entry;
  };
}
