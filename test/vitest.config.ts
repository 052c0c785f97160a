// Unit tests (beside the code, src/**/*.test.ts) run once; integration suites (test/integration)
// run once per store dialect, against a real SQLite file and a real PostgreSQL server.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  test: {
    root,
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts'] } },
      // Checks of shipped artifacts (Dockerfile, manifests, collections) that need no store.
      { extends: true, test: { name: 'static', include: ['test/static/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'sqlite', include: ['test/integration/**/*.test.ts'], env: { GATEHOUSE_TEST_DB: 'sqlite' } },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['test/integration/**/*.test.ts'],
          // Suites that never open a store run once, under the sqlite project.
          exclude: ['test/integration/config.test.ts'],
          env: { GATEHOUSE_TEST_DB: 'postgres' },
        },
      },
    ],
  },
});
