/**
 * The per-user registry (issue 13, section 4) on the Durable Object store, through a
 * small app's JSON routes (`GET /sessions`, `DELETE /sessions/:handle`, `POST /sessions/
 * revoke-others`, `POST /sessions/revoke-all`) and the Session API; and what the stores
 * without a registry (KV, cookie) answer.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import {
  cookieStore,
  kvStore,
  SessionError,
  type Session,
  type SessionInfo,
  type SessionOptions,
} from '../src/session'
import type { SessionStore } from '../src/session/store'
import { durableObjectStore, type DurableObjectStoreOptions } from '../src/session/durable-object'
import { sha256Hex } from '../src/session/foundation/id'
import type { TestClient } from '../src/session/testing'
import { logIn, sessionApp, type SessionApp, users } from './helpers/app'
import { clearObjects, namedStub, rowOf, rowsIn, splitToken } from './helpers/do'
import { harness } from './helpers/harness'
import { setCookie } from './helpers/http'

const DAY = 86_400_000

let n = 0
const newUser = (): string => `reg-${++n}-${crypto.randomUUID().slice(0, 8)}`

/** The app's users: `POST /password` renews one's verifier. */
const people = users()

/** An app on the Durable Object store (with `store` options), users bound to their verifiers. */
function doApp(
  options: SessionOptions = {},
  store: Partial<DurableObjectStoreOptions> = {},
): SessionApp {
  return sessionApp(
    { store: durableObjectStore({ namespace: env.SESSION_OBJECTS, ...store }), ...options },
    { users: people },
  )
}

/** The app every test without a clock of its own uses; the locations of logins recorded. */
const app = doApp({}, { recordLocation: true })

/** A clock shared by the browsers of one test, a minute ahead of the real one (the alarm runs on the real one). */
function clockedApp(store: Partial<DurableObjectStoreOptions> = { recordLocation: true }): {
  app: SessionApp
  clock: { now: number }
} {
  const clock = { now: Math.ceil(Date.now() / 1000) * 1000 + 60_000 }
  return { app: doApp({ now: () => clock.now }, store), clock }
}

/** The user a fresh browser (of a fresh app) sending `token` finds. */
const replay = (token: string): Promise<string | null> => doApp().browserWith(token).user()

const list = async (b: TestClient): Promise<SessionInfo[]> => {
  const res = await b.get('/sessions')
  expect(res.status).toBe(200)
  return ((await res.json()) as { sessions: SessionInfo[] }).sessions
}

/** `{ revoked }` of a revocation route. */
const revoke = async (b: TestClient, method: 'POST' | 'DELETE', path: string): Promise<unknown> =>
  (await b.request(path, { method })).json()

beforeEach(async () => {
  await clearObjects()
})

