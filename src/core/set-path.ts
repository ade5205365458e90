import { UsageError } from '../errors.js';

/**
 * `--set data.output_file_uri=gs://b/r.jsonl`: change one field of a fixture before it is sent.
 * The value is JSON when it parses as JSON (numbers, true, null, {"a":1}, "quoted"), otherwise
 * the text as written, so URIs and ids need no quoting.
 */
export interface SetAssignment {
  path: string[];
  value: unknown;
}

// Assigning these would reach Object.prototype instead of the event.
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

const SET_HINT = 'Write --set PATH=VALUE with a dotted path, e.g. --set data.output_file_uri=gs://bucket/out.jsonl';

export function parseSetAssignment(text: string): SetAssignment {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`--set "${text}" has no PATH=VALUE`, { hint: SET_HINT });
  const pathText = text.slice(0, eq).trim();
  const path = pathText.split('.');
  if (path.some((segment) => segment === '')) {
    throw new UsageError(`--set path "${pathText}" has an empty segment`, { hint: SET_HINT });
  }
  const forbidden = path.find((segment) => FORBIDDEN_SEGMENTS.has(segment));
  if (forbidden) throw new UsageError(`--set path "${pathText}" uses the reserved name "${forbidden}"`, { hint: SET_HINT });
  return { path, value: parseValue(text.slice(eq + 1)) };
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Returns a copy of `root` with the value at `path` replaced; missing objects on the way are
 * created. Array elements are addressed by index (`data.items.0.id`).
 */
export function setPath(root: unknown, path: readonly string[], value: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  if (Array.isArray(root)) {
    const index = Number(head);
    if (!/^\d+$/.test(head) || index > root.length) {
      throw new UsageError(`--set: "${head}" is not an index of an array of ${root.length} element(s)`, {
        hint: 'Address array elements by number, from 0 to the array length (which appends).',
      });
    }
    const copy = [...(root as unknown[])];
    copy[index] = setPath(copy[index], rest, value);
    return copy;
  }
  if (root === undefined || root === null) return { [head]: setPath(undefined, rest, value) };
  if (typeof root !== 'object') {
    throw new UsageError(`--set: cannot set "${head}" inside a ${typeof root} value`, {
      hint: 'Only objects and arrays have fields; set the parent path to replace the value whole.',
    });
  }
  const record = root as Record<string, unknown>;
  return { ...record, [head]: setPath(record[head], rest, value) };
}

/** Applies every assignment in order; later ones win. */
export function applyAssignments(root: unknown, assignments: readonly SetAssignment[]): unknown {
  return assignments.reduce((current, { path, value }) => setPath(current, path, value), root);
}
