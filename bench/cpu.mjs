#!/usr/bin/env node
/**
 * CPU per request in Node, without workerd: the built package (`dist/`, as users get it)
 * and bare Hono, through `app.request`, microseconds per request. Node runs the same V8
 * as workerd, but has a precise clock: inside workerd the clock is coarse and GC pauses
 * land in whole samples, so differences of a few µs a request (the anonymous read against
 * the hand-rolled floor) swing by ±50% from one sample to the next there.
 *
 * Routes, every variant measured in each round, the order reversed every other round;
 * each figure is the median over rounds of the ratio *within a round*:
 * - `untouched`: a session cookie sent, the handler never uses the session: bare Hono,
 *   Hono with one empty middleware, and `session()`;
 * - `anonymous read`: no cookie, the handler reads `hits`: the same three, the
 *   hand-rolled floor of `variants.ts` (`getCookie()`, a KV read only with a cookie), and
 *   that floor sending the `Vary: Cookie` edge-session must keep (what the header costs).
 *
 * `session()` runs with a store that is never called: neither route may touch it.
 * `npm run bench` runs it (after `npm run build`); alone: `npm run build && node bench/cpu.mjs`.
 */
import { Hono } from 'hono'
import { getCookie } from 'hono/cookie'
import { fileURLToPath } from 'node:url'
import { session } from '../dist/index.js'

const unused = {
  isValidToken: () => true,
  load: () => Promise.reject(new Error('no store call is expected')),
  save: () => Promise.reject(new Error('no store call is expected')),
  destroy: () => Promise.reject(new Error('no store call is expected')),
}
/** The floor's KV binding: no request here sends its cookie, so it is never read. */
const env = { SESSIONS: { get: () => Promise.reject(new Error('no KV call is expected')) } }

const noop = async (_c, next) => next()
/** Bare Hono, or Hono with `middleware`; only a session app's read route reads a session. */
function app(middleware) {
  const a = new Hono()
  if (middleware) a.use(middleware)
  a.get('/untouched', (c) => c.text('0'))
  if (middleware === undefined || middleware === noop) a.get('/read', (c) => c.text('0'))
  else a.get('/read', async (c) => c.text(String((await c.get('session').get('hits')) ?? 0)))
  return a
}
/**
 * The hand-rolled session of `variants.ts`, reduced to its read route; with `vary`, it
 * also sends `Vary: Cookie` when it read the cookie, as a response that depends on the
 * cookie must (and as edge-session does): the same header, set the cheapest way.
 */
function floor(vary = false) {
  const a = new Hono()
  a.get('/read', async (c) => {
    const id = getCookie(c, 'sid')
    const data = id ? await c.env.SESSIONS.get(`s:${id}`, 'json') : null
    const res = c.text(String(data?.hits ?? 0))
    if (vary) res.headers.set('Vary', 'Cookie')
    return res
  })
  return a
}

const BARE = 'bare Hono'
const NOOP = 'an empty middleware'
const FLOOR = 'hand-rolled floor'
const FLOOR_VARY = 'hand-rolled floor + Vary: Cookie'
const OURS = 'session()'

/** The routes, what each request sends, and the variants measured on it. */
export const ROUTES = {
  untouched: {
    path: '/untouched',
    init: {
      headers: { Cookie: 'sessionid=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA; theme=dark' },
    },
    variants: [
      [BARE, app()],
      [NOOP, app(noop)],
      [OURS, app(session({ store: unused }))],
    ],
  },
  'anonymous read': {
    path: '/read',
    init: {},
    variants: [
      [BARE, app()],
      [NOOP, app(noop)],
      [FLOOR, floor()],
      [FLOOR_VARY, floor(true)],
      [OURS, app(session({ store: unused }))],
    ],
  },
}

async function perRequest(a, path, init, n) {
  const start = performance.now()
  for (let i = 0; i < n; i++) {
    const res = await a.request(`http://bench.local${path}`, init, env)
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`)
    await res.arrayBuffer()
  }
  return ((performance.now() - start) / n) * 1000
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/**
 * Measures every route: `{ [route]: { [variant]: { us, toBare, toFloor } } }`, where `us`
 * is the median µs per request and each ratio the median of per-round ratios (throughput,
 * so ≥ 1 is at or under the other's cost), with their ranges.
 */
export async function measure({ rounds = 61, requests = 3000 } = {}) {
  const results = {}
  for (const [route, { path, init, variants }] of Object.entries(ROUTES)) {
    const times = new Map(variants.map(([name]) => [name, []]))
    await Promise.all(variants.map(([, a]) => perRequest(a, path, init, 2000))) // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const [name, a] of round % 2 ? [...variants].reverse() : variants)
        times.get(name).push(await perRequest(a, path, init, requests))
    }
    const ratio = (ref, name) => {
      if (!times.has(ref)) return null
      const rs = times.get(name).map((t, i) => times.get(ref)[i] / t)
      return { median: median(rs), min: Math.min(...rs), max: Math.max(...rs) }
    }
    results[route] = Object.fromEntries(
      [...times].map(([name, ts]) => [
        name,
        { us: median(ts), toBare: ratio(BARE, name), toFloor: ratio(FLOOR, name) },
      ]),
    )
  }
  return results
}

/** The results as a Markdown table. */
export function table(results) {
  const f = (r) =>
    r === null ? '—' : `${r.median.toFixed(2)}× [${r.min.toFixed(2)}–${r.max.toFixed(2)}]`
  const rows = []
  for (const [route, variants] of Object.entries(results)) {
    for (const [name, r] of Object.entries(variants))
      rows.push(`| ${route} | ${name} | ${r.us.toFixed(2)} | ${f(r.toBare)} | ${f(r.toFloor)} |`)
  }
  return [
    "| route | variant | µs per request (median round) | × bare Hono [range over rounds] | ÷ the hand-rolled floor's cost [range] (≥ 1: at or under it) |",
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n')
}

export { BARE, FLOOR, FLOOR_VARY, NOOP, OURS }

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(table(await measure()))
