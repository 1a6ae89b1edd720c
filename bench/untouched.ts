/**
 * @module
 * Two routes in isolation, without workerd's 1 ms clock and GC spikes, microseconds per
 * request, in Node (Hono is runtime-agnostic), 50,000 requests per variant and round,
 * interleaved over seven rounds (best and median round):
 *
 * - the untouched route (a session cookie sent, the handler never uses the session):
 *   bare Hono, Hono with one empty middleware, and `session()`;
 * - the anonymous read (no cookie, the handler reads `hits`): the same three, and the
 *   hand-rolled floor of `variants.ts` (`getCookie()`, a KV read only with a cookie).
 *
 * `session()` runs with a store that is never called: neither route may touch it.
 *
 *   npx esbuild bench/untouched.ts --bundle --platform=node --format=esm --outfile=/tmp/untouched.mjs && node /tmp/untouched.mjs
 */
import { Hono, type MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { session, type SessionEnv, type SessionStore } from '../src/session'

const unused: SessionStore = {
  isValidToken: () => true,
  load: () => Promise.reject(new Error('no store call is expected')),
  save: () => Promise.reject(new Error('no store call is expected')),
  destroy: () => Promise.reject(new Error('no store call is expected')),
}

/** An empty KV binding for the floor: no request here sends its cookie. */
const env = { SESSIONS: { get: () => Promise.reject(new Error('no KV call is expected')) } }

type Env = SessionEnv<{ hits: number }> & { Bindings: typeof env }

const noop: MiddlewareHandler<Env> = async (_c, next) => next()

function app(middleware?: MiddlewareHandler<Env>): Hono<Env> {
  const a = new Hono<Env>()
  if (middleware) a.use(middleware)
  a.get('/untouched', (c) => c.text('0'))
  // Only the session app has a session to read; the others answer as bare Hono does.
  if (middleware === undefined || middleware === noop) a.get('/read', (c) => c.text('0'))
  else a.get('/read', async (c) => c.text(String((await c.get('session').get('hits')) ?? 0)))
  return a
}

function floor(): Hono<Env> {
  const a = new Hono<Env>()
  a.get('/read', async (c) => {
    const id = getCookie(c, 'sid')
    const data = id ? ((await c.env.SESSIONS.get()) as { hits?: number } | null) : null
    return c.text(String(data?.hits ?? 0))
  })
  return a
}

const bare = app()

const routes = {
  untouched: {
    init: { headers: { Cookie: 'sessionid=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA; theme=dark' } },
    apps: [['bare Hono', bare], ['an empty middleware', app(noop)], ['session()', app(session<Env>({ store: unused }))]],
  },
  read: {
    init: {},
    apps: [['bare Hono', bare], ['an empty middleware', app(noop)], ['hand-rolled floor', floor()], ['session()', app(session<Env>({ store: unused }))]],
  },
} as const satisfies Record<string, { init: RequestInit; apps: readonly (readonly [string, Hono<Env>])[] }>

const N = 50_000
const ROUNDS = 7

const perRequest = async (a: Hono<Env>, path: string, init: RequestInit): Promise<number> => {
  const start = performance.now()
  for (let i = 0; i < N; i++) {
    const res = await a.request(`http://bench.local${path}`, init, env)
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`)
    await res.arrayBuffer()
  }
  return ((performance.now() - start) / N) * 1000
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!

for (const [route, { init, apps }] of Object.entries(routes)) {
  const times = new Map<string, number[]>(apps.map(([name]) => [name, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, a] of round % 2 ? [...apps].reverse() : apps) times.get(name)!.push(await perRequest(a, `/${route}`, init))
  }
  const bareBest = Math.min(...times.get('bare Hono')!)
  console.log(`\n/${route} (${route === 'read' ? 'no cookie, the handler reads' : 'a session cookie, the handler never uses it'}), µs per request:`)
  for (const [name, ts] of times) {
    const best = Math.min(...ts)
    console.log(`  ${name.padEnd(20)} best ${best.toFixed(2)}  median ${median(ts).toFixed(2)}  ${(bareBest / best).toFixed(3)}× bare Hono (best)`)
  }
}
