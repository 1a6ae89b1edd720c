import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

// Tests run inside workerd (the same build `wrangler dev` uses) against
// miniflare's real local KV; each test file gets isolated storage.
export default defineConfig({
  plugins: [
    cloudflareTest({
      main: './src/index.ts',
      wrangler: { configPath: './wrangler.toml' },
    }),
  ],
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Type tests (test/*.test-d.ts) run through tsc as part of `npm test`: a type
    // regression fails the run, not only `npm run typecheck`.
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './test/tsconfig.types.json' },
  },
})
