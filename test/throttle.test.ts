/**
 * Login throttling: `session.loginFailed(user)` and `durableObjectStore({ loginThrottle })`,
 * through a library app (test/helpers/app.ts: `POST /login` with `"password": "wrong"` is a
 * failed password check) on the pool's real objects and KV. Per user name, over a sliding
 * window, serialised by the user's object; one `login-throttled` trail entry per lock; the
 * KV and cookie stores only tell the hook.
 */
import {
  createExecutionContext,
  env,
  runInDurableObject,
  waitOnExecutionContext,
} from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { cookieStore, kvStore, type SessionEvent, type SessionOptions } from '../src/session'
import { durableObjectStore, userSessions } from '../src/session/durable-object'
import { migrate, SCHEMA_VERSION } from '../src/session/stores/durable-object/schema'
import { harness } from './helpers/harness'
import { sessionApp, type DeviceOptions } from './helpers/app'
import { clearObjects, instrument, namedStub } from './helpers/do'

const SECRET = 'edge-session test secret for the throttle, 32+ bytes'
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1'

let users = 0
const newUser = (): string => `throttle-${++users}-${crypto.randomUUID().slice(0, 8)}`

type Throttle = { failures?: number; window?: number } | false | undefined

/**
 * An app on `store` with a clock the test moves and a hook that collects events; `attempt()`
 * is one login attempt from a new browser (`'wrong'`: a failed password check).
 */
function setup({
  store = 'do',
  loginThrottle,
  namespace = env.SESSION_OBJECTS,
}: {
  store?: 'do' | 'kv' | 'cookie'
  loginThrottle?: Throttle
  namespace?: DurableObjectNamespace<import('../src/session/durable-object').SessionObject>
} = {}) {
  const clock = { now: Date.now() }
  const events: SessionEvent[] = []
  const options: SessionOptions = {
    store:
      store === 'do'
        ? durableObjectStore({
            namespace,
            recordLocation: true,
            ...(loginThrottle === undefined ? {} : { loginThrottle }),
          })
        : store === 'kv'
          ? kvStore({ namespace: env.SESSIONS })
          : cookieStore({ secret: SECRET }),
    now: () => clock.now,
    onEvent: (event) => void events.push(event),
  }
  const app = sessionApp(options)
  /** One attempt; resolves once the hook has run. */
  const attempt = async (
    user: string,
    password: 'wrong' | 'right',
    device: DeviceOptions = {},
  ): Promise<Response> => {
    const executionCtx = createExecutionContext()
    const res = await app.browser({ ...device, executionCtx }).post('/login', {
      json: { user, password },
    })
    await waitOnExecutionContext(executionCtx)
    return res
  }
  return { app, clock, events, attempt }
}

/** The user's trail, newest first, as `userSessions()` reads it. */
const trailOf = async (user: string): Promise<SessionEvent[]> =>
  userSessions({ namespace: env.SESSION_OBJECTS }).securityEvents(user)

/** SQLite rows the user's object wrote since it started. */
const rowsWritten = async (user: string): Promise<number> =>
  (await namedStub(`user:${user}`).usage()).rowsWritten

beforeEach(async () => {
  await clearObjects()
})

describe('session.loginFailed()', () => {
  it("records login-failed in the user's trail with the request's device and location, and tells the hook", async () => {
    const { attempt, events } = setup()
    const user = newUser()
    const res = await attempt(user, 'wrong', { userAgent: IPHONE, cf: { country: 'DE' } })
    expect(res.status).toBe(401)
    expect(res.headers.getSetCookie()).toEqual([])
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      type: 'login-failed',
      user,
      handle: null,
      actor: null,
      device: { label: 'Safari 18 on iOS 18' },
      location: { country: 'DE' },
    })
    expect(events[0]?.id).toMatch(/^\d+$/)
    expect(await trailOf(user)).toEqual(events)
  })

  it("costs one call to the user's object, and none of the session's", async () => {
    const objects = instrument()
    const { attempt } = setup({ namespace: objects.namespace })
    const user = newUser()
    objects.reset()
    expect((await attempt(user, 'wrong')).status).toBe(401)
    expect(objects.calls.log).toEqual([
      `loginFailed@${env.SESSION_OBJECTS.idFromName(`user:${user}`).toString().slice(0, 8)}`,
    ])
  })

  it.each([
    ['an empty name', ''],
    ['a name over 256 characters', 'x'.repeat(257)],
  ])('refuses %s with INVALID_VALUE, recording nothing', async (_what, user) => {
    const { app, events } = setup()
    const res = await app.browser().post('/login', { json: { user, password: 'wrong' } })
    expect(res.status).toBe(500)
    expect(await res.json()).toMatchObject({ code: 'INVALID_VALUE' })
    expect(events).toEqual([])
  })

  it('answers 503 STORE_UNAVAILABLE when the object cannot be reached', async () => {
    const objects = instrument()
    const { attempt, events } = setup({ namespace: objects.namespace })
    objects.fail.add('loginFailed')
    const res = await attempt(newUser(), 'wrong')
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ code: 'STORE_UNAVAILABLE' })
    expect(res.headers.get('Retry-After')).toBe('1')
    expect(events).toEqual([])
  })
})

