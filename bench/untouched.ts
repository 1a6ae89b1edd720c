/**
 * @module
 * The untouched route in isolation, without workerd's 1 ms clock and GC spikes:
 * bare Hono, Hono with one empty middleware, and `session()`, 50,000 requests each,
 * interleaved over five rounds, microseconds per request. Runs in Node (Hono is
 * runtime-agnostic) with a store that is never called:
 *
 *   npx esbuild bench/untouched.ts --bundle --platform=node --format=esm --outfile=/tmp/untouched.mjs && node /tmp/untouched.mjs
 */
import { Hono, type MiddlewareHandler } from 'hono'
import { session, type SessionStore } from '../src/session'

const unused: SessionStore = {
  isValidToken: () => true,
  load: () => Promise.reject(new Error('an untouched route must not load')),
  save: () => Promise.reject(new Error('an untouched route must not save')),
  destroy: () => Promise.reject(new Error('an untouched route must not destroy')),
}

function app(middleware?: MiddlewareHandler): Hono {
  const a = new Hono()
  if (middleware) a.use(middleware)
  a.get('/untouched', (c) => c.text('0'))
  return a
}

const apps: [string, Hono][] = [
  ['bare Hono', app()],
  ['an empty middleware', app(async (_c, next) => next())],
  ['session()', app(session({ store: unused }))],
]
const N = 50_000
const init = { headers: { Cookie: 'sessionid=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA; theme=dark' } }

const perRequest = async (a: Hono): Promise<number> => {
  const start = performance.now()
  for (let i = 0; i < N; i++) await a.request('http://bench.local/untouched', init)
  return ((performance.now() - start) / N) * 1000
}

const best = new Map<string, number>()
for (let round = 0; round < 5; round++) {
  for (const [name, a] of round % 2 ? [...apps].reverse() : apps) {
    const us = await perRequest(a)
    best.set(name, Math.min(best.get(name) ?? Infinity, us))
  }
}
const bare = best.get('bare Hono') as number
for (const [name, us] of best) console.log(`${name.padEnd(22)} ${us.toFixed(2)} µs/request  ${(bare / us).toFixed(3)}× bare Hono`)
