import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, parseLocatedJson, type LocatedValue } from '../../src/core/json-located.js';

/** The plain value, to compare with JSON.parse. */
function plain(node: LocatedValue): unknown {
  if (node.kind === 'object') return Object.fromEntries(node.entries.map((entry) => [entry.key, plain(entry.value)]));
  if (node.kind === 'array') return node.items.map(plain);
  return node.value;
}

function errorOf(text: string): JsonSyntaxError {
  try {
    parseLocatedJson(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) return error;
    throw error;
  }
  throw new Error(`no error for ${text}`);
}

describe('parseLocatedJson', () => {
  it('reads what JSON.parse reads', () => {
    for (const text of ['{}', '[]', '"a\\u00e9\\n\\"\\\\"', '-1.5e3', '0', 'true', 'null', '{"a": [1, {"b": false}], "c": "ü 🎉"}', ' \r\n\t{ "x" : [ ] } ']) {
      expect(plain(parseLocatedJson(text))).toEqual(JSON.parse(text));
    }
  });

  it('places keys and values by line and column from 1 (a BOM is not a column)', () => {
    const root = parseLocatedJson('\ufeff{\n  "a": 1,\n\t"b": ["x",\n     "y"]\n}');
    if (root.kind !== 'object') throw new Error('not an object');
    expect(root.entries[0]!.at).toEqual({ line: 2, column: 3 });
    expect(root.entries[0]!.value).toMatchObject({ line: 2, column: 8 });
    const list = root.entries[1]!.value;
    if (list.kind !== 'array') throw new Error('not a list');
    expect(list.items.map((item) => [item.line, item.column])).toEqual([
      [3, 8],
      [4, 6],
    ]);
  });

  it('refuses what JSON refuses, at the place of the mistake', () => {
    expect(errorOf('{"a": 1,}')).toMatchObject({ message: 'a trailing comma before "}" is not allowed in JSON', place: { line: 1, column: 9 } });
    expect(errorOf('{\n  // note\n}')).toMatchObject({ message: 'comments are not allowed in JSON', place: { line: 2, column: 3 } });
    expect(errorOf('{"a": "b\nc"}').place).toEqual({ line: 1, column: 9 });
    expect(errorOf('{"a": 1 "b": 2}').message).toBe('expected "," or "}" after the value of "a", found """');
    expect(errorOf('{"a": 01}').place).toEqual({ line: 1, column: 8 });
    expect(errorOf('[1, 2').message).toBe('expected "," or "]" in a list, found the end of the file');
    expect(errorOf('{"a": 1, "a": 2}')).toMatchObject({ message: '"a" is given twice', place: { line: 1, column: 10 } });
    expect(errorOf('{} {}').message).toBe('unexpected "{" after the end of the JSON value');
    expect(errorOf('"\\x"').message).toBe('invalid escape "\\x" in a string');
  });
});
