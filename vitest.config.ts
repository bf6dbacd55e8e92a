import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // CI also wants the counts as JSON to print its plain summary line.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: '.cache/vitest-results.json' },
    // The fault suite first, then the integration tests, then the unit tests: the first two mostly wait on
    // Kafka (session timeouts, rebalances), and CI builds the Go tools that the collector test and the chart
    // test run in the background meanwhile (.ci/run), so those tests come late. No group is 0: vitest runs a
    // one-worker project of group 0 after every numbered group.
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 3 },
          include: ['test/**/*.test.ts'],
          exclude: ['test/integration/**', 'test/faults/**'],
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 2 },
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          // One broker on two cores: integration files run one after another.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'faults',
          sequence: { groupOrder: 1 },
          include: ['test/faults/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
