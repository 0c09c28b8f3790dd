import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests share one Samba AD domain controller (its ports are fixed), started once here.
    globalSetup: ['test/integration/harness/global-setup.ts'],
    // The hostile cases (test/hostile/) end the run with a line per group: tried, held.
    reporters: ['default', './test/hostile/summary-reporter.ts'],
    // Two cores and real servers: run files one after another so timings stay sane.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
