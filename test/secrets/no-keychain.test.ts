import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator.js';
import { testServiceName } from './keychain-available.js';

// The keyring addon reads the process's own environment for D-Bus, so these run the built CLI
// in a child process with the bus taken away.
const cli = fileURLToPath(new URL('../../bin/gemwh.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../../dist/cli.js', import.meta.url)));

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('without a usable keychain', () => {
  let home: string;
  let emulator: TestEmulator;
  let env: Record<string, string>;
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'gemwh-nokeychain-'));
    emulator = await startTestEmulator();
    // Built from scratch, not from process.env: no DBUS_SESSION_BUS_ADDRESS, no stray keys or stores.
    env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      XDG_CONFIG_HOME: join(home, 'config'),
      XDG_STATE_HOME: join(home, 'state'),
      XDG_CACHE_HOME: join(home, 'cache'),
      GEMWH_KEYCHAIN_SERVICE: testServiceName(),
      GEMWH_API_ROOT: emulator.url,
      GEMINI_API_KEY: emulator.apiKey,
      GEMWH_API_RETRIES: '0',
    };
  });
  afterAll(async () => {
    await emulator.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('needs the built CLI (npm run build)', () => {
    expect(built, 'dist/cli.js is missing: run `npm run build` before these tests').toBe(true);
  });

  it.runIf(built)('create without DBUS_SESSION_BUS_ADDRESS exits 8 naming the cause and the ways out, before calling the API', async () => {
    const result = await runCli(['create', '--uri', 'https://hooks.example.com/k', '--events', 'batch.succeeded'], env);
    expect(result.code, result.stderr).toBe(ExitCode.SECRET_STORE);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/cannot use the OS keychain: no D-Bus session bus .*DBUS_SESSION_BUS_ADDRESS is not set/);
    expect(result.stderr).toContain('--secret-store file');
    expect(result.stderr).toContain('GEMWH_SECRET_STORE=file');
    expect(result.stderr).toContain(join(home, 'config', 'gemwh', 'secrets.json'));
    expect(result.stderr).toContain('--print-secret');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(emulator.store.records()).toHaveLength(0);
  });

  it.runIf(built)('a dead bus address is reported as unreachable, exit 8', async () => {
    const result = await runCli(['secret', 'list'], { ...env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(home, 'no-such-bus')}` });
    expect(result.code, result.stderr).toBe(ExitCode.SECRET_STORE);
    expect(result.stderr).toMatch(/the D-Bus session bus cannot be reached/);
    expect(result.stderr).toContain('--secret-store file');
  });

  it.runIf(built)('create --print-secret still works, printing the secret and warning', async () => {
    const result = await runCli(['create', '--uri', 'https://hooks.example.com/k', '--events', 'batch.succeeded', '--print-secret'], env);
    expect(result.code).toBe(0);
    const [record] = emulator.store.records();
    expect(result.stdout).toBe(`${record!.secrets[0]!.secret}\n`);
    expect(result.stderr).toMatch(/secret store is not usable .*will be printed only/);
  });

  it.runIf(built)('--secret-store file is the way out', async () => {
    const set = await runCli(['--secret-store', 'file', 'secret', 'list', '--json'], env);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ store: 'file', webhooks: [] });
    // Reading the file store is quiet; the plain-text warning comes when a secret is written to it.
    expect(set.stderr).not.toMatch(/plain text/);
  });
});
