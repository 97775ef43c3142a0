import { defineConfig } from 'vitest/config';

// Three projects: fast Node tests, Node integration against the emulator on a loopback port,
// and browser tests that drive Debian's Chromium through playwright-core. The browser
// project runs its files one at a time: each launches its own Chromium and emulator.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: [
            'test/core/**/*.test.ts',
            'test/server/**/*.test.ts',
            'test/cli/**/*.test.ts',
            'test/contract/**/*.test.ts',
            'test/scripts/**/*.test.ts',
          ],
          environment: 'node',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
