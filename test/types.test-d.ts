/**
 * Type tests (issue 9, item 8): the session typed the way TypeScript users write it.
 * Checked by `npm run typecheck` (tsc compiles test/) and by `npm test` (vitest's
 * typecheck pass, vitest.config.ts): a regression fails both. Nothing here runs; each
 * `@ts-expect-error` line must stay an error, or tsc reports the directive as unused.
 */
import { Hono, type MiddlewareHandler } from 'hono'
import { describe, expectTypeOf, it } from 'vitest'
import {
  cookieStore,
  kvStore,
  loginRequired,
  messages,
  session,
  type Message,
  type Session,
  type SessionEnv,
  type SessionOptions,
} from '../src/session'
import { testClient } from '../src/session/testing'
import { durableObjectStore, type SessionObject } from '../src/session/durable-object'

/** Data declared as most adopters first write it: an interface, one key optional. */
interface Prefs {
  theme: 'light' | 'dark'
  visits: number
  nickname?: string
}

/** An app's environment: the session's data and the app's bindings. */
type AppEnv = SessionEnv<Prefs> & { Bindings: { SESSIONS: KVNamespace; SESSION_SECRET: string } }

declare const s: Session<Prefs>

describe('Data declared with an interface', () => {
  it('is accepted by Session, SessionEnv and session() (no TS2344)', () => {
    expectTypeOf<SessionEnv<Prefs>>().toEqualTypeOf<{ Variables: { session: Session<Prefs> } }>()
    expectTypeOf(session<Prefs>()).toEqualTypeOf<MiddlewareHandler<SessionEnv<Prefs>>>()
    const app = new Hono<SessionEnv<Prefs>>()
    app.use(session<Prefs>())
    app.get('/', async (c) => {
      expectTypeOf(c.get('session')).toEqualTypeOf<Session<Prefs>>()
      return c.text('ok')
    })
  })
})

describe('session.get() and session.pop()', () => {
  it('include undefined without a default', () => {
    expectTypeOf(s.get('visits')).toEqualTypeOf<Promise<number | undefined>>()
    expectTypeOf(s.pop('visits')).toEqualTypeOf<Promise<number | undefined>>()
    expectTypeOf(s.get('nickname')).toEqualTypeOf<Promise<string | undefined>>()
  })

  it('never include undefined from a missing key when a default is given', () => {
    expectTypeOf(s.get('visits', 0)).toEqualTypeOf<Promise<number>>()
    expectTypeOf(s.pop('visits', 0)).toEqualTypeOf<Promise<number>>()
    expectTypeOf(s.get('nickname', 'anonymous')).toEqualTypeOf<Promise<string>>()
    expectTypeOf(s.pop('nickname', 'anonymous')).toEqualTypeOf<Promise<string>>()
    // A default of another type joins the key's type, as Django's get(key, default).
    expectTypeOf(s.get('nickname', null)).toEqualTypeOf<Promise<string | null>>()
  })

  it('refuse keys that Data does not declare', () => {
    // @ts-expect-error "colour" is not a key of Prefs
    void s.get('colour')
    // @ts-expect-error "colour" is not a key of Prefs
    void s.pop('colour', 1)
  })
})

describe('session.set()', () => {
  it("takes a value of the key's type", () => {
    expectTypeOf(s.set('nickname', 'ann')).toEqualTypeOf<Promise<void>>()
    expectTypeOf(s.set('theme', 'dark')).toEqualTypeOf<Promise<void>>()
  })

  it('refuses undefined for an optional key (it throws INVALID_VALUE at runtime; use delete())', () => {
    // @ts-expect-error undefined is not a session value
    void s.set('nickname', undefined)
    // @ts-expect-error nor for a required key
    void s.set('visits', undefined)
  })

  it('refuses a value of another type, and unknown keys', () => {
    // @ts-expect-error "blue" is not 'light' | 'dark'
    void s.set('theme', 'blue')
    // @ts-expect-error "colour" is not a key of Prefs
    void s.set('colour', 'blue')
  })
})

describe('session.toObject()', () => {
  it('is Partial<Data>: a session holds only what was stored so far', () => {
    expectTypeOf(s.toObject()).toEqualTypeOf<Promise<Partial<Prefs>>>()
  })
})

