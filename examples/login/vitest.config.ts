import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

// The tests run inside workerd with the bindings of wrangler.toml: miniflare's local KV
// and Durable Objects, isolated per test file.
export default defineConfig({
  plugins: [
    cloudflareTest({ main: './src/index.ts', wrangler: { configPath: './wrangler.toml' } }),
  ],
  test: { include: ['test/**/*.test.ts'] },
})
