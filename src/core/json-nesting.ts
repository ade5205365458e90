/**
 * Whether JSON text nests deeper than `limit` arrays/objects. One pass, no parse: V8 parses a
 * deeply nested document about fifty times slower per byte than a flat one (a 1 MiB `[[[…]]]`
 * takes over half a second), and serializing one recursively overflows the stack. Webhook events
 * are a few levels deep, so whoever looks inside an untrusted body asks this first.
 */
export function nestsDeeperThan(json: string | Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  const length = json.length;
  const isText = typeof json === 'string';
  for (let i = 0; i < length; i++) {
    const c = isText ? json.charCodeAt(i) : json[i]!;
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** How deep an untrusted body may nest before gemwh stops looking inside it. */
export const MAX_INSPECTED_NESTING = 64;
