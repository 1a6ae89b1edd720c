/**
 * @module
 * The benchmark worker `e2e.mjs` and `kv-ops.mjs` run under `wrangler dev`
 * (`bench/wrangler.toml`): every variant of `variants.ts` under its own path prefix,
 * `/<id>/<route>`, on one KV namespace.
 *
 * `GET /__variants` lists them (id, label, cookie name, routes they lack).
 *
 * With the var `COUNT_KV = "1"` (kv-ops.mjs sets it) every variant sees the bindings
 * through counting wrappers (the tests' for KV; one that counts calls to Durable Objects
 * and reads the rows they wrote from `SessionObject.usage()`), and two more endpoints exist:
 * - `GET /__counts`: the KV operations, object calls and rows written since the last
 *   call, then zeroes them;
 * - `POST /__wipe`: deletes every key (to turn a valid cookie into an unknown one).
 */
import type { SessionObject } from '../src/session/durable-object'
import { countingKV, type CountingKV } from '../test/helpers/kv-wrappers'
import { variants, type BenchBindings } from './variants'

// The Durable Object store's class, exported from the worker's entry as it must be.
export { SessionObject } from '../src/session/durable-object'

interface WorkerEnv extends BenchBindings {
  COUNT_KV?: string
}

const apps = new Map(variants.map((v) => [v.id, v.create()]))

// One wrapper per isolate, so stores cached per namespace object stay cached.
let counting: { raw: KVNamespace; kv: CountingKV } | undefined
const counted = (raw: KVNamespace): CountingKV => {
  if (counting?.raw !== raw) counting = { raw, kv: countingKV(raw) }
  return counting.kv
}

/** The session object's RPC methods the store calls. */
const RPC_METHODS: ReadonlySet<string> = new Set([
  'load',
  'create',
  'update',
  'take',
  'destroy',
  'list',
  'countSessions',
  'revoke',
  'revokeAll',
])

/** A Durable Object namespace whose stubs count their calls, and the objects they reached. */
interface CountingObjects {
  namespace: DurableObjectNamespace<SessionObject>
  calls: number
  /** SQLite rows the reached objects wrote since the last call (per `usage()`). */
  rowsWritten(): Promise<number>
}

function countingObjects(raw: DurableObjectNamespace<SessionObject>): CountingObjects {
  // Ids, not stubs: a stub belongs to the request that made it.
  const reached = new Set<string>()
  const seen = new Map<string, number>()
  const counter: CountingObjects = {
    calls: 0,
    namespace: new Proxy(raw, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown
        if (typeof value !== 'function') return value
        if (prop !== 'get') return (value as (...a: unknown[]) => unknown).bind(target)
        return (id: DurableObjectId) => {
          const stub = target.get(id)
          reached.add(id.toString())
          return new Proxy(stub, {
            get(s, method) {
              // Only the object's own methods: a stub answers any name (`then` included).
              if (typeof method !== 'string' || !RPC_METHODS.has(method))
                return Reflect.get(s, method) as unknown
              return (...args: unknown[]) => {
                counter.calls++
                // Called as a method of the real stub: an RPC method taken off it and applied fails.
                return (s as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(
                  ...args,
                )
              }
            },
          })
        }
      },
    }),
    async rowsWritten() {
      let rows = 0
      for (const id of reached) {
        const now = (await raw.get(raw.idFromString(id)).usage()).rowsWritten
        rows += now - (seen.get(id) ?? 0)
        seen.set(id, now)
      }
      return rows
    },
  }
  return counter
}

let objects: { raw: DurableObjectNamespace<SessionObject>; counter: CountingObjects } | undefined
const countedObjects = (raw: DurableObjectNamespace<SessionObject>): CountingObjects => {
  if (objects?.raw !== raw) objects = { raw, counter: countingObjects(raw) }
  return objects.counter
}

async function wipe(namespace: KVNamespace): Promise<number> {
  let removed = 0
  let cursor: string | undefined
  do {
    const page: KVNamespaceListResult<unknown, string> = await namespace.list(
      cursor ? { cursor } : {},
    )
    await Promise.all(page.keys.map((k) => namespace.delete(k.name)))
    removed += page.keys.length
    cursor = page.list_complete ? undefined : page.cursor
  } while (cursor)
  return removed
}

export default {
  async fetch(request, env, ctx): Promise<Response> {
    const url = new URL(request.url)
    const slash = url.pathname.indexOf('/', 1)
    const prefix = url.pathname.slice(1, slash === -1 ? undefined : slash)
    const counting = env.COUNT_KV === '1'

    if (prefix === '__variants') {
      return Response.json(
        variants.map(({ id, label, cookieName, unsupported }) => ({
          id,
          label,
          cookieName,
          unsupported,
        })),
      )
    }
    if (counting && prefix === '__counts') {
      const kv = counted(env.SESSIONS)
      const objs = countedObjects(env.SESSION_OBJECTS)
      const body = JSON.stringify({
        ...kv.counts,
        calls: objs.calls,
        rowsWritten: await objs.rowsWritten(),
      })
      kv.reset()
      objs.calls = 0
      return new Response(body, { headers: { 'Content-Type': 'application/json' } })
    }
    if (counting && prefix === '__wipe' && request.method === 'POST') {
      return Response.json({ removed: await wipe(env.SESSIONS) })
    }

    const app = apps.get(prefix)
    if (!app || slash === -1) return new Response('unknown variant', { status: 404 })
    // Every variant, the floor included, pays for this one rewrite.
    const inner = new Request(new URL(url.pathname.slice(slash) + url.search, url), request)
    const bindings: BenchBindings = counting
      ? {
          SESSIONS: counted(env.SESSIONS).namespace,
          SESSION_OBJECTS: countedObjects(env.SESSION_OBJECTS).namespace,
        }
      : env
    return app.fetch(inner, bindings, ctx)
  },
} satisfies ExportedHandler<WorkerEnv>
