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

  it('refuses a file that is not emulator state, naming it', async () => {
    const stateFile = join(tempDir(), 'state.json');
    writeFileSync(stateFile, '{"hello": "world"}');
    await expect(startTestEmulator({ stateFile })).rejects.toThrow(UsageError);
    await expect(startTestEmulator({ stateFile })).rejects.toThrow(stateFile);
    writeFileSync(stateFile, 'not json');
    await expect(startTestEmulator({ stateFile })).rejects.toThrow(/not JSON/);
  });
});
