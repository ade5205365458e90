import { describe, expect, it } from 'vitest';
import { applyAssignments, parseSetAssignment, setPath } from '../../src/core/set-path.js';
import { UsageError } from '../../src/errors.js';

describe('parseSetAssignment', () => {
  it('splits a dotted path and keeps non-JSON values as text', () => {
    expect(parseSetAssignment('data.output_file_uri=gs://b/r.jsonl')).toEqual({
      path: ['data', 'output_file_uri'],
      value: 'gs://b/r.jsonl',
    });
  });
  it.each([
    ['a=42', 42],
    ['a=true', true],
    ['a=null', null],
    ['a={"x":[1,2]}', { x: [1, 2] }],
    ['a="42"', '42'],
    ['a=', ''],
    ['a=x=y', 'x=y'],
  ])('parses the value of %s as JSON when it is JSON', (text, value) => {
    expect(parseSetAssignment(text).value).toEqual(value);
  });
  it.each(['noequals', '=value', 'a..b=1', '.a=1', 'a.=1', '__proto__.x=1', 'data.constructor=1'])('rejects %j', (text) => {
    expect(() => parseSetAssignment(text)).toThrow(UsageError);
  });
});

describe('setPath', () => {
  const event = { type: 'batch.succeeded', data: { id: 'b1', items: [{ id: 'x' }] } };

  it('replaces a nested field without changing the original', () => {
    const changed = setPath(event, ['data', 'id'], 'b2') as typeof event;
    expect(changed.data.id).toBe('b2');
    expect(event.data.id).toBe('b1');
    expect(changed.type).toBe('batch.succeeded');
  });
  it('creates missing objects along the path', () => {
    expect(setPath(event, ['data', 'user_metadata', 'tenant'], 'acme')).toMatchObject({
      data: { id: 'b1', user_metadata: { tenant: 'acme' } },
    });
  });
  it('addresses array elements by index and appends at the length', () => {
    expect(setPath(event, ['data', 'items', '0', 'id'], 'y')).toMatchObject({ data: { items: [{ id: 'y' }] } });
    expect(setPath(event, ['data', 'items', '1'], 'z')).toMatchObject({ data: { items: [{ id: 'x' }, 'z'] } });
    expect(() => setPath(event, ['data', 'items', 'first'], 1)).toThrow(UsageError);
    expect(() => setPath(event, ['data', 'items', '5'], 1)).toThrow(UsageError);
  });
  it('refuses to descend into a scalar', () => {
    expect(() => setPath(event, ['type', 'x'], 1)).toThrow(/inside a string value/);
  });
  it('applies assignments in order', () => {
    const out = applyAssignments(event, [parseSetAssignment('data.id=1'), parseSetAssignment('data.id=2')]);
    expect(out).toMatchObject({ data: { id: 2 } });
  });
});
