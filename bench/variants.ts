/**
 * @module
 * The benchmark's variants: the same five routes on the same KV namespace, served by
 * bare Hono (the floor for any app), a session hand-rolled on `hono/cookie` and KV (the
 * floor for a session), this library, and the peers wired as their docs say.
 *
 * Routes, identical in every variant:
 * - `GET /untouched`: never touches the session.
 * - `GET /read`: reads `hits`.
 * - `GET /write`: reads `hits` and writes it back incremented.
 * - `GET /cycle`: new session key, same data (where the library has one).
 * - `GET /flush`: deletes the session (logout).
 * - `GET /set-many`, `GET /set-one` (the floor and the KV store only): 6,300 small keys,
 *   or one value of the same JSON size, set one by one, as the `set()` rows measure.
 *
 * Shared by `sessions.bench.ts` (inside workerd through `app.request`), and by
 * `worker.ts` (the worker `e2e.mjs` and `kv-ops.mjs` drive through `wrangler dev`).
 * The cookie store's variant is here because `src/session/stores/cookie.ts` exists.
 */
import { useSession, useSessionStorage } from '@hono/session'
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import {
  sessionMiddleware,
  type Session as HonoSessionsSession,
  type SessionData as HonoSessionsData,
} from 'hono-sessions'
import { cookieStore, session, type SessionEnv } from '../src/session'
import { durableObjectStore, type SessionObject } from '../src/session/durable-object'

/** What every variant reads from `c.env`. */
export interface BenchBindings {
  SESSIONS: KVNamespace
  /** The Durable Object store's objects (the edge-session, Durable Objects variant). */
  SESSION_OBJECTS: DurableObjectNamespace<SessionObject>
}

/** A variant's app, reduced to what the benchmark calls. */
export type BenchRequest = (
  url: string,
  init: RequestInit,
  env: BenchBindings,
  ctx: ExecutionContext,
) => Response | Promise<Response>

/** One contender. */
export interface Variant {
  /** Short id, also the path prefix in the e2e worker. */
  id: string
  /** Name in the results tables. */
  label: string
  /** Name of its session cookie; `null` for bare Hono. */
  cookieName: string | null
  /** Routes it has no equivalent for (answered 501). */
  unsupported: readonly Route[]
  /** Builds the app (once per isolate). */
  create(): { request: BenchRequest; fetch: ExportedHandlerFetchHandler<BenchBindings> }
}

/** The routes every variant serves. */
export type Route = 'untouched' | 'read' | 'write' | 'cycle' | 'flush'

/** Session lifetime used by every variant: two weeks (Django's default). */
export const MAX_AGE = 1_209_600

/** A fixed secret for the variants that need one (32 bytes as hex). */
export const BENCH_SECRET = '6a1f0e3c5b7d9f21c4e6a8b0d2f4163858a7c9e1b3d5f7092a4c6e8f0b1d3e5f7'

const text = (n: unknown): string => String(typeof n === 'number' ? n : 0)

function finish<E extends { Bindings: BenchBindings }>(
  app: Hono<E>,
): ReturnType<Variant['create']> {
  app.all('*', (c) => c.text('no such route', 501))
  return {
    request: (url, init, env, ctx) => app.request(url, init, env, ctx),
    fetch: (req, env, ctx) => app.fetch(req, env, ctx),
  }
}

/** Bare Hono: the same routes, no session at all. The floor. */
export const bare: Variant = {
  id: 'bare',
  label: 'bare Hono (floor)',
  cookieName: null,
  unsupported: [],
  create() {
    const app = new Hono<{ Bindings: BenchBindings }>()
    for (const route of ['untouched', 'read', 'write', 'cycle', 'flush'])
      app.get(`/${route}`, (c) => c.text('0'))
    return finish(app)
  },
}

/**
 * Bare Hono plus one empty middleware: the floor for *any* middleware. Hono calls a
 * lone handler directly but sends a route with middleware through `compose()`, so no
 * session layer can beat this row on an untouched route.
 */
