import { createRequire } from 'node:module';
import { expect, it } from 'vitest';
import { startTestEmulator } from '../helpers/emulator.js';

const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/googleapis-common/'));

it('loads googleapis-common only on the first request, so commands can import the client for free', async () => {
  const { createWebhookApi } = await import('../../src/api/client.js');
  await import('../../src/commands/emulator/index.js');
  const emulator = await startTestEmulator();
  try {
    const api = createWebhookApi({ apiKey: emulator.apiKey, apiRoot: emulator.url });
    expect(loaded()).toBe(false);
    await api.list();
    expect(loaded()).toBe(true);
  } finally {
    await emulator.stop();
  }
});
