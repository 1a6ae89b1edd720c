import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

// This config runs in Node; the project's types are the Workers' (no @types/node).
declare const process: { env: Record<string, string | undefined> }

// `npm run bench` (bench/run.mjs) runs this config several times; never part of `npm test`.
// Same plugin and bindings as the tests: the benchmark runs inside workerd, against
// miniflare's local KV bound as SESSIONS.
export default defineConfig({
  plugins: [
    cloudflareTest({
      main: './src/index.ts',
      wrangler: { configPath: './wrangler.toml' },
    }),
  ],
  test: {
    include: [],
    // Rotates the order of the variants from one run to the next (see sessions.bench.ts).
    provide: { benchRound: Number(process.env.BENCH_ROUND ?? 0) },
    benchmark: { include: ['bench/**/*.bench.ts'] },
  },
})