describe('GET /sessions (listSessions())', () => {
  it("lists the user's sessions newest first: handle, created, last seen, expires, device, location; current marks the caller's", async () => {
    const { app, clock } = clockedApp()
    const user = newUser()
    const laptop = app.browser({
      userAgent: 'Firefox on Linux',
      cf: { country: 'DE', colo: 'FRA' },
    })
    const phone = app.browser({ userAgent: 'Safari on iPhone', cf: { country: 'JP', colo: 'NRT' } })
    const t0 = clock.now
    await logIn(laptop, user)
    clock.now += 1_000
    await logIn(phone, user)
    // Another user's session and an anonymous one are nobody's business here.
    await logIn(app.browser(), newUser())
    await app.browser().post('/session', { json: { a: 1 } })

    const fromLaptop = await list(laptop)
    const handle = /^[A-Za-z0-9_-]{22}$/
    expect(fromLaptop).toEqual([
      {
        handle: expect.stringMatching(handle),
        current: false,
        createdAt: t0 + 1_000,
        lastSeenAt: t0 + 1_000,
        expiresAt: t0 + 1_000 + 14 * DAY,
        device: {
          browser: null,
          os: 'iOS',
          type: 'mobile',
          model: null,
          label: 'A browser on iOS',
        },
        location: { country: 'JP', region: null, city: null, label: 'Japan' },
        userAgent: 'Safari on iPhone',
        country: 'JP',
        colo: 'NRT',
      },
      {
        handle: expect.stringMatching(handle),
        current: true,
        createdAt: t0,
        lastSeenAt: t0,
        expiresAt: t0 + 14 * DAY,
        device: {
          browser: null,
          os: 'Linux',
          type: 'desktop',
          model: null,
          label: 'A browser on Linux',
        },
        location: { country: 'DE', region: null, city: null, label: 'Germany' },
        userAgent: 'Firefox on Linux',
        country: 'DE',
        colo: 'FRA',
      },
    ])
    const fromPhone = await list(phone)
    expect(fromPhone.map((s) => [s.handle, s.current])).toEqual([
      [fromLaptop[0]!.handle, true],
      [fromLaptop[1]!.handle, false],
    ])
  })

  it('records no location unless the store is told to (recordLocation), and never for anonymous sessions', async () => {
    const user = newUser()
    const edge = { userAgent: 'Edge', cf: { country: 'FR', colo: 'CDG' } }
    const d = doApp().browser(edge)
    await logIn(d, user)
    expect(await list(d)).toMatchObject([{ userAgent: 'Edge', country: null, colo: null }])

    // A store told to records locations, but only of logged-in sessions.
    const anonymous = app.browser(edge)
    await anonymous.post('/session', { json: { a: 1 } })
    expect(await rowOf(anonymous.sessionCookie!)).toMatchObject({
      user: null,
      user_agent: 'Edge',
      country: null,
      colo: null,
    })
  })

  it('keeps at most 256 characters of the User-Agent', async () => {
    const d = app.browser({ userAgent: 'A'.repeat(300) })
    await logIn(d, newUser())
    expect((await list(d))[0]!.userAgent).toBe('A'.repeat(256))
  })

  it('marks the session seen at most once per lastSeenInterval (300 s): reads inside it write no row', async () => {
    const { app, clock } = clockedApp()
    const d = app.browser()
    const t0 = clock.now
    const token = await logIn(d, newUser())
    const atLogin = await rowOf(token)
    expect(atLogin).toMatchObject({ last_seen_at: t0 })

    for (const later of [1_000, 120_000, 299_999]) {
      clock.now = t0 + later
      expect((await d.get('/session')).status).toBe(200)
      expect(await rowOf(token), `read at +${later} ms`).toEqual(atLogin) // not one column written
    }
    clock.now = t0 + 300_000
    await d.get('/session')
    expect(await rowOf(token)).toEqual({ ...atLogin, last_seen_at: t0 + 300_000 })
    expect((await list(d))[0]!.lastSeenAt).toBe(t0 + 300_000)

    // The next read inside the interval writes nothing again.
    clock.now = t0 + 301_000
    await d.get('/whoami')
    expect((await rowOf(token))!.last_seen_at).toBe(t0 + 300_000)
  })

  it("follows the store's lastSeenInterval option", async () => {
    const { app, clock } = clockedApp({ lastSeenInterval: 10 })
    const d = app.browser()
    const t0 = clock.now
    const token = await logIn(d, newUser())
    clock.now = t0 + 9_999
    await d.get('/whoami')
    expect((await rowOf(token))!.last_seen_at).toBe(t0)
    clock.now = t0 + 10_000
    await d.get('/whoami')
    expect((await rowOf(token))!.last_seen_at).toBe(t0 + 10_000)
  })
})

describe('DELETE /sessions/:handle (revokeSession())', () => {
  it('revokes another device at once; the caller stays; an unknown handle is { revoked: false }', async () => {
    const user = newUser()
    const laptop = app.browser()
    const phone = app.browser()
    const laptopToken = await logIn(laptop, user)
    await logIn(phone, user)
    const handle = (await list(phone)).find((s) => !s.current)!.handle

    const res = await phone.delete(`/sessions/${handle}`)
    expect(await res.json()).toEqual({ revoked: true })
    expect(res.headers.getSetCookie()).toEqual([])
    expect(await replay(laptopToken)).toBeNull()
    expect(await phone.user()).toBe(user)
    expect((await list(phone)).map((s) => s.current)).toEqual([true])

    expect(await revoke(phone, 'DELETE', `/sessions/${handle}`)).toEqual({ revoked: false })
    expect(await revoke(phone, 'DELETE', '/sessions/nope')).toEqual({ revoked: false })
  })

  it("revokes the caller's own session when it names its handle, deleting its cookie", async () => {
    const user = newUser()
    const d = app.browser()
    const token = await logIn(d, user)
    const own = (await list(d))[0]!.handle
    const res = await d.delete(`/sessions/${own}`)
    expect(await res.json()).toEqual({ revoked: true })
    expect(setCookie(res, 'sessionid')?.attrs['max-age']).toBe('0')
    expect(await replay(token)).toBeNull()
    expect(await rowsIn(namedStub(`user:${user}`))).toEqual([])
  })

  it("cannot revoke another user's session with its handle", async () => {
    const victim = app.browser()
    const victimUser = newUser()
    await logIn(victim, victimUser)
    const handle = (await list(victim))[0]!.handle
    const attacker = app.browser()
    await logIn(attacker, newUser())
    expect(await revoke(attacker, 'DELETE', `/sessions/${handle}`)).toEqual({ revoked: false })
    expect(await victim.user()).toBe(victimUser)
  })
})

