import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookApi } from '../../src/api/client.js';
import { UsageError } from '../../src/errors.js';
import { startTestEmulator, TEST_API_KEY } from '../helpers/emulator.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gemwh-emu-state-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const input = { uri: 'https://hooks.example.com/h', subscribed_events: ['batch.succeeded'] };

describe('emulator --state', () => {
  it('keeps webhooks, secrets and page tokens across a restart, in a 0600 file written atomically', async () => {
    const stateFile = join(tempDir(), 'nested', 'state.json');
    const first = await startTestEmulator({ stateFile });
    const api1 = createWebhookApi({ apiKey: TEST_API_KEY, apiRoot: first.url });
    const a = await api1.create({ ...input, name: 'a' });
    const b = await api1.create({ ...input, name: 'b' });
    await api1.rotateSigningSecret(a.id);
    const page = await api1.list({ page_size: 1 });
    await first.stop();

    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(stateFile, '..'))).toEqual(['state.json']);
    expect(readFileSync(stateFile, 'utf8')).toContain(a.new_signing_secret!);

    const second = await startTestEmulator({ stateFile });
    try {
      const api2 = createWebhookApi({ apiKey: TEST_API_KEY, apiRoot: second.url });
      expect((await api2.get(a.id)).signing_secrets).toHaveLength(2);
      expect(second.store.activeSecrets(a.id).map((s) => s.secret)).toContain(a.new_signing_secret);
      const rest = await api2.list({ page_size: 1, page_token: page.next_page_token });
      expect(rest.webhooks?.map((w) => w.id)).toEqual([b.id]);
      await api2.delete(b.id);
    } finally {
      await second.stop();
    }
    const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as { webhooks: Array<{ id: string }> };
    expect(saved.webhooks.map((w) => w.id)).toEqual([a.id]);
  });

  it('keeps the JWT signing keys, rotated-out ones with their retire time, so the JWKS survives a restart', async () => {
    const stateFile = join(tempDir(), 'state.json');
    const first = await startTestEmulator({ stateFile });
    const jwksOf = async (url: string) => ((await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string; d?: string }> }).keys;
    // No key is made (or saved) until something needs one.
    expect(JSON.parse(readFileSync(stateFile, 'utf8'))).not.toHaveProperty('jwt_keys');
    const before = await jwksOf(first.url);
    const rotation = await first.keys.rotate();
    const published = (await jwksOf(first.url)).map((k) => k.kid);
    expect(published).toEqual([rotation.kid, before[0]!.kid]);
    await first.stop();

    const second = await startTestEmulator({ stateFile });
    try {
      const after = await jwksOf(second.url);
      expect(after.map((k) => k.kid)).toEqual(published);
      // Public keys only on the wire; the private parts stay in the 0600 file.
      expect(after.every((k) => k.d === undefined)).toBe(true);
      expect((await second.keys.current()).kid).toBe(rotation.kid);
      expect((await second.keys.published())[1]!.retiresAt).toBe(rotation.keys[1]!.retiresAt);
    } finally {
      await second.stop();
    }
  });

  it('refuses a file that is not emulator state, naming it', async () => {
    const stateFile = join(tempDir(), 'state.json');
    writeFileSync(stateFile, '{"hello": "world"}');
    await expect(startTestEmulator({ stateFile })).rejects.toThrow(UsageError);
    await expect(startTestEmulator({ stateFile })).rejects.toThrow(stateFile);
    writeFileSync(stateFile, 'not json');
    await expect(startTestEmulator({ stateFile })).rejects.toThrow(/not JSON/);
    // Keys without their private part cannot sign: refused, not half-loaded.
    writeFileSync(stateFile, JSON.stringify({ version: 1, page_token_key: 'AA==', next_seq: 1, webhooks: [], jwt_keys: { signing: { kid: 'k', privateJwk: { kty: 'RSA' }, publicJwk: { kty: 'RSA' } }, retiring: [] } }));
    await expect(startTestEmulator({ stateFile })).rejects.toThrow(/unexpected content/);
  });
});