export const noop: Variant = {
  id: 'noop',
  label: 'Hono + an empty middleware',
  cookieName: null,
  unsupported: [],
  create() {
    const app = new Hono<{ Bindings: BenchBindings }>()
    app.use(async (_c, next) => next())
    for (const route of ['untouched', 'read', 'write', 'cycle', 'flush'])
      app.get(`/${route}`, (c) => c.text('0'))
    return finish(app)
  },
}

type Data = { hits?: number; [key: string]: unknown }

/**
 * What the `set()` rows store in one request: {@link MANY_KEYS} (6,300 small keys) or
 * {@link ONE_VALUE} (one string), whose JSON is exactly as long (63,001 bytes, under the
 * 64 KiB cap). Served at `/set-many` and `/set-one` by the variants in `BULK_VARIANTS`.
 */
export const MANY_KEYS: Readonly<Record<string, number>> = Object.fromEntries(
  Array.from({ length: 6300 }, (_, i) => [`k${String(i).padStart(4, '0')}`, 1]),
)
export const ONE_VALUE: Readonly<Record<string, string>> = {
  v: 'x'.repeat(JSON.stringify(MANY_KEYS).length - '{"v":""}'.length),
}

/** The bulk routes and what each stores. */
const BULK = { 'set-many': MANY_KEYS, 'set-one': ONE_VALUE } as const

/** The routes of the `set()` rows. */
export type BulkRoute = keyof typeof BULK

/** Routes of this library, on any session store. */
function edgeSessionApp(
  middleware: MiddlewareHandler<SessionEnv<Data>>,
): Hono<SessionEnv<Data> & { Bindings: BenchBindings }> {
  const app = new Hono<SessionEnv<Data> & { Bindings: BenchBindings }>()
  app.use(middleware)
  for (const [route, data] of Object.entries(BULK)) {
    app.get(`/${route}`, async (c) => {
      const s = c.get('session')
      for (const key in data) await s.set(key, data[key as keyof typeof data])
      return c.text('0')
    })
  }
  app.get('/untouched', (c) => c.text('0'))
  app.get('/read', async (c) => c.text(text(await c.get('session').get('hits'))))
  app.get('/write', async (c) => {
    const s = c.get('session')
    const hits = ((await s.get('hits')) ?? 0) + 1
    await s.set('hits', hits)
    return c.text(text(hits))
  })
  app.get('/cycle', async (c) => {
    await c.get('session').cycleKey()
    return c.text('0')
  })
  app.get('/flush', async (c) => {
    await c.get('session').flush()
    return c.text('0')
  })
  return app
}

/** This library with its default store: Workers KV, bound as `SESSIONS`. */
export const edgeSessionKV: Variant = {
  id: 'kv',
  label: 'edge-session, KV store',
  cookieName: 'sessionid',
  unsupported: [],
  create: () => finish(edgeSessionApp(session<Data>())),
}

/**
 * This library with its cookie store (the session sealed in the cookie, no KV), wired
 * as the store's own example: `store: (c) => cookieStore({ secret: c.env.SESSION_SECRET })`.
 */
export const edgeSessionCookie: Variant = {
  id: 'cookie',
  label: 'edge-session, cookie store',
  cookieName: 'sessionid',
  unsupported: [],
  create: () =>
    finish(edgeSessionApp(session<Data>({ store: () => cookieStore({ secret: BENCH_SECRET }) }))),
}

/**
 * This library with its Durable Object store, wired as its README shows:
 * `store: (c) => durableObjectStore({ namespace: c.env.SESSION_OBJECTS })`.
 */
export const edgeSessionDO: Variant = {
  id: 'do',
  label: 'edge-session, Durable Objects',
  cookieName: 'sessionid',
  unsupported: [],
  create: () =>
    finish(
      edgeSessionApp(
        session<Data>({
          store: (c) => durableObjectStore({ namespace: (c.env as BenchBindings).SESSION_OBJECTS }),
        }),
      ),
    ),
}

/**
 * The floor a session layer is measured against: a session hand-rolled on `hono/cookie`
 * and KV, as a Hono user would write one in a few lines. The id comes from `getCookie()`;
 * a request with a cookie costs one KV `get`, one without costs nothing; a write is a
 * `JSON.stringify`, a `put` and a `setCookie()`. No validation of ids or values, no
 * payload cap, no expiry beyond the TTL, no `Vary`: everything edge-session adds, left out.
 */
