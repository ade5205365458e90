import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRelayClock, RELAY_TIME_HEADER } from '../../src/relay/client.js';
import { FileRelayStore } from '../../src/relay/file-store.js';
import { compileFilter, parseRelayFilter } from '../../src/relay/filter.js';
import { SseParser } from '../../src/relay/sse.js';
import { perTest } from '../helpers/per-test.js';
import { tempDir } from './helpers.js';

const { defer } = perTest();

describe('relay filter', () => {
  const body = (type: string, metadata?: unknown) => Buffer.from(JSON.stringify({ type, data: { user_metadata: metadata } }));

  it('matches event type globs and user_metadata values, all terms together', () => {
    const match = compileFilter(parseRelayFilter(['type=batch.*', 'owner=alice']));
    expect(match(body('batch.succeeded', { owner: 'alice' }))).toBe(true);
    expect(match(body('batch.succeeded', { owner: 'bob' }))).toBe(false);
    expect(match(body('video.generated', { owner: 'alice' }))).toBe(false);
    expect(match(body('batch.failed'))).toBe(false);
    expect(match(Buffer.from('not json'))).toBe(false);
    expect(compileFilter(parseRelayFilter([]))(Buffer.from('not json'))).toBe(true);
  });

  it('refuses a term without KEY=', () => {
    expect(() => parseRelayFilter(['alice'])).toThrow(/type=PATTERN or KEY=VALUE/);
  });
});

describe('SSE parser', () => {
  it('joins events cut anywhere between chunks and skips comments', () => {
    const text = ': keep-alive\n\nid: 7\nevent: delivery\ndata: {"a":1}\n\nevent: position\r\nid: 9\r\ndata: {}\r\n\r\n';
    const parser = new SseParser();
    const events = [...Buffer.from(text)].flatMap((byte) => parser.push(Uint8Array.of(byte)));
    expect(events).toEqual([
      { event: 'delivery', id: '7', data: '{"a":1}' },
      { event: 'position', id: '9', data: '{}' },
    ]);
  });
});

describe('relay clock', () => {
  it('vouches only for the receipt time it stamped itself, for that body', () => {
    const clock = createRelayClock();
    const body = Buffer.from('{"type":"batch.succeeded"}');
    const stamp = clock.stamp(1_000, body);
    expect(clock.receivedAt({ [RELAY_TIME_HEADER]: stamp }, body)).toBe(1_000);
    expect(clock.receivedAt({ [RELAY_TIME_HEADER]: stamp }, Buffer.from('{"type":"other"}'))).toBeUndefined();
    expect(clock.receivedAt({ [RELAY_TIME_HEADER]: stamp.replace(/^1000/, '2000') }, body)).toBeUndefined();
    expect(createRelayClock().receivedAt({ [RELAY_TIME_HEADER]: stamp }, body)).toBeUndefined();
    expect(clock.receivedAt({ [RELAY_TIME_HEADER]: 'garbage' }, body)).toBeUndefined();
  });
});

describe('embedded store', () => {
  const delivery = (n: number) => ({ receivedAt: n, path: '/in/x', headers: [['webhook-id', `msg_${n}`]] as Array<[string, string]>, body: Buffer.from(`body ${n}`) });

  it('cuts a torn last line (a kill mid-write) at start and goes on numbering after the last whole record', async () => {
    const dir = tempDir(defer);
    const first = new FileRelayStore(dir, 3_600_000);
    for (let n = 1; n <= 3; n++) await first.append('ch', delivery(n));
    await first.close();
    const segmentDir = join(dir, 'channels', 'ch');
    const segment = join(segmentDir, readdirSync(segmentDir)[0]!);
    appendFileSync(segment, '{"id":4,"at":4,"path":"/in/x","hea');

    const second = new FileRelayStore(dir, 3_600_000);
    expect((await second.read('ch', undefined, 10)).map((d) => d.id)).toEqual(['1', '2', '3']);
    expect(await second.append('ch', delivery(5))).toBe('4');
    await second.close();
    expect(readFileSync(segment, 'utf8').split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { id: number }).id)).toEqual([1, 2, 3, 4]);

    const third = new FileRelayStore(dir, 3_600_000);
    const read = await third.read('ch', '2', 10);
    expect(read.map((d) => [d.id, d.body.toString()])).toEqual([
      ['3', 'body 3'],
      ['4', 'body 5'],
    ]);
    expect(await third.countAfter('ch', '1', 100)).toBe(3);
    await third.close();
  });

  it('rotates segments as time passes and deletes those wholly older than the retention', async () => {
    const dir = tempDir(defer);
    let now = 0;
    const minute = 60_000;
    const store = new FileRelayStore(dir, 10 * minute, () => now);
    for (const at of [0, 2 * minute, 4 * minute]) {
      now = at;
      await store.append('ch', delivery(at));
    }
    const segments = () => readdirSync(join(dir, 'channels', 'ch')).length;
    expect(segments()).toBe(3);
    await store.prune(12 * minute + 1); // cutoff just past 2 min: only the first segment is wholly older
    expect(segments()).toBe(2);
    await store.prune(13 * minute);
    expect(segments()).toBe(2);
    await store.close();
    const reopened = new FileRelayStore(dir, 10 * minute, () => now);
    expect((await reopened.read('ch', undefined, 10)).map((d) => d.id)).toEqual(['2', '3']);
    expect(await reopened.countAfter('ch', undefined, 10)).toBe(2);
    await reopened.close();
  });

  it('keeps channels and token hashes in relay.json, and a deleted channel takes its deliveries along', async () => {
    const dir = tempDir(defer);
    const store = new FileRelayStore(dir, 3_600_000);
    await store.createChannel({ id: 'ch', name: 'team', createdAt: 1 });
    await store.append('ch', delivery(1));
    await store.createToken({ id: 'tok_1', name: 'alice', createdAt: 1, hash: 'ab'.repeat(32) });
    expect(await store.findTokenByHash('ab'.repeat(32))).toMatchObject({ id: 'tok_1' });
    expect(await store.getChannel('toString')).toBeUndefined();
    expect(await store.deleteChannel('ch')).toBe(true);
    expect(readdirSync(join(dir, 'channels'))).toEqual([]);
    expect(await store.revokeToken('tok_1')).toBe(true);
    expect(await store.findTokenByHash('ab'.repeat(32))).toBeUndefined();
    await store.close();
  });
});

