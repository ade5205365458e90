import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileStore, fileStorePath } from '../../src/secrets/file-store.js';
import { createKeychainStore, keychainLockPath } from '../../src/secrets/keychain-store.js';
import type { SecretStore } from '../../src/secrets/types.js';
import { compiledDist } from '../helpers/dist.js';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator.js';
import { deleteAllEntries, keychainUnavailableReason, testServiceName } from './keychain-available.js';

/**
 * "A once-only secret is never lost, whatever runs at the same time": real gemwh processes
 * against the emulator, all started at once: 16 `create` (each one secret the API never shows
 * again), two `rotate` of each of four webhooks, and a `listen` that prunes the expired secrets
 * those four (and eight more) hold. Afterwards the store must hold every secret the emulator
 * still signs with, for every webhook.
 */

const CREATES = 16;
const ROTATED = 4;
const ROTATIONS_EACH = 2;
const PRUNED_ONLY = 8;
const EXPIRED = { secret: 'whsec_RVhQSVJFRC1FWFBJUkVELUVYUElSRUQt', createdAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-02T00:00:00.000Z' };

const unavailable = await keychainUnavailableReason();

let dist: string;
const children = new Set<ChildProcess>();
beforeAll(() => {
  dist = compiledDist();
}, 120_000);
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

interface Exit {
  args: string[];
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; exit: Promise<Exit> } {
  const child = spawn(process.execPath, [join(dist, 'cli.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      children.delete(child);
      resolve({ args, code, stdout, stderr });
    });
  });
  return { child, exit };
}

interface Scenario {
  home: string;
  env: NodeJS.ProcessEnv;
  store: SecretStore;
}

async function runEverythingAtOnce(emulator: TestEmulator, { home, env, store }: Scenario): Promise<void> {
  // Webhooks whose local list holds an expired secret for listen to prune; four of them get rotated meanwhile.
  const prunable = Array.from({ length: ROTATED + PRUNED_ONLY }, (_, i) =>
    emulator.store.create({ uri: `https://hooks.example.com/prune-${i}`, subscribed_events: ['batch.succeeded'] }),
  );
  for (const webhook of prunable) {
    const [first] = emulator.store.activeSecrets(webhook.id);
    await store.setWebhookSecrets(webhook.id, [{ secret: first!.secret, createdAt: first!.create_time }, EXPIRED]);
  }
  const rotated = prunable.slice(0, ROTATED);

  const readyFile = join(home, 'listen.ready');
  // Named, not found by listing: the Secret Service may leave out items being changed while it searches.
  const named = prunable.flatMap((webhook) => ['--webhook', webhook.id]);
  const listen = start(['listen', '--port', '0', '--no-journal', '--json', '--ready-file', readyFile, ...named], env);
  const commands = [
    ...Array.from({ length: CREATES }, (_, i) => ['create', '--uri', `https://hooks.example.com/new-${i}`, '--events', 'batch.succeeded']),
    ...rotated.flatMap((webhook) => Array.from({ length: ROTATIONS_EACH }, () => ['rotate', webhook.id])),
  ].map((args) => start(args, env));

  const exits = await Promise.all(commands.map((c) => c.exit));
  for (const exit of exits) expect(exit.code, `gemwh ${exit.args.join(' ')}\n${exit.stderr}`).toBe(0);
  // listen has pruned once it is listening.
  while (!existsSync(readyFile)) {
    if (listen.child.exitCode !== null) break;
    await sleep(20);
  }
  listen.child.kill('SIGTERM');
  const listened = await listen.exit;
  expect(listened.code, listened.stderr).toBe(0);

  // Every webhook: exactly the secrets the emulator signs with, none lost, the expired one pruned.
  const records = emulator.store.records();
  expect(records).toHaveLength(ROTATED + PRUNED_ONLY + CREATES);
  const missing: string[] = [];
  for (const record of records) {
    const local = ((await store.getWebhookSecrets(record.id)) ?? []).map((s) => s.secret).sort();
    const signing = emulator.store.activeSecrets(record.id).map((s) => s.secret).sort();
    if (JSON.stringify(local) !== JSON.stringify(signing)) missing.push(`${record.uri}: stored ${local.length}, the API signs with ${signing.length}`);
  }
  expect(missing).toEqual([]);
  for (const webhook of rotated) expect(emulator.store.activeSecrets(webhook.id)).toHaveLength(1 + ROTATIONS_EACH);
}

function scenarioEnv(home: string, emulator: TestEmulator, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_STATE_HOME: join(home, 'state'),
    XDG_CACHE_HOME: join(home, 'cache'),
    GEMWH_API_ROOT: emulator.url,
    GEMINI_API_KEY: emulator.apiKey,
    ...extra,
  };
}

describe('concurrent gemwh processes lose no secret', () => {
  let emulator: TestEmulator;
  let home: string;
  beforeAll(async () => {
    emulator = await startTestEmulator();
    home = mkdtempSync(join(tmpdir(), 'gemwh-concurrent-'));
  });
  afterAll(async () => {
    await emulator.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('with --secret-store file', async () => {
    const env = scenarioEnv(home, emulator, { GEMWH_SECRET_STORE: 'file' });
    const store = createFileStore(fileStorePath(join(home, 'config', 'gemwh')));
    await runEverythingAtOnce(emulator, { home, env, store });
  }, 120_000);
});

describe.skipIf(unavailable !== undefined)('concurrent gemwh processes lose no secret in the OS keychain (real Secret Service)', () => {
  const service = testServiceName();
  let emulator: TestEmulator;
  let home: string;
  beforeAll(async () => {
    emulator = await startTestEmulator();
    home = mkdtempSync(join(tmpdir(), 'gemwh-concurrent-kc-'));
  });
  afterAll(async () => {
    await emulator.stop();
    await deleteAllEntries(service);
    rmSync(home, { recursive: true, force: true });
  });

  it('with the keychain store', async () => {
    const env = scenarioEnv(home, emulator, {
      GEMWH_SECRET_STORE: 'keychain',
      GEMWH_KEYCHAIN_SERVICE: service,
      // The children reach the same Secret Service as this process.
      DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS,
      GNOME_KEYRING_CONTROL: process.env.GNOME_KEYRING_CONTROL,
      GEMWH_KEYCHAIN_TIMEOUT_MS: '20000',
    });
    const store = createKeychainStore({
      keyring: await import('@napi-rs/keyring'),
      service,
      fileStorePath: fileStorePath(join(home, 'config', 'gemwh')),
      lockPath: keychainLockPath(join(home, 'state', 'gemwh'), service),
    });
    await runEverythingAtOnce(emulator, { home, env, store });
  }, 120_000);
});
