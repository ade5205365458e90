import { UsageError } from '../errors.js';

/**
 * `--relay-filter`: which deliveries a client takes, applied at the relay so a developer receives
 * only the jobs they care about. `type=batch.*` matches the event type (globs with *);
 * `KEY=VALUE` matches data.user_metadata[KEY]. Several terms must all match.
 */
export interface RelayFilter {
  types: string[];
  metadata: Array<[string, string]>;
}

export const EMPTY_FILTER: RelayFilter = { types: [], metadata: [] };

export function parseRelayFilter(terms: readonly string[]): RelayFilter {
  const filter: RelayFilter = { types: [], metadata: [] };
  for (const term of terms.flatMap((t) => t.split(',')).map((t) => t.trim()).filter((t) => t !== '')) {
    const eq = term.indexOf('=');
    if (eq <= 0) {
      throw new UsageError(`--relay-filter ${JSON.stringify(term)}: expected type=PATTERN or KEY=VALUE`, {
        hint: "e.g. --relay-filter 'type=batch.*' --relay-filter owner=alice (KEY=VALUE matches data.user_metadata)",
      });
    }
    const key = term.slice(0, eq);
    const value = term.slice(eq + 1);
    if (key === 'type') filter.types.push(value);
    else filter.metadata.push([key, value]);
  }
  return filter;
}

/** The filter as URL query parameters (`type=…&meta=KEY=VALUE`), the form the relay reads. */
export function filterToQuery(filter: RelayFilter, params: URLSearchParams): void {
  for (const type of filter.types) params.append('type', type);
  for (const [key, value] of filter.metadata) params.append('meta', `${key}=${value}`);
}

export function filterFromQuery(params: URLSearchParams): RelayFilter {
  return parseRelayFilter([...params.getAll('type').map((t) => `type=${t}`), ...params.getAll('meta')]);
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** A predicate over raw bodies; a body that is not JSON matches only the empty filter. */
export function compileFilter(filter: RelayFilter): (body: Buffer) => boolean {
  if (filter.types.length === 0 && filter.metadata.length === 0) return () => true;
  const types = filter.types.map(globToRegExp);
  return (body) => {
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      return false;
    }
    if (typeof payload !== 'object' || payload === null) return false;
    const record = payload as { type?: unknown; data?: { user_metadata?: unknown } };
    if (types.length > 0 && !(typeof record.type === 'string' && types.some((re) => re.test(record.type as string)))) return false;
    if (filter.metadata.length > 0) {
      const metadata = record.data?.user_metadata;
      if (typeof metadata !== 'object' || metadata === null) return false;
      for (const [key, value] of filter.metadata) {
        const actual = (metadata as Record<string, unknown>)[key];
        if (actual === undefined || String(actual) !== value) return false;
      }
    }
    return true;
  };
}