describe('relay commands: bad input', () => {
  it('says what is wrong and what to do, with the usage or not-found exit code', async () => {
    const { runGemwh } = await import('../helpers/deps.js');
    const store = join(tempDir(defer), 'store');
    const cases: Array<[string[], Record<string, string>, number, RegExp]> = [
      [['relay', 'serve', '--port', '0'], {}, 2, /--store is required/],
      [['relay', 'serve', '--store', 'ftp://x', '--port', '0'], {}, 2, /expected a directory or a redis:\/\/ URL/],
      [['relay', 'serve', '--store', store, '--retention', 'soon'], {}, 2, /--retention/],
      [['relay', 'channel', 'delete', 'nope', '--store', store], {}, 5, /no channel nope/],
      [['relay', 'token', 'revoke', 'tok_nope', '--store', store], {}, 5, /no token tok_nope/],
      [['relay', 'channel', 'create', '--store', store, '--public-url', 'relay.example'], {}, 2, /public base URL/],
      [['listen', '--relay', 'https://relay.example/in/AAAAAAAAAAAAAAAAAAAAAA'], {}, 2, /client URL/],
      [['listen', '--relay', 'https://relay.example/c/AAAAAAAAAAAAAAAAAAAAAA', '--no-journal', '--port', '0'], {}, 2, /GEMWH_RELAY_TOKEN: the environment variable is not set/],
      [['listen', '--relay-filter', 'owner=alice'], {}, 2, /--relay-filter needs --relay/],
      [['listen', '--relay', 'https://relay.example/c/AAAAAAAAAAAAAAAAAAAAAA', '--relay-filter', 'alice'], { GEMWH_RELAY_TOKEN: 't' }, 2, /KEY=VALUE/],
    ];
    for (const [args, env, code, message] of cases) {
      const result = await runGemwh(args, { env });
      expect({ args, code: result.code }).toEqual({ args, code });
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
    }
  });

  it('channel create prints the ingest URL on stdout, and the JSON form has both URLs', async () => {
    const { runGemwh } = await import('../helpers/deps.js');
    const store = join(tempDir(defer), 'store');
    const plain = await runGemwh(['relay', 'channel', 'create', '--store', store, '--public-url', 'https://relay.example.com/']);
    expect(plain.stdout).toMatch(/^https:\/\/relay\.example\.com\/in\/[A-Za-z0-9_-]{22}\n$/);
    const json = JSON.parse((await runGemwh(['relay', 'channel', 'create', '--store', store, '--name', 'ml', '--json'], { env: { GEMWH_RELAY_PUBLIC_URL: 'https://r.example' } })).stdout) as Record<string, string>;
    expect(json.ingestUrl).toBe(`https://r.example/in/${json.id}`);
    expect(json.relayUrl).toBe(`https://r.example/c/${json.id}`);
    const list = await runGemwh(['relay', 'channel', 'list', '--store', store, '--json']);
    const channels = JSON.parse(list.stdout) as Array<Record<string, string>>;
    expect(channels.length).toBe(2);
    // gemwh's own JSON is camelCase, as everywhere.
    expect(Object.keys(channels[0]!).sort()).toEqual(['createdAt', 'id', 'ingestUrl', 'name']);
    await runGemwh(['relay', 'token', 'create', '--store', store, '--name', 'alice', '--json']);
    const tokens = JSON.parse((await runGemwh(['relay', 'token', 'list', '--store', store, '--json'])).stdout) as Array<Record<string, string>>;
    expect(Object.keys(tokens[0]!).sort()).toEqual(['createdAt', 'id', 'name']);
  });
});