describe('POST /sessions/revoke-others and /sessions/revoke-all', () => {
  it('revoke-others ends every other device at once and keeps the caller', async () => {
    const user = newUser()
    const [a, b, c] = [app.browser(), app.browser(), app.browser()]
    await logIn(a, user)
    const others = [await logIn(b, user), await logIn(c, user)]
    expect(await revoke(a, 'POST', '/sessions/revoke-others')).toEqual({ revoked: 2 })
    for (const token of others) expect(await replay(token)).toBeNull()
    expect(await a.user()).toBe(user)
    expect((await list(a)).map((s) => s.current)).toEqual([true])
    expect(await revoke(a, 'POST', '/sessions/revoke-others')).toEqual({ revoked: 0 })
  })

  it("revoke-all ends every device, the caller's included, and deletes its cookie", async () => {
    const user = newUser()
    const [a, b] = [app.browser(), app.browser()]
    const tokens = [await logIn(a, user), await logIn(b, user)]
    const res = await a.post('/sessions/revoke-all')
    expect(await res.json()).toEqual({ revoked: 2 })
    expect(setCookie(res, 'sessionid')?.attrs['max-age']).toBe('0')
    for (const token of tokens) expect(await replay(token)).toBeNull()
    expect(await rowsIn(namedStub(`user:${user}`))).toEqual([])
  })
})

describe('registry calls after login(), cycleKey() or updateAuthHash() in the same request', () => {
  /** Two browsers of one user on the DO store, with a verifier the test changes ("the password"). */
  async function twoBrowsers(): Promise<{
    h: ReturnType<typeof harness>
    other: ReturnType<typeof harness>
    user: string
    password: { value: string }
  }> {
    const user = newUser()
    const password = { value: 'first' }
    const options = {
      store: durableObjectStore({ namespace: env.SESSION_OBJECTS }),
      authHash: () => password.value,
    }
    const h = harness(options, { start: Date.now() })
    const other = harness(options, { start: Date.now() })
    await h.run(async (s) => s.login(user))
    await other.run(async (s) => s.login(user))
    return { h, other, user, password }
  }

  it('change the password and log out the other devices: updateAuthHash() then revokeOtherSessions() keeps this session', async () => {
    const { h, other, user, password } = await twoBrowsers()
    const { res, body } = await h.run(async (s) => {
      await s.getUser()
      password.value = 'second'
      await s.updateAuthHash()
      return s.revokeOtherSessions()
    })
    expect(res.status).toBe(200)
    expect(body).toBe(1)
    expect((await h.run(async (s) => s.getUser())).body).toBe(user)
    expect((await other.run(async (s) => s.getUser())).body).toBeNull()
    expect(await rowsIn(namedStub(`user:${user}`))).toHaveLength(1)
  })

  it('login() again then revokeOtherSessions() keeps this device logged in', async () => {
    const { h, other, user } = await twoBrowsers()
    const { res, body } = await h.run(async (s) => {
      await s.login(user)
      return s.revokeOtherSessions()
    })
    expect(res.status).toBe(200)
    expect(body).toBe(1)
    expect((await h.run(async (s) => s.getUser())).body).toBe(user)
    expect((await other.run(async (s) => s.getUser())).body).toBeNull()
  })

  it("listSessions() after cycleKey() marks this device's session as current", async () => {
    const { h } = await twoBrowsers()
    const { body } = await h.run(async (s) => {
      await s.cycleKey()
      return (await s.listSessions()).map((info) => info.current).sort()
    })
    expect(body).toEqual([false, true])
  })
})

describe('after a password change (authHash)', () => {
  it('lists only the sessions bound to the new verifier: the logged-out ones are gone from the list and from storage', async () => {
    const user = newUser()
    const { app } = clockedApp()
    const mine = app.browser({ userAgent: 'mine' })
    const others = [app.browser({ userAgent: 'other 1' }), app.browser({ userAgent: 'other 2' })]
    await logIn(mine, user)
    for (const d of others) await logIn(d, user)
    expect(await list(mine)).toHaveLength(3)

    expect((await mine.post('/password')).status).toBe(200)
    // The other devices have not made a request since; they are logged out all the same.
    const after = await list(mine)
    expect(after.map((s) => [s.userAgent, s.current])).toEqual([['mine', true]])
    expect(await rowsIn(namedStub(`user:${user}`))).toHaveLength(1)
    for (const d of others) expect(await d.user()).toBeNull()
  })
})

