/**
 * A JSON parser that remembers where each value and key is (line and column, from 1), so that a
 * config file's errors can name the place to fix, as compilers do. JSON.parse only says
 * "position N" and nothing about a valid file whose values are wrong. Strict JSON (RFC 8259):
 * no comments, no trailing commas; a key given twice is an error instead of the last one
 * silently winning.
 */

export interface Place {
  line: number;
  column: number;
}

export type LocatedValue =
  | (Place & { kind: 'object'; entries: LocatedEntry[] })
  | (Place & { kind: 'array'; items: LocatedValue[] })
  | (Place & { kind: 'string'; value: string })
  | (Place & { kind: 'number'; value: number })
  | (Place & { kind: 'boolean'; value: boolean })
  | (Place & { kind: 'null'; value: null });

export interface LocatedEntry {
  key: string;
  /** Where the key's opening quote is. */
  at: Place;
  value: LocatedValue;
}

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly place: Place,
  ) {
    super(message);
  }
}

export function parseLocatedJson(text: string): LocatedValue {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a BOM some editors write
  let line = 1;
  let lineStart = 0;
  const here = (): Place => ({ line, column: i - lineStart + 1 });
  const fail = (message: string, place: Place = here()): never => {
    throw new JsonSyntaxError(message, place);
  };
  const describe = () => (i >= text.length ? 'the end of the file' : `"${text[i]}"`);

  const skipSpace = () => {
    for (; i < text.length; i++) {
      const c = text[i];
      if (c === '\n') {
        line += 1;
        lineStart = i + 1;
      } else if (c !== ' ' && c !== '\t' && c !== '\r') {
        if (c === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) fail('comments are not allowed in JSON');
        return;
      }
    }
  };

  const parseString = (): string => {
    const start = here();
    i += 1; // the opening quote
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string', start);
      const c = text[i]!;
      if (c === '"') {
        i += 1;
        return out;
      }
      if (c === '\n' || c.charCodeAt(0) < 0x20) fail('a line break or control character inside a string (write \\n)');
      if (c === '\\') {
        const e = text[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e];
          i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else {
          fail(`invalid escape "\\${e ?? ''}" in a string`);
        }
        continue;
      }
      out += c;
      i += 1;
    }
  };

  const parseValue = (): LocatedValue => {
    skipSpace();
    const at = here();
    const c = text[i];
    if (c === '{') {
      i += 1;
      const entries: LocatedEntry[] = [];
      skipSpace();
      if (text[i] === '}') {
        i += 1;
        return { kind: 'object', entries, ...at };
      }
      for (;;) {
        skipSpace();
        if (text[i] !== '"') fail(`expected a key in double quotes, found ${describe()}`);
        const keyAt = here();
        const key = parseString();
        if (entries.some((entry) => entry.key === key)) fail(`"${key}" is given twice`, keyAt);
        skipSpace();
        if (text[i] !== ':') fail(`expected ":" after "${key}", found ${describe()}`);
        i += 1;
        entries.push({ key, at: keyAt, value: parseValue() });
        skipSpace();
        if (text[i] === ',') {
          i += 1;
          skipSpace();
          if (text[i] === '}') fail('a trailing comma before "}" is not allowed in JSON');
          continue;
        }
        if (text[i] === '}') {
          i += 1;
          return { kind: 'object', entries, ...at };
        }
        fail(`expected "," or "}" after the value of "${key}", found ${describe()}`);
      }
    }
    if (c === '[') {
      i += 1;
      const items: LocatedValue[] = [];
      skipSpace();
      if (text[i] === ']') {
        i += 1;
        return { kind: 'array', items, ...at };
      }
      for (;;) {
        items.push(parseValue());
        skipSpace();
        if (text[i] === ',') {
          i += 1;
          skipSpace();
          if (text[i] === ']') fail('a trailing comma before "]" is not allowed in JSON');
          continue;
        }
        if (text[i] === ']') {
          i += 1;
          return { kind: 'array', items, ...at };
        }
        fail(`expected "," or "]" in a list, found ${describe()}`);
      }
    }
    if (c === '"') return { kind: 'string', value: parseString(), ...at };
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 64));
    if (number && (c === '-' || (c !== undefined && c >= '0' && c <= '9'))) {
      i += number[0].length;
      return { kind: 'number', value: Number(number[0]), ...at };
    }
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return value === null ? { kind: 'null', value, ...at } : { kind: 'boolean', value, ...at };
      }
    }
    return fail(`expected a value, found ${describe()}${c === "'" ? ' (JSON strings take double quotes)' : ''}`);
  };

  const root = parseValue();
  skipSpace();
  if (i < text.length) fail(`unexpected ${describe()} after the end of the JSON value`);
  return root;
}
