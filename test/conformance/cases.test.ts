import { describe, expect, it } from 'vitest';
import { EVENT_TYPE_NAMES } from '../../src/core/events.js';
import { allCases, casesFor, flipOneByte, NON_ASCII_BODY } from '../../src/conformance/cases.js';
import { score, selectCases, type CaseResult } from '../../src/conformance/engine.js';
import { formatMarkdownReport, type ConformanceReport } from '../../src/conformance/report.js';
import { UsageError } from '../../src/errors.js';

const staticCases = casesFor('static', EVENT_TYPE_NAMES);
const dynamicCases = casesFor('dynamic', EVENT_TYPE_NAMES);

describe('the case list', () => {
  it('has unique kebab-case ids and a risk line for every case', () => {
    const ids = allCases(EVENT_TYPE_NAMES).map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of allCases(EVENT_TYPE_NAMES)) {
      expect(c.id).toMatch(/^(accept|reject|handle)-[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(c.id.split('-')[0]).toBe({ 'must-accept': 'accept', 'must-reject': 'reject', should: 'handle' }[c.group]);
      expect(c.risk.length).toBeGreaterThan(20);
      expect(c.risk).not.toMatch(/\n/);
    }
  });

  it('sends a valid delivery of every catalog event type, in both modes', () => {
    for (const cases of [staticCases, dynamicCases]) {
      const accepted = cases.filter((c) => c.group === 'must-accept').map((c) => c.id);
      for (const type of EVENT_TYPE_NAMES) expect(accepted).toContain(`accept-${type.replace(/[._]/g, '-')}`);
    }
    expect(staticCases.map((c) => c.id)).toContain('accept-interaction-requires-action');
  });

  it('keeps JWT attacks out of static runs and HMAC attacks out of dynamic runs', () => {
    expect(staticCases.some((c) => c.id.startsWith('reject-jwt-'))).toBe(false);
    expect(dynamicCases.filter((c) => c.id.startsWith('reject-jwt-')).map((c) => c.id)).toEqual([
      'reject-jwt-wrong-key',
      'reject-jwt-alg-none',
      'reject-jwt-hs256-public-key',
      'reject-jwt-expired',
      'reject-jwt-unknown-kid',
      'reject-jwt-wrong-audience',
    ]);
    expect(dynamicCases.some((c) => c.id === 'accept-rotation-header' || c.id === 'reject-empty-signature')).toBe(false);
  });

  it('runs the oversized body last, so a receiver that dies there cannot fail other cases', () => {
    expect(staticCases.at(-1)?.id).toBe('handle-oversized-body');
    expect(dynamicCases.at(-1)?.id).toBe('handle-oversized-body');
  });
});

describe('attack material', () => {
  it('changes exactly one byte and keeps the body JSON', () => {
    const body = '{"type":"batch.succeeded","data":{"id":"batch_123z"}}';
    const changed = flipOneByte(body);
    expect(changed.length).toBe(Buffer.byteLength(body));
    const differing = [...changed].filter((byte, i) => byte !== Buffer.from(body)[i]);
    expect(differing).toHaveLength(1);
    expect(() => JSON.parse(changed.toString()) as unknown).not.toThrow();
  });

  it('builds a non-ASCII body that re-serialising JSON would change', () => {
    const body = NON_ASCII_BODY('2026-05-04T12:00:00Z');
    expect(body).toContain('\\/');
    expect(/[^\x00-\x7f]/.test(body)).toBe(true);
    expect(JSON.stringify(JSON.parse(body))).not.toBe(body);
  });
});

describe('--only', () => {
  it('takes ids and globs and keeps battery order', () => {
    const chosen = selectCases(staticCases, ['reject-missing-*', 'accept-batch-succeeded'], 'static');
    expect(chosen.map((c) => c.id)).toEqual(['accept-batch-succeeded', 'reject-missing-id', 'reject-missing-timestamp', 'reject-missing-signature']);
  });

  it('names the cases that exist when a pattern matches none', () => {
    expect(() => selectCases(staticCases, ['reject-everything'], 'static', dynamicCases)).toThrow(UsageError);
    try {
      selectCases(staticCases, ['reject-everything'], 'static', dynamicCases);
    } catch (error) {
      expect((error as UsageError).hint).toContain('reject-missing-id');
    }
  });
});

function result(id: string, group: CaseResult['group'], outcome: CaseResult['outcome']): CaseResult {
  return { id, group, outcome, expected: '2xx', got: '200', risk: 'r', latencyMs: [1] };
}

describe('score and report', () => {
  it('scores must- and should-cases separately; only must failures fail the run', () => {
    const s = score([
      result('accept-a', 'must-accept', 'pass'),
      result('reject-b', 'must-reject', 'fail'),
      result('reject-c', 'must-reject', 'warn'),
      result('handle-d', 'should', 'fail'),
      result('handle-e', 'should', 'pass'),
    ]);
    expect(s).toEqual({
      passed: 2,
      total: 5,
      percent: 40,
      must: { passed: 1, total: 3, warned: 1, failed: ['reject-b'] },
      should: { passed: 1, total: 2, warned: 0, failed: ['handle-d'] },
    });
  });

  it('escapes table separators in the Markdown report', () => {
    const cases = [{ ...result('accept-a', 'must-accept', 'fail'), got: 'a | b', detail: 'why | it failed' }];
    const report: ConformanceReport = {
      schema: 'gemwh.conformance/v1',
      target: 'http://127.0.0.1:1/x',
      mode: 'static',
      startedAt: '2026-05-04T12:00:00.000Z',
      gemwhVersion: '0.0.0',
      cases,
      score: score(cases),
      passed: false,
    };
    const markdown = formatMarkdownReport(report);
    expect(markdown).toContain('| `accept-a` | must-accept | 2xx | a \\| b | FAIL | r |');
    expect(markdown).toContain('- **FAIL `accept-a`**: why \\| it failed');
  });
});