describe('session<AppEnv>({ store: (c) => … })', () => {
  it("types c.env from the app's bindings", () => {
    const app = new Hono<AppEnv>()
    app.use(
      session<AppEnv>({
        store: (c) => {
          expectTypeOf(c.env.SESSIONS).toEqualTypeOf<KVNamespace>()
          expectTypeOf(c.env.SESSION_SECRET).toEqualTypeOf<string>()
          return kvStore({ namespace: c.env.SESSIONS })
        },
      }),
    )
    app.get('/', async (c) => {
      expectTypeOf(c.get('session')).toEqualTypeOf<Session<Prefs>>()
      expectTypeOf(c.env.SESSIONS).toEqualTypeOf<KVNamespace>()
      return c.text('ok')
    })
    expectTypeOf(session<AppEnv>()).toEqualTypeOf<MiddlewareHandler<AppEnv>>()
  })

  it('makes a binding typo fail to compile', () => {
    const app = new Hono<AppEnv>()
    // @ts-expect-error SESSIONZ is not a binding of AppEnv
    app.use(session<AppEnv>({ store: (c) => kvStore({ namespace: c.env.SESSIONZ }) }))
    // @ts-expect-error SESSION_SECRT is not a binding of AppEnv
    app.use(session<AppEnv>({ store: (c) => cookieStore({ secret: c.env.SESSION_SECRT }) }))
  })

  it("types c.env in authHash from the app's bindings, so a binding typo fails to compile", () => {
    const app = new Hono<AppEnv>()
    app.use(
      session<AppEnv>({
        authHash: async (c, user) => {
          expectTypeOf(c.env.SESSION_SECRET).toEqualTypeOf<string>()
          return (await c.env.SESSIONS.get(`user:${user}`)) ?? null
        },
      }),
    )
    // @ts-expect-error SESSIONZ is not a binding of AppEnv
    app.use(session<AppEnv>({ authHash: async (c, user) => c.env.SESSIONZ.get(user) }))
  })

  it('types SessionOptions<E> the same way on its own', () => {
    const options: SessionOptions<AppEnv> = { store: (c) => kvStore({ namespace: c.env.SESSIONS }) }
    expectTypeOf(options.store).not.toBeAny()
  })

  it('leaves c.env untyped when only the data type is given (the earlier form)', () => {
    new Hono<AppEnv>().use(
      session<Prefs>({
        store: (c) => {
          expectTypeOf(c.env).toBeAny()
          return kvStore({ namespace: c.env.SESSIONS })
        },
      }),
    )
  })
})

describe('loginRequired() and the test client on a typed app', () => {
  it("is a middleware of the app's own environment", () => {
    expectTypeOf(loginRequired<AppEnv>()).toEqualTypeOf<MiddlewareHandler<AppEnv>>()
    new Hono<AppEnv>().use('/account/*', loginRequired({ loginUrl: '/login' }))
  })

  it("takes the app's own session options, typed with its bindings", () => {
    const options: SessionOptions<AppEnv> = { authHash: (c, user) => c.env.SESSIONS.get(user) }
    const client = testClient(new Hono<AppEnv>(), { session: options })
    expectTypeOf(client.session<Prefs>()).toEqualTypeOf<Promise<Partial<Prefs>>>()
    expectTypeOf(client.forceLogin('ada')).toEqualTypeOf<Promise<void>>()
  })
})

describe('the Durable Object store with a typed binding (docs/stores.md)', () => {
  type DoEnv = SessionEnv & { Bindings: { SESSION_OBJECTS: DurableObjectNamespace<SessionObject> } }

  it("takes the app's typed binding, and a typo in it fails to compile", () => {
    const app = new Hono<DoEnv>()
    app.use(
      session<DoEnv>({ store: (c) => durableObjectStore({ namespace: c.env.SESSION_OBJECTS }) }),
    )
    app.use(
      // @ts-expect-error SESSION_OBJECTZ is not a binding of DoEnv
      session<DoEnv>({ store: (c) => durableObjectStore({ namespace: c.env.SESSION_OBJECTZ }) }),
    )
  })

  it('refuses a namespace of another class', () => {
    class Other {
      hello(): string {
        return 'hi'
      }
    }
    type OtherEnv = SessionEnv & {
      Bindings: { OTHER: DurableObjectNamespace<Other & Rpc.DurableObjectBranded> }
    }
    new Hono<OtherEnv>().use(
      // @ts-expect-error a namespace of another Durable Object class is not SessionObject's
      session<OtherEnv>({ store: (c) => durableObjectStore({ namespace: c.env.OTHER }) }),
    )
  })
})

describe('flash messages on a typed session', () => {
  it('take a typed session or context, and need no key in Data', () => {
    expectTypeOf(messages.success(s, 'saved')).toEqualTypeOf<Promise<boolean>>()
    expectTypeOf(messages.get(s)).toEqualTypeOf<Promise<Message[]>>()
    new Hono<AppEnv>().post('/', async (c) => {
      await messages.info(c, 'saved', { extraTags: 'sticky' })
      // @ts-expect-error "loud" is not a level
      await messages.add(c, 'loud', 'x')
      return c.redirect('/', 303)
    })
  })
})
