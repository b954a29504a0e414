import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Model tests train real LSTMs on 2 cores: give them room, and run files one at a time so
    // two trainings never fight over the same cores.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    reporters: ['default', './test/summary-reporter.ts'],
    setupFiles: ['test/setup.ts'],
    globalSetup: ['test/global-tmp.ts', 'test/global-kafka.ts'],
  },
});
