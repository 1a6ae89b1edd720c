/**
 * @module
 * The benchmark worker `e2e.mjs` and `kv-ops.mjs` run under `wrangler dev`
 * (`bench/wrangler.toml`): every variant of `variants.ts` under its own path prefix,
 * `/<id>/<route>`, on one KV namespace.
 *
 * `GET /__variants` lists them (id, label, cookie name, routes they lack).
 *
 * With the var `COUNT_KV = "1"` (kv-ops.mjs sets it) every variant sees the binding
 * through the tests' counting wrapper, and two more endpoints exist:
 * - `GET /__counts`: the operations counted since the last call, then zeroes them;
 * - `POST /__wipe`: deletes every key (to turn a valid cookie into an unknown one).
 */
import { countingKV, type CountingKV } from '../test/helpers/kv'
import { variants, type BenchBindings } from './variants'

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

async function wipe(namespace: KVNamespace): Promise<number> {
  let removed = 0
  let cursor: string | undefined
  do {
    const page: KVNamespaceListResult<unknown, string> = await namespace.list(cursor ? { cursor } : {})
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
      return Response.json(variants.map(({ id, label, cookieName, unsupported }) => ({ id, label, cookieName, unsupported })))
    }
    if (counting && prefix === '__counts') {
      const kv = counted(env.SESSIONS)
      const body = JSON.stringify(kv.counts)
      kv.reset()
      return new Response(body, { headers: { 'Content-Type': 'application/json' } })
    }
    if (counting && prefix === '__wipe' && request.method === 'POST') {
      return Response.json({ removed: await wipe(env.SESSIONS) })
    }

    const app = apps.get(prefix)
    if (!app || slash === -1) return new Response('unknown variant', { status: 404 })
    // Every variant, the floor included, pays for this one rewrite.
    const inner = new Request(new URL(url.pathname.slice(slash) + url.search, url), request)
    const bindings: BenchBindings = counting ? { SESSIONS: counted(env.SESSIONS).namespace } : env
    return app.fetch(inner, bindings, ctx)
  },
} satisfies ExportedHandler<WorkerEnv>
