import { describe, expect, it } from 'vitest';
import { parseHeaderLine, parseOutgoingHeader } from '../../src/core/headers.js';
import { UsageError } from '../../src/errors.js';
import { runGemwh } from '../helpers/deps.js';

describe('parseOutgoingHeader (--header of listen and replay fixture)', () => {
  it('keeps colons in the value and trims around the name and value', () => {
    expect(parseOutgoingHeader(' X-Trace :  a:b:c ')).toEqual(['X-Trace', 'a:b:c']);
    expect(parseOutgoingHeader('X-Empty:')).toEqual(['X-Empty', '']);
  });

  it.each([
    ['no colon', 'X-Trace abc', /is not "Name: value"/],
    ['no name', ': abc', /is not "Name: value"/],
    ['a space in the name', 'X Trace: abc', /is not "Name: value"/],
    ['an HTTP/2 pseudo-header', ':authority: example.com', /is not "Name: value"/],
    ['a header the sender derives', 'Content-Length: 3', /cannot set Content-Length/],
    ['a hop-by-hop header', 'Transfer-Encoding: chunked', /cannot set Transfer-Encoding/],
    ['Expect', 'expect: 100-continue', /cannot set expect/],
    ['a line break', 'X-A: b\r\nX-B: c', /line break/],
    ['a NUL', 'X-A: b\0c', /NUL/],
  ])('refuses %s with a usage error', (_case, text, message) => {
    expect(() => parseOutgoingHeader(text)).toThrow(UsageError);
    expect(() => parseOutgoingHeader(text)).toThrow(message);
  });

  it('listen and replay fixture refuse the same headers the same way', async () => {
    for (const args of [
      ['listen', '--forward', '3000', '--header', 'TE: trailers'],
      ['replay', 'fixture', 'batch.succeeded', '--to', '3000', '--secret', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', '--header', 'TE: trailers'],
    ]) {
      const result = await runGemwh(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/--header cannot set TE/);
    }
  });
});

describe('parseHeaderLine (captured headers for verify)', () => {
  it('takes what captures contain: curl prefixes, pseudo-headers, headers a sender derives', () => {
    expect(parseHeaderLine('> webhook-id: msg_1')).toEqual(['webhook-id', 'msg_1']);
    expect(parseHeaderLine(':authority: example.com')).toEqual([':authority', 'example.com']);
    expect(parseHeaderLine('Content-Length: 3')).toEqual(['Content-Length', '3']);
  });
});
