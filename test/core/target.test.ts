import { describe, expect, it } from 'vitest';
import { targetUrlFor } from '../../src/core/target.js';
import { parseTarget } from '../../src/flags/target.js';
import { UsageError } from '../../src/errors.js';

describe('parseTarget', () => {
  it.each([
    ['3000', 'http://localhost:3000/', false],
    [':8080', 'http://localhost:8080/', false],
    ['localhost:3000', 'http://localhost:3000/', false],
    ['127.0.0.1:3000/hooks', 'http://127.0.0.1:3000/hooks', true],
    ['[::1]:3000/a?b=1', 'http://[::1]:3000/a?b=1', true],
    ['http://example.com:8080/path', 'http://example.com:8080/path', true],
    ['https://hooks.example.com', 'https://hooks.example.com/', false],
    ['https://hooks.example.com/', 'https://hooks.example.com/', true],
    ['HTTP://Example.com:80/x', 'http://example.com/x', true],
    ['  4000  ', 'http://localhost:4000/', false],
    ['8787/hook', 'http://localhost:8787/hook', true],
    [':8787/a/b?c=1', 'http://localhost:8787/a/b?c=1', true],
  ])('%s -> %s (hasPath %s)', (input, href, hasPath) => {
    const target = parseTarget(input);
    expect(target.url.href).toBe(href);
    expect(target.hasPath).toBe(hasPath);
  });

  it.each([
    ['', /empty/],
    ['0', /port 0 .* out of range/],
    ['65536', /port 65536 .* out of range/],
    ['localhost:99999/x', /port 99999 .* out of range/],
    ['http://localhost:70000', /port 70000 .* out of range/],
    ['ftp://example.com/x', /unsupported scheme "ftp:"/],
    ['ws://localhost:3000', /unsupported scheme "ws:"/],
    ['localhost', /cannot read target/],
    ['localhost/hooks', /cannot read target/],
    ['example.com', /cannot read target/],
    ['http://localhost:3000/#frag', /#fragment/],
    ['http:// bad host', /not a valid URL/],
  ])('rejects %j', (input, message) => {
    let caught: unknown;
    try {
      parseTarget(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as UsageError).message).toMatch(message);
    expect((caught as UsageError).hint).toBeTruthy();
  });
});

describe('targetUrlFor', () => {
  it('keeps the incoming path and query when the target has no path', () => {
    expect(targetUrlFor(parseTarget('3000'), '/webhooks/gemini?x=1').href).toBe('http://localhost:3000/webhooks/gemini?x=1');
  });
  it('uses the target path when it has one', () => {
    expect(targetUrlFor(parseTarget('localhost:3000/app'), '/other').href).toBe('http://localhost:3000/app');
  });
  it('cannot be steered to another host by a protocol-relative path', () => {
    expect(targetUrlFor(parseTarget('3000'), '//evil.example/x').href).toBe('http://localhost:3000/evil.example/x');
  });
  it.each([
    '/\\127.0.0.1:9/x',
    '\\\\127.0.0.1:9/x',
    '/\\\\127.0.0.1:9/x',
    '//127.0.0.1:9/x',
    '/%2f%2f127.0.0.1:9/x',
    '/%5c127.0.0.1:9/x',
    '/@127.0.0.1:9/x',
    '/x@127.0.0.1:9/',
    '/../../127.0.0.1:9/x',
    '/%2e%2e/%2e%2e/x',
    '/.%2e/x',
    'http://127.0.0.1:9/x',
    'HTTP://user@127.0.0.1:9/x?q=1',
    '//127.0.0.1:9\\@localhost:3000/x',
    'http://[/',
    '?//127.0.0.1:9/',
    '/x#//127.0.0.1:9/',
  ])('keeps the target origin whatever the request line holds: %s', (incoming) => {
    const url = targetUrlFor(parseTarget('3000'), incoming);
    expect(url.origin).toBe('http://localhost:3000');
    expect(url.username).toBe('');
  });
  it('takes only the path and query of an absolute-form request target', () => {
    expect(targetUrlFor(parseTarget('3000'), 'http://elsewhere.example/hook?x=1').href).toBe('http://localhost:3000/hook?x=1');
  });
});
