import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Tests import @ticketing/common from its sources, so they never run against a stale build; the
// end-to-end tests start the built services as real processes.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@ticketing\/testing$/, replacement: here('./testing/src/index.ts') },
      { find: /^@ticketing\/common\/(tokens|bans|http|events|runtime)$/, replacement: `${here('./common/src')}/$1/index.ts` },
      { find: /^@ticketing\/common$/, replacement: here('./common/src/index.ts') },
    ],
  },
  test: {
    globalSetup: [here('./scripts/test-setup.mjs')],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: ['common', 'testing', 'auth', 'orders', 'client', 'e2e', 'infra'].map((name) => ({
      extends: true as const,
      test: { name, include: [`${name}/test/**/*.test.ts`] },
    })),
  },
});
