import { describe, expect, it } from 'vitest';
import { DEFAULT_API_ROOT, isGoogleApiRoot } from '../../src/api/api-root.js';
import { parseWebhookUri } from '../../src/manage/validate.js';
import { makeTestDeps } from '../helpers/deps.js';

describe('parseWebhookUri', () => {
  it.each([
    [DEFAULT_API_ROOT, true],
    ['https://europe-west4-generativelanguage.googleapis.com/', true],
    ['http://127.0.0.1:8790', false],
    ['http://localhost:8790/prefix', false],
    ['https://proxy.example/gemini', false],
  ])('warns about a plain http uri only when the API root is Google (%s)', (apiRoot, warns) => {
    const t = makeTestDeps();
    try {
      expect(parseWebhookUri(' http://hooks.example.com/h ', t.deps, { apiRoot })).toBe('http://hooks.example.com/h');
      expect(isGoogleApiRoot(apiRoot)).toBe(warns);
      if (warns) expect(t.stderr()).toBe('gemwh: warning: --uri is plain http; the Gemini API is reported to accept only https endpoints\n');
      else expect(t.stderr()).toBe('');
    } finally {
      t.cleanup();
    }
  });

  it('never warns about https', () => {
    const t = makeTestDeps();
    try {
      parseWebhookUri('https://hooks.example.com/h', t.deps, { apiRoot: DEFAULT_API_ROOT });
      expect(t.stderr()).toBe('');
    } finally {
      t.cleanup();
    }
  });
});
