import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

/**
 * Lines workerd logs that are not about our code. The pool writes workerd's logs to
 * stdout (stderr for errors) itself and its own ignore list cannot be configured, so
 * they are dropped here. Each is matched as the whole chunk the pool writes, so
 * anything else workerd says still prints.
 */
const WORKERD_NOISE = [
  // The pool's WebSocket to each test file's runner, closed when the file is done.
  // @cloudflare/vitest-pool-workers ignores it itself from the release after 0.15.1
  // (workers-sdk #13833), which needs a wrangler newer than the last that runs on
  // Node 20: drop this entry when the pool is upgraded.
  /^exception = workerd\/api\/web-socket\.c\+\+:\d+: disconnected: WebSocket peer disconnected\n$/,
  // A test sending a non-ASCII Cookie header on purpose (hostile, ids, session tests):
  // a request the test builds, never a header our code writes. One on a response
  // header (Set-Cookie) would still print. The name is lower-cased when the request's
  // headers went through a Headers object (the test client's do). The `s` flag: a value
  // may hold U+2028 or U+2029, which `.` does not match without it.
  /^A header value for "[Cc]ookie" contains non-ASCII characters: .*\n$/s,
]

for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream)
  stream.write = ((chunk: string | Uint8Array, ...rest: never[]): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString()
    return WORKERD_NOISE.some((line) => line.test(text)) || write(chunk, ...rest)
  }) as typeof stream.write
}

/** A line of the demo's event log: a `SessionEvent` as JSON, its `type` first. */
const DEMO_EVENT_LINE =
  /^\{"type":"(login|logout|revoked|reauthenticated|login-failed|login-throttled|device-bound|session-reused)",/

// Tests run inside workerd (the same build `wrangler dev` uses) against
// miniflare's real local KV; each test file gets isolated storage.
export default defineConfig({
  plugins: [
    cloudflareTest({
      // The demo worker (src/index.ts) and the library tests' own Durable Object class.
      main: './test/worker.ts',
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        // The library's SessionObject with socket hooks that report what they received
        // (test/helpers/socket-object.ts): the library's socket tests do not rest on the
        // demo's subclass, which SESSION_OBJECTS is bound to.
        durableObjects: {
          TEST_SESSION_OBJECTS: { className: 'ProbeSessionObject', useSQLite: true },
        },
      },
    }),
  ],
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // The demo writes every security event to the log, one JSON line each (its onEvent,
    // src/routes/events.ts): test/demo-events.test.ts asserts them; elsewhere they are noise.
    onConsoleLog: (log, type) => !(type === 'stdout' && DEMO_EVENT_LINE.test(log)),
    // Type tests (test/*.test-d.ts) run through tsc as part of `npm test`: a type
    // regression fails the run, not only `npm run typecheck`.
    typecheck: {
      enabled: true,
      include: ['test/**/*.test-d.ts'],
      tsconfig: './test/tsconfig.types.json',
    },
  },
})
