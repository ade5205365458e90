import { AsyncEntry } from '@napi-rs/keyring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../../src/program.js';
import { makeTestDeps, type RunResult, type TestDepsOptions } from '../helpers/deps.js';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator.js';
import { deleteAllEntries, keychainRequired, keychainUnavailableReason, testServiceName } from './keychain-available.js';

const unavailable = await keychainUnavailableReason();

describe('keychain availability for the CLI', () => {
  it.runIf(keychainRequired)('is required here (GEMWH_REQUIRE_KEYCHAIN=1) and must be reachable', () => {
    expect(unavailable, 'GEMWH_REQUIRE_KEYCHAIN=1 but no usable Secret Service').toBeUndefined();
  });
});

describe.skipIf(unavailable !== undefined)('management commands with the OS keychain (real Secret Service)', () => {
  const service = testServiceName();
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(async () => {
    await emulator.stop();
    await deleteAllEntries(service);
  });

  async function run(args: string[], options: TestDepsOptions = {}): Promise<RunResult> {
    const t = makeTestDeps({ ...options, env: { ...emulator.env, GEMWH_KEYCHAIN_SERVICE: service, GEMWH_API_RETRIES: '0', ...options.env } });
    try {
      const code = await runMain(args, t.deps);
      return { code, stdout: t.stdout(), stderr: t.stderr() };
    } finally {
      t.cleanup();
    }
  }
  const entry = (account: string) => new AsyncEntry(service, account, { linux: { store: 'secret-service' } });

  it('create, rotate, secret list, delete: the secrets live in one keychain entry per webhook', async () => {
    const created = await run(['create', '--uri', 'https://hooks.example.com/kc', '--events', 'batch.succeeded']);
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    expect(created.stderr).toContain(`Signing secret stored in OS keychain (service "${service}")`);
    expect(created.stderr).not.toMatch(/plain text/);
    const first = JSON.parse((await entry(`webhook:${id}`).getPassword())!);
    expect(first.secrets.map((s: { secret: string }) => s.secret)).toEqual(emulator.store.activeSecrets(id).map((s) => s.secret));

    expect((await run(['rotate', id])).code).toBe(0);
    const rotated = JSON.parse((await entry(`webhook:${id}`).getPassword())!);
    expect(rotated.secrets.map((s: { secret: string }) => s.secret)).toEqual(emulator.store.activeSecrets(id).map((s) => s.secret));
    expect(rotated.secrets[1].expiresAt).toEqual(expect.any(String));

    const list = JSON.parse((await run(['secret', 'list', '--json'])).stdout);
    expect(list).toMatchObject({ store: 'keychain', webhooks: [{ id, count: 2 }] });

    const listed = JSON.parse((await run(['list', '--json'])).stdout);
    expect(listed.webhooks[0].localSecrets).toBe(2);

    expect((await run(['delete', id, '--yes'])).code).toBe(0);
    expect(await entry(`webhook:${id}`).getPassword()).toBeNull();
  });

  it('auth login stores the key under account api-key; status and logout use it', async () => {
    const noEnvKey = { GEMINI_API_KEY: undefined };
    expect((await run(['auth', 'login'], { env: noEnvKey, stdin: emulator.apiKey })).code).toBe(0);
    expect(await entry('api-key').getPassword()).toBe(emulator.apiKey);
    const status = JSON.parse((await run(['auth', 'status', '--json'], { env: noEnvKey })).stdout);
    expect(status).toMatchObject({ source: 'keychain', from: `OS keychain (service "${service}")` });
    expect((await run(['list'], { env: noEnvKey })).code).toBe(0);
    expect((await run(['auth', 'logout'], { env: noEnvKey })).code).toBe(0);
    expect(await entry('api-key').getPassword()).toBeNull();
  });
});
