import { describe, expect, it } from 'vitest';
import { parseHeaderLine } from '../../src/core/headers.js';
import { parseHeaderFile } from '../../src/verify/capture.js';
import { UsageError } from '../../src/errors.js';

describe('parseHeaderFile', () => {
  it('reads curl -v style lines, skips the request line and HTTP/2 pseudo-headers', () => {
    const text = '> POST /hook HTTP/1.1\n> Host: x\n> :authority: x\n> Webhook-Id: msg_1\n> webhook-signature: v1,a\n';
    expect(parseHeaderFile(Buffer.from(text), 'f').headers).toEqual({ host: 'x', 'webhook-id': 'msg_1', 'webhook-signature': 'v1,a' });
  });

  it('joins folded lines and keeps repeated headers apart', () => {
    const text = 'HTTP/1.1 200 OK\r\nwebhook-signature: v1,a\r\n  v1,b\r\nx-seen: 1\r\nx-seen: 2\r\n';
    expect(parseHeaderFile(Buffer.from(text), 'f').headers).toEqual({ 'webhook-signature': 'v1,a v1,b', 'x-seen': ['1', '2'] });
  });

  it('keeps the exact body bytes of a whole HTTP message', () => {
    const body = '{"a": "é"}\r\n';
    const parsed = parseHeaderFile(Buffer.from(`POST / HTTP/1.1\r\nwebhook-id: m\r\n\r\n${body}`), 'f');
    expect(parsed.body?.toString('utf8')).toBe(body);
  });

  it('reads JSON objects, nested under "headers" too', () => {
    expect(parseHeaderFile(Buffer.from('{"Webhook-Id": "m", "webhook-timestamp": 12}'), 'f').headers).toEqual({ 'webhook-id': 'm', 'webhook-timestamp': '12' });
    expect(parseHeaderFile(Buffer.from('{"method":"POST","headers":{"webhook-id":["m"]}}'), 'f').headers).toEqual({ 'webhook-id': 'm' });
    expect(parseHeaderFile(Buffer.from('[["webhook-id","m"],["x","1"],["x","2"]]'), 'f').headers).toEqual({ 'webhook-id': 'm', x: ['1', '2'] });
  });

  it.each([
    ['not a header line', 'webhook-id msg_1\n', /f line 1: "webhook-id msg_1" is not a header line/],
    ['invalid JSON', '{"a": ', /f is not valid JSON/],
    ['a JSON array of numbers', '[1]', /f is not a JSON object of headers/],
    ['nothing', '\n\n', /holds no header lines/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parseHeaderFile(Buffer.from(text), 'f')).toThrow(UsageError);
    expect(() => parseHeaderFile(Buffer.from(text), 'f')).toThrow(message);
  });
});

describe('parseHeaderLine', () => {
  it('splits on the first colon only', () => {
    expect(parseHeaderLine('webhook-signature: v1,abc:def')).toEqual(['webhook-signature', 'v1,abc:def']);
  });
});
