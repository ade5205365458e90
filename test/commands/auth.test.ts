import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { startManageSession, type ManageSession, helpExamples } from './manage-session.js';

describe('gemwh auth', () => {
  let session: ManageSession;
  beforeAll(async () => {
    session = await startManageSession();
  });
  afterAll(() => session.stop());

  const noEnvKey = { GEMINI_API_KEY: undefined };

  it('status exits 4 with the ways to set a key when there is none', async () => {
    const result = await session.run(['auth', 'status'], { env: noEnvKey });
    expect(result.code).toBe(ExitCode.AUTH);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/no Gemini API key is set/);
    expect(result.stderr).toContain('GEMINI_API_KEY');
    // The hint names the store `auth login` would write to (here the file), and reading it says nothing about plain text.
    expect(result.stderr).toContain(`gemwh auth login               (stores it in ${session.paths.config}/secrets.json, --secret-store file)`);
    expect(result.stderr).not.toMatch(/OS keychain|plain text/);
  });

  it('names the OS keychain in the hint when that is the store in use', async () => {
    const result = await session.run(['--secret-store', 'keychain', 'auth', 'status'], {
      // A service nothing else writes to: with a working keychain it holds no key either.
      env: { ...noEnvKey, GEMWH_KEYCHAIN_TIMEOUT_MS: '2000', GEMWH_KEYCHAIN_SERVICE: `gemwh-test-nokey-${process.pid}` },
    });
    expect(result.code).toBe(ExitCode.AUTH);
    expect(result.stderr).toContain('gemwh auth login               (stores it in the OS keychain)');
  });

  it('login stores a key from stdin; status and API calls then use it', async () => {
    const login = await session.run(['auth', 'login'], { env: noEnvKey, stdin: `${session.emulator.apiKey}\n` });
    expect(login.code).toBe(0);
    expect(login.stderr).toMatch(/Stored the API key test…6789 in file /);
    expect(login.stdout + login.stderr).not.toContain(session.emulator.apiKey);
    expect(login.stderr).toMatch(/warning: secrets are stored in plain text in .*secrets\.json/);

    const status = await session.run(['auth', 'status', '--json'], { env: noEnvKey });
    expect(status.stderr).not.toMatch(/plain text/);
    expect(JSON.parse(status.stdout)).toMatchObject({ authenticated: true, source: 'file', key: 'test…6789' });
    expect(status.stdout).not.toContain(session.emulator.apiKey);

    const list = await session.run(['list', '--json'], { env: noEnvKey });
    expect(list.code).toBe(0);
  });

  it('status shows every source, the flag first, then the environment, then the store', async () => {
    const result = await session.run(['--api-key', 'flag-key-AAAA-1111', 'auth', 'status', '--json'], { env: { GOOGLE_API_KEY: 'google-key-BBBB-2222' } });
    const json = JSON.parse(result.stdout);
    expect(json.source).toBe('--api-key');
    expect(json.sources.map((s: { source: string; active: boolean }) => [s.source, s.active])).toEqual([
      ['--api-key', true],
      ['GEMINI_API_KEY', false],
      ['GOOGLE_API_KEY', false],
      ['file', false],
    ]);
    expect(result.stdout).not.toMatch(/flag-key-AAAA-1111|google-key-BBBB-2222/);

    const plain = await session.run(['auth', 'status'], { env: noEnvKey });
    expect(plain.stdout).toMatch(/^\* test…6789\tfile .*secrets\.json\n$/);
    expect(plain.stderr).toMatch(/Using the API key from file /);
  });

  it('login on a terminal reads the key at a hidden prompt, without echoing it', async () => {
    const stdin = new PassThrough() as PassThrough & { isTTY: boolean; setRawMode(mode: boolean): void };
    const modes: boolean[] = [];
    stdin.setRawMode = (mode) => void modes.push(mode);
    const running = session.run(['auth', 'login'], { env: noEnvKey, stdin, stdinIsTTY: true });
    setTimeout(() => stdin.write(`${session.emulator.apiKey}\r`), 20);
    const result = await running;
    expect(result.code).toBe(0);
    expect(modes).toEqual([true, false]);
    expect(result.stderr).toMatch(/^Gemini API key \(input hidden\): \n/m);
    expect(result.stderr).not.toContain(session.emulator.apiKey);
    expect(JSON.parse((await session.run(['auth', 'status', '--json'], { env: noEnvKey })).stdout).key).toBe('test…6789');
  });

  it('login notes when the environment overrides the stored key', async () => {
    const result = await session.run(['auth', 'login'], { stdin: session.emulator.apiKey });
    expect(result.stderr).toMatch(/\$GEMINI_API_KEY is set and takes precedence/);
  });

  it('login refuses an empty key or one with spaces', async () => {
    expect((await session.run(['auth', 'login'], { stdin: '\n' })).code).toBe(ExitCode.USAGE);
    expect((await session.run(['auth', 'login'], { stdin: 'two words' })).code).toBe(ExitCode.USAGE);
  });

  it('logout removes the stored key, then has nothing to remove', async () => {
    const out = await session.run(['auth', 'logout', '--json'], { env: noEnvKey });
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ removed: true, store: 'file' });
    const again = await session.run(['auth', 'logout'], { env: noEnvKey });
    expect(again.stderr).toMatch(/No API key was stored/);
    expect((await session.run(['auth', 'status'], { env: noEnvKey })).code).toBe(ExitCode.AUTH);
    expect((await session.run(['list'], { env: noEnvKey })).code).toBe(ExitCode.AUTH);
  });

  it('status --json names an unreadable store in camelCase storeError, and still reports the other sources', async () => {
    const damaged = await startManageSession();
    try {
      mkdirSync(damaged.paths.config, { recursive: true });
      writeFileSync(join(damaged.paths.config, 'secrets.json'), 'not json', { mode: 0o600 });
      const result = await damaged.run(['--api-key', 'flag-key-AAAA-1111', 'auth', 'status', '--json'], { env: noEnvKey });
      expect(result.code).toBe(0);
      const json = JSON.parse(result.stdout);
      expect(json).toMatchObject({ authenticated: true, source: '--api-key', storeError: expect.stringContaining('secrets.json') });
      expect(json).not.toHaveProperty('store_error');
    } finally {
      await damaged.stop();
    }
  });

  it.each(['auth', 'auth login', 'auth status', 'auth logout'])('gemwh %s --help ends with real examples', async (command) => {
    const examples = await helpExamples(command.split(' '));
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const example of examples) expect(example).toContain(command.split(' ').at(-1));
  });
});
