// Shared Vitest settings for every package: run once (no watch), resolve the
// workspace packages to their TypeScript sources through the "@mmsim/source"
// export condition, so tests never depend on a stale build.
import { defaultServerConditions } from 'vite';

/** @returns {import('vitest/config').UserConfig} */
export function sharedTestConfig(overrides = {}) {
  const conditions = ['@mmsim/source', ...defaultServerConditions];
  return {
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    test: {
      watch: false,
      include: ['test/**/*.test.ts'],
      testTimeout: 120_000,
      passWithNoTests: false,
      ...overrides,
    },
  };
}