export const handRolled: Variant = {
  id: 'floor',
  label: 'hand-rolled session (hono/cookie + KV)',
  cookieName: 'sid',
  unsupported: [],
  create() {
    const app = new Hono<{ Bindings: BenchBindings }>()
    const cookie = { path: '/', httpOnly: true, sameSite: 'Lax', maxAge: MAX_AGE } as const
    const load = async (kv: KVNamespace, id: string | undefined): Promise<Data | null> =>
      id ? kv.get<Data>(`s:${id}`, 'json') : null
    const save = async (
      c: Context<{ Bindings: BenchBindings }>,
      id: string | undefined,
      data: Data,
    ): Promise<void> => {
      const sid = id ?? crypto.randomUUID()
      await c.env.SESSIONS.put(`s:${sid}`, JSON.stringify(data), { expirationTtl: MAX_AGE })
      setCookie(c, 'sid', sid, cookie)
    }
    app.get('/untouched', (c) => c.text('0'))
    app.get('/read', async (c) =>
      c.text(text((await load(c.env.SESSIONS, getCookie(c, 'sid')))?.hits)),
    )
    app.get('/write', async (c) => {
      const id = getCookie(c, 'sid')
      const data = (await load(c.env.SESSIONS, id)) ?? {}
      data.hits = (data.hits ?? 0) + 1
      await save(c, id, data)
      return c.text(text(data.hits))
    })
    app.get('/cycle', async (c) => {
      const id = getCookie(c, 'sid')
      await save(c, undefined, (await load(c.env.SESSIONS, id)) ?? {})
      if (id) await c.env.SESSIONS.delete(`s:${id}`)
      return c.text('0')
    })
    app.get('/flush', async (c) => {
      const id = getCookie(c, 'sid')
      if (id) {
        await c.env.SESSIONS.delete(`s:${id}`)
        deleteCookie(c, 'sid', { path: '/' })
      }
      return c.text('0')
    })
    for (const [route, values] of Object.entries(BULK)) {
      app.get(`/${route}`, async (c) => {
        const id = getCookie(c, 'sid')
        const data = (await load(c.env.SESSIONS, id)) ?? {}
        for (const key in values) data[key] = values[key as keyof typeof values]
        await save(c, id, data)
        return c.text('0')
      })
    }
    return finish(app)
  },
}

/**
 * A KV store for hono-sessions, as its wiki's "Creating a custom storage driver" and
 * the KV adapter posted in jcs224/hono_sessions#20 write one (with `'json'` reads, and a
 * TTL as long as the session so abandoned records do not pile up).
 */
class HonoSessionsKVStore {
  constructor(readonly kv: KVNamespace) {}
  async getSessionById(sid?: string): Promise<HonoSessionsData | null> {
    return sid ? this.kv.get<HonoSessionsData>(`sessions/${sid}`, 'json') : null
  }
  async createSession(sid: string, data: HonoSessionsData): Promise<void> {
    await this.kv.put(`sessions/${sid}`, JSON.stringify(data), { expirationTtl: MAX_AGE })
  }
  async persistSessionData(sid: string, data: HonoSessionsData): Promise<void> {
    await this.kv.put(`sessions/${sid}`, JSON.stringify(data), { expirationTtl: MAX_AGE })
  }
  async deleteSession(sid: string): Promise<void> {
    await this.kv.delete(`sessions/${sid}`)
  }
}

type HonoSessionsEnv = {
  Bindings: BenchBindings
  Variables: { session: HonoSessionsSession<Data>; session_key_rotation: boolean }
}

/**
 * hono-sessions 0.8.1 as its README configures it (encryption key "recommended for
 * others", 15-minute example lifetime replaced by ours), with the middleware built per
 * request because its store needs `c.env`, the usual Hono pattern for bindings.
 */
