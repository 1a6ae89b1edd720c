import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

// The user's tests, in workerd, with the KV namespace and vars of wrangler.toml.
export default defineConfig({
  plugins: [
    cloudflareTest({ main: './src/worker.ts', wrangler: { configPath: './wrangler.toml' } }),
  ],
  test: { include: ['test/**/*.worker.test.ts'] },
})