describe('a session moved to a new key in its object', () => {
  it.each([
    ['cycleKey()', '/cycle'],
    ['updateAuthHash()', '/password'],
  ])(
    'keeps its handle through %s, so a revocation by handle still finds it',
    async (_what, path) => {
      const user = newUser()
      const { app } = clockedApp()
      const phone = app.browser()
      await logIn(phone, user)
      const before = (await list(phone)).find((s) => s.current)!.handle
      const token = phone.sessionCookie
      expect((await phone.post(path)).status).toBe(200)
      expect(phone.sessionCookie).not.toBe(token)
      const after = await list(phone)
      expect(after.map((s) => [s.handle, s.current])).toEqual([[before, true]])
      expect(await revoke(phone, 'DELETE', `/sessions/${before}`)).toEqual({ revoked: true })
      expect(await phone.user()).toBeNull()
    },
  )
})

describe('handles', () => {
  it('cannot be turned into a token: the list shows neither ids nor their hashes, and a handle as a cookie is no session', async () => {
    const user = newUser()
    const d = app.browser()
    const token = await logIn(d, user)
    await logIn(app.browser(), user)
    const text = await (await d.get('/sessions')).text()
    const { id, object } = splitToken(token)
    expect(text).not.toContain(id)
    expect(text).not.toContain(await sha256Hex(id))
    for (const { handle } of await list(d)) {
      expect(token).not.toContain(handle)
      const row = (await rowsIn(namedStub(`user:${user}`))).find((r) => r.handle === handle)!
      expect(row.hash).not.toBe(await sha256Hex(handle))
      for (const cookie of [handle, `${handle}.${object}`, `${handle.padEnd(43, 'A')}.${object}`]) {
        expect(await replay(cookie), cookie).toBeNull()
      }
    }
  })
})

/** The four registry routes of the app. */
const ROUTES: [string, string][] = [
  ['GET', '/sessions'],
  ['DELETE', '/sessions/some-handle'],
  ['POST', '/sessions/revoke-others'],
  ['POST', '/sessions/revoke-all'],
]

describe.each([
  ['kv', () => kvStore({ namespace: env.SESSIONS })],
  ['cookie', () => cookieStore({ secret: 'edge-session registry test secret, 32+ bytes long' })],
])('on the %s store (no registry)', (_name, store) => {
  const noRegistry = sessionApp({ store: store() })

  it.each(ROUTES)(
    '%s %s answers 501 NOT_SUPPORTED, logged in or not, and changes nothing',
    async (method, path) => {
      const user = newUser()
      const d = noRegistry.browser()
      await logIn(d, user)
      for (const client of [d, noRegistry.browser()]) {
        const res = await client.request(path, { method })
        expect(res.status).toBe(501)
        expect(await res.json()).toEqual({
          code: 'NOT_SUPPORTED',
          error: expect.stringContaining('keeps no per-user registry'),
        })
        expect(res.headers.getSetCookie()).toEqual([])
      }
      expect(await d.user()).toBe(user)
    },
  )
})

describe('the Session API without a registry', () => {
  const calls: [string, (s: Session) => Promise<unknown>][] = [
    ['listSessions()', (s) => s.listSessions()],
    ['revokeSession()', (s) => s.revokeSession('h')],
    ['revokeOtherSessions()', (s) => s.revokeOtherSessions()],
    ['revokeAllSessions()', (s) => s.revokeAllSessions()],
  ]
  const stores: [string, SessionStore][] = [
    ['kvStore', kvStore({ namespace: env.SESSIONS })],
    ['cookieStore', cookieStore({ secret: 'edge-session registry test secret, 32+ bytes long' })],
  ]
  describe.each(stores)('%s', (_name, store) => {
    it.each(calls)('%s rejects with SessionError NOT_SUPPORTED (501)', async (_call, call) => {
      const h = harness({ store }, { start: Date.now() })
      await h.run(async (s) => s.login('raju'))
      const { body } = await h.run(async (s) => {
        const error = await call(s).catch((e: unknown) => e)
        return error instanceof SessionError
          ? { code: error.code, status: error.status }
          : { unexpected: String(error) }
      })
      expect(body).toEqual({ code: 'NOT_SUPPORTED', status: 501 })
    })
  })
})

describe('on the Durable Object store, without a login', () => {
  it.each(ROUTES)(
    '%s %s answers 401 NOT_LOGGED_IN, with or without an anonymous session, which stays as it was',
    async (method, path) => {
      const anonymous = app.browser()
      await anonymous.post('/session', { json: { cart: ['book'] } })
      const row = await rowOf(anonymous.sessionCookie!)
      for (const client of [anonymous, app.browser()]) {
        const res = await client.request(path, { method })
        expect(res.status).toBe(401)
        expect(await res.json()).toEqual({
          code: 'NOT_LOGGED_IN',
          error: expect.stringContaining('not logged in'),
        })
        expect(res.headers.getSetCookie()).toEqual([])
      }
      expect(await rowOf(anonymous.sessionCookie!)).toEqual(row)
    },
  )
})