function honoSessions(autoExtendExpiration: boolean | undefined): ReturnType<Variant['create']> {
  const app = new Hono<HonoSessionsEnv>()
  app.use(async (c, next) => {
    const options = {
      store: new HonoSessionsKVStore(c.env.SESSIONS),
      encryptionKey: BENCH_SECRET,
      expireAfterSeconds: MAX_AGE,
      cookieOptions: { sameSite: 'Lax' as const, path: '/', httpOnly: true },
      ...(autoExtendExpiration === undefined ? {} : { autoExtendExpiration }),
    }
    return sessionMiddleware(options)(c, next)
  })
  app.get('/untouched', (c) => c.text('0'))
  app.get('/read', (c) => c.text(text(c.get('session').get('hits'))))
  app.get('/write', (c) => {
    const s = c.get('session')
    const hits = (s.get('hits') ?? 0) + 1
    s.set('hits', hits)
    return c.text(text(hits))
  })
  app.get('/cycle', (c) => {
    c.set('session_key_rotation', true)
    return c.text('0')
  })
  app.get('/flush', (c) => {
    c.get('session').deleteSession()
    return c.text('0')
  })
  return finish(app)
}

/** hono-sessions with its defaults (`autoExtendExpiration: true`). */
export const honoSessionsDefault: Variant = {
  id: 'hs',
  label: 'hono-sessions 0.8.1, KV',
  cookieName: 'session',
  unsupported: [],
  create: () => honoSessions(undefined),
}

/** hono-sessions with `autoExtendExpiration: false`. */
export const honoSessionsNoExtend: Variant = {
  id: 'hs-noext',
  label: 'hono-sessions 0.8.1, KV, autoExtendExpiration: false',
  cookieName: 'session',
  unsupported: [],
  create: () => honoSessions(false),
}

type HonoSessionEnv = {
  Bindings: BenchBindings
  Variables: {
    session: import('@hono/session').Session<Data>
    sessionStorage?: import('@hono/session').Storage<Data>
  }
}

/**
 * @hono/session 0.2.1 with KV storage exactly as its `examples/cloudflare-kv.ts`
 * (writes and deletes in `waitUntil`), plus the `duration.absolute` its README
 * recommends, set to our lifetime.
 */
export const honoSession: Variant = {
  id: 'hono-session',
  label: '@hono/session 0.2.1, KV',
  cookieName: 'sid',
  unsupported: ['cycle'],
  create() {
    const app = new Hono<HonoSessionEnv>()
    app.use(
      useSessionStorage<Data, HonoSessionEnv>((c) => ({
        delete(sid) {
          c.executionCtx.waitUntil(c.env.SESSIONS.delete(sid))
        },
        get(sid) {
          return c.env.SESSIONS.get<Data>(sid, 'json')
        },
        set(sid, data) {
          c.executionCtx.waitUntil(
            c.env.SESSIONS.put(sid, JSON.stringify(data), { expirationTtl: 2_592_000 }),
          )
        },
      })),
      useSession<Data>({
        secret: BENCH_SECRET,
        duration: { absolute: MAX_AGE },
      }) as unknown as MiddlewareHandler<HonoSessionEnv>,
    )
    app.get('/untouched', (c) => c.text('0'))
    app.get('/read', async (c) => c.text(text((await c.get('session').get())?.hits)))
    app.get('/write', async (c) => {
      let hits = 0
      await c.get('session').update((prev) => {
        hits = (prev?.hits ?? 0) + 1
        return { ...prev, hits }
      })
      return c.text(text(hits))
    })
    // No way to give a session a new id while keeping its data.
    app.get('/cycle', (c) => c.text('not supported', 501))
    app.get('/flush', async (c) => {
      await c.get('session').get()
      c.get('session').delete()
      return c.text('0')
    })
    return finish(app)
  },
}

/** Every variant, in table order. */
export const variants: readonly Variant[] = [
  bare,
  noop,
  handRolled,
  edgeSessionKV,
  edgeSessionDO,
  edgeSessionCookie,
  honoSessionsDefault,
  honoSessionsNoExtend,
  honoSession,
]

/** The variants with the `/set-many` and `/set-one` routes (the cookie store cannot hold 63 KB). */
export const BULK_VARIANTS: readonly Variant[] = [handRolled, edgeSessionKV]
