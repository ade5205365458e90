import { describe, expect, it } from 'vitest';
import {
  API_EVENT_TYPES,
  EVENT_TYPE_NAMES,
  EVENT_TYPES,
  closestEventType,
  eventFilter,
  eventTypeInfo,
  isKnownEventType,
  matchesEventPattern,
  parseEventList,
} from '../../src/core/events.js';
import { UsageError } from '../../src/errors.js';

describe('event catalog', () => {
  it('has the 7 API enum values and the 2 guide-only ones', () => {
    expect([...API_EVENT_TYPES].sort()).toEqual(
      ['batch.expired', 'batch.failed', 'batch.succeeded', 'interaction.completed', 'interaction.failed', 'interaction.requires_action', 'video.generated'],
    );
    expect(EVENT_TYPES.filter((e) => !e.inApiEnum).map((e) => e.type).sort()).toEqual(['batch.cancelled', 'interaction.cancelled']);
    expect(new Set(EVENT_TYPE_NAMES).size).toBe(EVENT_TYPE_NAMES.length);
    for (const entry of EVENT_TYPES) expect(entry.description.length).toBeGreaterThan(10);
  });

  it('knows its types', () => {
    expect(isKnownEventType('batch.failed')).toBe(true);
    expect(isKnownEventType('batch.completed')).toBe(false);
    expect(eventTypeInfo('batch.cancelled')?.inApiEnum).toBe(false);
    expect(eventTypeInfo('nope')).toBeUndefined();
  });
});

describe('matchesEventPattern / eventFilter', () => {
  it.each([
    ['batch.failed', 'batch.*', true],
    ['interaction.failed', 'batch.*', false],
    ['interaction.failed', '*.failed', true],
    ['video.generated', '*', true],
    ['batch.failed', 'batch.failed', true],
    ['batchXfailed', 'batch.failed', false],
    ['batchXfailed', 'batch.*', false],
  ])('%s against %s → %s', (type, pattern, expected) => {
    expect(matchesEventPattern(type, pattern)).toBe(expected);
  });

  it('filters by any of several patterns; no pattern lets everything through', () => {
    const filter = eventFilter(['batch.*', 'video.generated']);
    expect(filter('batch.expired')).toBe(true);
    expect(filter('video.generated')).toBe(true);
    expect(filter('interaction.completed')).toBe(false);
    expect(filter(undefined)).toBe(false);
    expect(eventFilter([])('anything')).toBe(true);
    expect(eventFilter(['*'])(undefined)).toBe(true);
  });
});

describe('parseEventList', () => {
  it('splits on commas, accepts repeated flags, drops duplicates', () => {
    expect(parseEventList('batch.succeeded, batch.failed,batch.succeeded')).toEqual(['batch.succeeded', 'batch.failed']);
    expect(parseEventList(['batch.failed', 'video.generated'])).toEqual(['batch.failed', 'video.generated']);
  });

  function usageError(fn: () => unknown): UsageError {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      return error as UsageError;
    }
    throw new Error('expected a UsageError');
  }

  it('names the valid types and a near miss for an unknown one', () => {
    const error = usageError(() => parseEventList('batch.succeded', { flag: '--events' }));
    expect(error.message).toBe('--events: unknown event type "batch.succeded" (did you mean "batch.succeeded"?)');
    for (const type of EVENT_TYPE_NAMES) expect(error.hint).toContain(type);
  });

  it('points from an obsolete name to the current one', () => {
    expect(usageError(() => parseEventList('batch.completed')).message).toMatch(/obsolete.*batch\.succeeded/);
  });

  it('accepts patterns only when allowed, and only if they match something', () => {
    expect(parseEventList('batch.*', { allowPatterns: true })).toEqual(['batch.*']);
    expect(usageError(() => parseEventList('batch.*')).message).toMatch(/patterns/);
    expect(usageError(() => parseEventList('foo.*', { allowPatterns: true })).message).toMatch(/matches no known/);
  });

  it('accepts well-formed unknown types when allowed', () => {
    expect(parseEventList('model.tuned', { allowUnknown: true })).toEqual(['model.tuned']);
    expect(() => parseEventList('Model Tuned', { allowUnknown: true })).toThrow(UsageError);
  });

  it('rejects an empty list', () => {
    expect(usageError(() => parseEventList(' , ')).message).toMatch(/no event types/);
  });

  it('suggests nothing for far-off input', () => {
    expect(closestEventType('zzzzzzzzzzzz')).toBeUndefined();
  });
});
