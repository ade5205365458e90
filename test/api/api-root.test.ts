import { describe, expect, it } from 'vitest';
import { DEFAULT_API_ROOT, resolveApiRoot, resolveApiVersion } from '../../src/api/api-root.js';
import { UsageError } from '../../src/errors.js';

describe('resolveApiRoot', () => {
  it('prefers --api-root, then GEMWH_API_ROOT, then the real service', () => {
    const env = { GEMWH_API_ROOT: 'http://127.0.0.1:9000/' };
    expect(resolveApiRoot({ flag: 'http://localhost:8790', env })).toBe('http://localhost:8790');
    expect(resolveApiRoot({ env })).toBe('http://127.0.0.1:9000');
    expect(resolveApiRoot({ env: {} })).toBe(DEFAULT_API_ROOT);
    expect(resolveApiRoot({ flag: '  ', env: { GEMWH_API_ROOT: '' } })).toBe(DEFAULT_API_ROOT);
  });

  it('keeps a path prefix and drops trailing slashes', () => {
    expect(resolveApiRoot({ flag: 'https://proxy.example/gemini//' })).toBe('https://proxy.example/gemini');
  });

  it('takes host:port without a scheme as plain HTTP, as people type a local server', () => {
    expect(resolveApiRoot({ flag: '127.0.0.1:8790' })).toBe('http://127.0.0.1:8790');
    expect(resolveApiRoot({ flag: 'localhost:8790/prefix/' })).toBe('http://localhost:8790/prefix');
    expect(resolveApiRoot({ env: { GEMWH_API_ROOT: '[::1]:8790' } })).toBe('http://[::1]:8790');
  });

  it('rejects what is not an http(s) URL, naming where it came from', () => {
    expect(() => resolveApiRoot({ flag: 'localhost' })).toThrow(UsageError);
    expect(() => resolveApiRoot({ env: { GEMWH_API_ROOT: 'not a url' } })).toThrow(/GEMWH_API_ROOT/);
    expect(() => resolveApiRoot({ flag: 'ftp://x.example' })).toThrow(/http or https/);
    expect(() => resolveApiRoot({ flag: 'http://x.example/?key=1' })).toThrow(/query/);
  });
});

describe('resolveApiVersion', () => {
  it('defaults to v1 (as @google/genai 3.1+ and the guide) and allows only one path segment', () => {
    expect(resolveApiVersion()).toBe('v1');
    expect(resolveApiVersion('v1beta')).toBe('v1beta');
    expect(resolveApiVersion('v1')).toBe('v1');
    expect(() => resolveApiVersion('v1/../x')).toThrow(UsageError);
  });
});