describe('durableObjectStore({ loginThrottle }): the lock', () => {
  it('locks the user name after 5 failures: the 6th attempt and a login with the right password answer 429 with Retry-After', async () => {
    const { attempt, events } = setup()
    const user = newUser()
    for (let i = 0; i < 5; i++) expect((await attempt(user, 'wrong')).status).toBe(401)
    // The 5th failure started the lock: recorded once, with how long it lasts.
    expect(events.map((e) => e.type)).toEqual([
      ...Array<string>(5).fill('login-failed'),
      'login-throttled',
    ])
    expect(events.at(-1)).toMatchObject({ type: 'login-throttled', user, retryAfter: 900 })

    const wrong = await attempt(user, 'wrong')
    expect(wrong.status).toBe(429)
    expect(wrong.headers.get('Retry-After')).toBe('900')
    expect(await wrong.json()).toMatchObject({ code: 'LOGIN_THROTTLED' })

    // The right password changes nothing while the lock holds: no session, no cookie.
    const right = await attempt(user, 'right')
    expect(right.status).toBe(429)
    expect(right.headers.get('Retry-After')).toBe('900')
    expect(await right.json()).toMatchObject({ code: 'LOGIN_THROTTLED' })
    expect(right.headers.getSetCookie()).toEqual([])
    expect(await userSessions({ namespace: env.SESSION_OBJECTS }).countSessions(user)).toBe(0)
    expect(events).toHaveLength(6)
  })

  it('keeps one trail entry per lock however many attempts it refuses, writing no row for them', async () => {
    const { attempt } = setup()
    const user = newUser()
    for (let i = 0; i < 5; i++) await attempt(user, 'wrong')
    const before = await rowsWritten(user)
    for (let i = 0; i < 30; i++) {
      expect((await attempt(user, i % 2 === 0 ? 'wrong' : 'right')).status).toBe(429)
    }
    expect(await rowsWritten(user)).toBe(before)
    const trail = await trailOf(user)
    expect(trail.map((e) => e.type)).toEqual([
      'login-throttled',
      ...Array<string>(5).fill('login-failed'),
    ])
  })

  it('never admits more than 5 of 20 parallel wrong passwords: the object counts them one after another', async () => {
    const { attempt } = setup()
    const user = newUser()
    const statuses = (
      await Promise.all(Array.from({ length: 20 }, () => attempt(user, 'wrong')))
    ).map((res) => res.status)
    expect(statuses.filter((s) => s === 401)).toHaveLength(5)
    expect(statuses.filter((s) => s === 429)).toHaveLength(15)
    const trail = await trailOf(user)
    expect(trail.filter((e) => e.type === 'login-failed')).toHaveLength(5)
    expect(trail.filter((e) => e.type === 'login-throttled')).toHaveLength(1)
    expect((await attempt(user, 'right')).status).toBe(429)
  })

  it('counts per user name, from any device or network: another user is not locked', async () => {
    const { attempt } = setup()
    const user = newUser()
    const places = ['US', 'BR', 'JP', 'DE', 'NG']
    for (const country of places) {
      expect((await attempt(user, 'wrong', { cf: { country } })).status).toBe(401)
    }
    expect((await attempt(user, 'right', { cf: { country: 'FR' } })).status).toBe(429)
    expect((await attempt(newUser(), 'right')).status).toBe(200)
  })

  it('refuses a re-authentication of a locked user, and lets the session go on', async () => {
    const { attempt } = setup()
    const user = newUser()
    const h = harness(
      {
        store: durableObjectStore({ namespace: env.SESSION_OBJECTS }),
      },
      { start: Date.now() },
    )
    await h.run(async (s) => s.login(user))
    for (let i = 0; i < 5; i++) await attempt(user, 'wrong')
    const confirm = await h.run(async (s) => s.confirmAuthentication())
    expect(confirm.res.status).toBe(429)
    expect(confirm.res.headers.get('Retry-After')).toMatch(/^\d+$/)
    expect((await h.run(async (s) => s.getUser())).body).toBe(user)
  })
})

