import { defineConfig } from 'vitest/config'

// End-to-end tests: plain Node (not workerd) driving Debian's Chromium against one
// `wrangler dev` started by the global setup. `npm run test:e2e`; the main
// vitest.config.ts never includes e2e/.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['e2e/**/*.e2e.test.ts'],
    globalSetup: ['e2e/global-setup.ts'],
    // One worker and one browser for the suite: files run one after another.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 90_000,
  },
})
