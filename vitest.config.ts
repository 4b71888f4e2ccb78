// Two projects: `unit` (pure, fast, no privileges) and `netns` (real agents in Linux network namespaces; root).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/netns/**', 'dist/**', 'node_modules/**'],
          // Builds dist/ once for the tests that spawn the real binaries (skipped under `npm test`).
          globalSetup: ['test/build-dist.ts'],
          // Generous: a few tests spawn agents or run eslint / 100k-packet loops, slow on a busy 2-core machine.
          // A limit, not a speed assertion.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'netns',
          include: ['test/netns/**/*.test.ts'],
          // One lab (lab/) for the run, always torn down; tests get it with useLab() from test/netns/lab.ts.
          globalSetup: ['test/netns/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