describe('durableObjectStore({ loginThrottle }): the window slides', () => {
  it('counts failures across any clock boundary: 5 within 900 s lock, wherever the quarter hours fall', async () => {
    const { attempt, clock } = setup()
    const user = newUser()
    // Four failures late in one quarter hour, the fifth early in the next: 60 s apart in all.
    clock.now = Math.ceil(clock.now / 900_000) * 900_000 - 40_000
    for (let i = 0; i < 4; i++) {
      expect((await attempt(user, 'wrong')).status).toBe(401)
      clock.now += 10_000
    }
    clock.now += 20_000
    expect((await attempt(user, 'wrong')).status).toBe(401)
    expect((await attempt(user, 'right')).status).toBe(429)
  })

  it('forgets failures older than the window', async () => {
    const { attempt, clock } = setup()
    const user = newUser()
    for (const gap of [0, 200, 200, 200]) {
      clock.now += gap * 1000
      await attempt(user, 'wrong')
    }
    // 950 s after the first: it left the window, so this is the 4th within it, not the 5th.
    clock.now += 350_000
    expect((await attempt(user, 'wrong')).status).toBe(401)
    expect((await trailOf(user)).some((e) => e.type === 'login-throttled')).toBe(false)
    clock.now += 10_000
    expect((await attempt(user, 'wrong')).status).toBe(401) // 5 within 900 s: locks
    expect((await attempt(user, 'right')).status).toBe(429)
  })

  it('says how long the lock has left, and lifts it when the window has passed', async () => {
    const { attempt, clock } = setup()
    const user = newUser()
    for (let i = 0; i < 5; i++) await attempt(user, 'wrong')
    clock.now += 300_500
    const res = await attempt(user, 'right')
    expect(res.status).toBe(429)
    expect(res.headers.get('Retry-After')).toBe('600') // 599.5 s, rounded up
    clock.now += 599_500
    expect((await attempt(user, 'right')).status).toBe(200)
  })

  it('a successful login resets the count', async () => {
    const { attempt } = setup()
    const user = newUser()
    for (let i = 0; i < 4; i++) await attempt(user, 'wrong')
    expect((await attempt(user, 'right')).status).toBe(200)
    for (let i = 0; i < 4; i++) expect((await attempt(user, 'wrong')).status).toBe(401)
    expect((await attempt(user, 'right')).status).toBe(200)
    expect((await trailOf(user)).some((e) => e.type === 'login-throttled')).toBe(false)
  })

  it('follows loginThrottle: 2 failures within 60 s', async () => {
    const { attempt, clock, events } = setup({ loginThrottle: { failures: 2, window: 60 } })
    const user = newUser()
    await attempt(user, 'wrong')
    await attempt(user, 'wrong')
    expect(events.at(-1)).toMatchObject({ type: 'login-throttled', retryAfter: 60 })
    const res = await attempt(user, 'right')
    expect([res.status, res.headers.get('Retry-After')]).toEqual([429, '60'])
    clock.now += 60_000
    expect((await attempt(user, 'right')).status).toBe(200)
  })
})

describe('durableObjectStore({ loginThrottle: false })', () => {
  it('records failures and locks nothing; a lock made before it was turned off no longer holds', async () => {
    const user = newUser()
    const on = setup()
    for (let i = 0; i < 5; i++) await on.attempt(user, 'wrong')
    expect((await on.attempt(user, 'right')).status).toBe(429)

    const off = setup({ loginThrottle: false })
    for (let i = 0; i < 10; i++) expect((await off.attempt(user, 'wrong')).status).toBe(401)
    expect((await off.attempt(user, 'right')).status).toBe(200)
    expect(off.events.filter((e) => e.type === 'login-failed')).toHaveLength(10)
    expect(off.events.some((e) => e.type === 'login-throttled')).toBe(false)
  })

  it.each([
    ['loginThrottle', null],
    ['loginThrottle', 5],
    ['loginThrottle.failures', { failures: 0 }],
    ['loginThrottle.failures', { failures: 2.5 }],
    ['loginThrottle.failures', { failures: 1001 }],
    ['loginThrottle.window', { window: 0 }],
    ['loginThrottle.window', { window: '900' }],
    ['loginThrottle.window', { window: 604_801 }],
  ])('refuses %s = %j with INVALID_OPTION naming it', (option, value) => {
    expect(() =>
      durableObjectStore({
        namespace: env.SESSION_OBJECTS,
        loginThrottle: value as never,
      }),
    ).toThrow(`option "${option}"`)
  })
})

describe('session.loginFailed() on the KV and cookie stores', () => {
  it.each(['kv', 'cookie'] as const)(
    'on the %s store tells the hook login-failed and throttles nothing',
    async (store) => {
      const { attempt, events } = setup({ store })
      const user = newUser()
      for (let i = 0; i < 10; i++) expect((await attempt(user, 'wrong')).status).toBe(401)
      expect((await attempt(user, 'right')).status).toBe(200)
      expect(events.filter((e) => e.type === 'login-failed')).toHaveLength(10)
      expect(events[0]).toMatchObject({ type: 'login-failed', user, id: null, handle: null })
      expect(events.some((e) => e.type === 'login-throttled')).toBe(false)
    },
  )
})

describe('schema version 4', () => {
  it('adds login_failures to a database of version 3, keeping its rows', async () => {
    const stub = namedStub(`user:${newUser()}`)
    const after = await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql
      sql.exec('DROP TABLE login_failures')
      sql.exec('UPDATE meta SET schema_version = 3')
      sql.exec("INSERT INTO settings (name, value) VALUES ('kept', '1')")
      migrate(state.storage)
      return {
        version: sql.exec<{ v: number }>('SELECT schema_version AS v FROM meta').one().v,
        table: sql.exec("SELECT name FROM sqlite_master WHERE name = 'login_failures'").toArray()
          .length,
        kept: sql.exec("SELECT value FROM settings WHERE name = 'kept'").toArray(),
      }
    })
    expect(after).toEqual({ version: SCHEMA_VERSION, table: 1, kept: [{ value: '1' }] })
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(4)
  })
})
