import { afterEach } from 'vitest';
import type { StartEmulatorOptions } from '../../src/emulator/server.js';
import { startTestEmulator, type TestEmulator } from './emulator.js';
import { startRecordingServer, type Answer, type RecordedRequest, type RecordingServer } from './recording-server.js';

export interface PerTest {
  /** Runs `cleanup` after the current test; the last one deferred runs first. */
  defer(cleanup: () => unknown): void;
  /** startTestEmulator(), stopped after the test. */
  emulator(options?: StartEmulatorOptions): Promise<TestEmulator>;
  /** startRecordingServer(), closed after the test. */
  sink(answer?: (request: RecordedRequest) => Answer, port?: number): Promise<RecordingServer>;
}

/**
 * What a test starts and must stop (emulators, receivers, in-process commands, temp folders),
 * stopped after each test. Call once at the top level of a test file:
 *
 *   const { emulator, sink, defer } = perTest();
 */
export function perTest(): PerTest {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!();
  });
  const defer = (cleanup: () => unknown) => {
    cleanups.push(cleanup);
  };
  return {
    defer,
    emulator: async (options = {}) => {
      const e = await startTestEmulator(options);
      defer(() => e.stop());
      return e;
    },
    sink: async (answer, port) => {
      const s = await startRecordingServer(answer, port);
      defer(() => s.close());
      return s;
    },
  };
}
