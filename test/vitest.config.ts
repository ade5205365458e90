import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Forks, not threads: the keyring addon and the servers each file starts stay isolated.
    pool: 'forks',
    // Ink renders only the final frame when it believes it runs in CI (is-in-ci reads CI at
    // import time), so the terminal UI's frame tests would see nothing under CI=true.
    env: { CI: 'false', CONTINUOUS_INTEGRATION: 'false' },
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
