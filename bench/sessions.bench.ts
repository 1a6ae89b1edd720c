/**
 * Throughput of every variant, side by side in one file, inside workerd
 * (`npm run bench` runs it three times and reports medians; see `run.mjs`).
 *
 * Each sample is a batch of sequential `app.request` calls: 200 for the routes that use
 * KV, 1,000 for the untouched route, whose 200 requests take only 2-3 ms, too close to
 * workerd's 1 ms clock. All variants share the file's KV namespace (miniflare's local KV,
 * the one `wrangler dev` uses). Every request sends the variant's own valid session
 * cookie, made once in the first (warm-up) sample.
 *
 * The order of the variants rotates with the run (`benchRound`), so that no variant
 * always follows the same neighbour.
 *
 * One more group, "read, CPU only", runs the read route against a `Map` in place of KV:
 * the local KV's ~0.4 ms per read otherwise hides the CPU each library spends. Two more
 * set edge-session beside the hand-rolled floor: "anonymous read" (no cookie, a handler
 * that reads) and "set(), many keys vs one value" (6,300 small keys against one value of
 * the same size, in one request each).
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test'
import { bench, describe, inject } from 'vitest'
import { memoryNamespace } from './memory-namespace'
import { signedCookieBenches } from './signing'
import {
  BULK_VARIANTS,
  edgeSessionDO,
  variants,
  type BenchBindings,
  type BulkRoute,
  type Route,
  type Variant,
} from './variants'

declare module 'vitest' {
  interface ProvidedContext {
    /** Which run of `npm run bench` this is (0-based); rotates the order of the variants. */
    benchRound: number
  }
}

/** Requests per sample, per group. `run.mjs` reads them back from the group names. */
const BATCH = {
  untouched: 1000,
  read: 200,
  write: 200,
  cpu: 1000,
  anonymous: 3000,
  bulk: 20,
} as const

/** At least 1 s and 5 samples per variant; warm-up: at least 300 ms and one sample (it also prepares the variant). */
const options = { time: 1000, iterations: 5, warmupTime: 300, warmupIterations: 1 }

const kvBindings: BenchBindings = { SESSIONS: env.SESSIONS, SESSION_OBJECTS: env.SESSION_OBJECTS }
const memoryBindings: BenchBindings = {
  SESSIONS: memoryNamespace(),
  SESSION_OBJECTS: env.SESSION_OBJECTS,
}
/** The `set()` rows write 63 KB per request: their `Map` is emptied after every sample. */
const bulkValues = new Map<string, string>()
const bulkBindings: BenchBindings = {
  SESSIONS: memoryNamespace(bulkValues),
  SESSION_OBJECTS: env.SESSION_OBJECTS,
}

interface Prepared {
  variant: Variant
  app: ReturnType<Variant['create']>
  bindings: BenchBindings
  init: RequestInit
}

const prepared = new Map<string, Prepared>()

/** One request, body read, background work awaited. */
async function once(p: Prepared, route: Route): Promise<{ res: Response; body: string }> {
  const ctx = createExecutionContext()
  const res = await p.app.request(`http://bench.local/${route}`, p.init, p.bindings, ctx)
  const body = await res.text()
  await waitOnExecutionContext(ctx)
  return { res, body }
}

/**
 * Builds a variant's app and gives it a stored session with `hits` = 1. Runs lazily in
 * the warm-up sample: `beforeAll` hooks do not run in bench mode.
 */
async function prepare(variant: Variant, bindings: BenchBindings): Promise<Prepared> {
  const id = `${variant.id}:${bindings === kvBindings ? 'kv' : 'memory'}`
  const known = prepared.get(id)
  if (known) return known
  const p: Prepared = { variant, app: variant.create(), bindings, init: {} }
  if (variant.cookieName !== null) {
    const { res } = await once(p, 'write')
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith(`${variant.cookieName}=`))
    if (!cookie) throw new Error(`${variant.label}: no session cookie from /write`)
    p.init = { headers: { Cookie: cookie.split(';')[0]! } }
    // The session is really read back, so the read route measures a read.
    const { body } = await once(p, 'read')
    if (body !== '1') throw new Error(`${variant.label}: /read answered ${body}, expected 1`)
  }
  prepared.set(id, p)
  return p
}

/** One sample: `n` requests to `route`, with the variant's session cookie or (`anonymous`) none. */
async function batch(
  variant: Variant,
  route: Route | BulkRoute,
  n: number,
  bindings = kvBindings,
  anonymous = false,
): Promise<void> {
  const p = await prepare(variant, bindings)
  const ctx = createExecutionContext()
  const url = `http://bench.local/${route}`
  const init = anonymous ? {} : p.init
  for (let i = 0; i < n; i++) {
    const res = await p.app.request(url, init, bindings, ctx)
    if (res.status !== 200) throw new Error(`${variant.label} /${route}: HTTP ${res.status}`)
    await res.arrayBuffer()
  }
  // @hono/session writes KV in waitUntil: its writes belong to the sample.
  await waitOnExecutionContext(ctx)
}

const round = inject('benchRound') ?? 0
const order = variants.map((_, i) => variants[(i + round) % variants.length]!)

for (const route of ['untouched', 'read', 'write'] as const) {
  describe(`${route} (${BATCH[route]} requests per sample, valid session cookie)`, () => {
    for (const variant of order) {
      bench(variant.label, () => batch(variant, route, BATCH[route]), options)
    }
  })
}

// The Durable Object variant has no in-memory stand-in: its reads are real calls to an
// object, so it sits out the CPU-only group (its throughput is in the groups above).
describe(`read, CPU only (${BATCH.cpu} requests per sample, a Map in place of KV)`, () => {
  for (const variant of order.filter((v) => v !== edgeSessionDO)) {
    bench(variant.label, () => batch(variant, 'read', BATCH.cpu, memoryBindings), options)
  }
})

// No cookie, a handler that only reads: the floor does nothing, edge-session must do no
// more. No variant at the floor touches KV here; the Map keeps the peers' writes cheap.
// The differences are a few µs a request, so run.mjs compares the *median* sample (a GC
// pause lands in one 3,000-request sample in five and doubles it) rather than the mean.
describe(`anonymous read (${BATCH.anonymous} requests per sample, no cookie, a Map in place of KV)`, () => {
  for (const variant of order) {
    bench(
      variant.label,
      () => batch(variant, 'read', BATCH.anonymous, memoryBindings, true),
      options,
    )
  }
})

// One request setting 6,300 small keys against one setting a single value of the same
// JSON size: linear set() costs about the same for both; quadratic size tracking did not.
describe(`set(), many keys vs one value (${BATCH.bulk} requests per sample, no cookie, a Map in place of KV)`, () => {
  for (const variant of BULK_VARIANTS) {
    for (const [route, what] of [
      ['set-many', '6,300 keys'],
      ['set-one', 'one value'],
    ] as const) {
      bench(
        `${variant.label}: ${what}`,
        async () => {
          await batch(variant, route, BATCH.bulk, bulkBindings, true)
          bulkValues.clear()
        },
        options,
      )
    }
  }
})

signedCookieBenches({ ...options, warmupIterations: 2 })
