import { startEmulator, type RunningEmulator, type StartEmulatorOptions } from '../../src/emulator/server.js';

export const TEST_API_KEY = 'test-api-key-0123456789';

export interface TestEmulator extends RunningEmulator {
  /** The key the emulator requires (exactly this one). */
  apiKey: string;
  /** Env for runGemwh/makeTestDeps: points gemwh at this emulator with its key. */
  env: { GEMWH_API_ROOT: string; GEMINI_API_KEY: string };
}

/**
 * A WebhookService emulator on 127.0.0.1 and a free port, for tests of anything that talks to the
 * API. Always `await emulator.stop()` (afterAll/afterEach, or in a finally).
 *
 *   const emulator = await startTestEmulator();
 *   const result = await runGemwh(['list', '--json'], { env: emulator.env });
 *   await emulator.stop();
 */
export async function startTestEmulator(options: StartEmulatorOptions = {}): Promise<TestEmulator> {
  const apiKey = options.apiKey ?? TEST_API_KEY;
  const emulator = await startEmulator({ ...options, host: options.host ?? '127.0.0.1', port: options.port ?? 0, apiKey });
  return Object.assign(emulator, { apiKey, env: { GEMWH_API_ROOT: emulator.url, GEMINI_API_KEY: apiKey } });
}
