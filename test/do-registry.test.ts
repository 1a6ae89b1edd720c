/**
 * The per-user registry (issue 13, section 4) on the Durable Object store, through the
 * demo's JSON routes (`GET /sessions`, `DELETE /sessions/:handle`, `POST /sessions/revoke-
 * others`, `POST /sessions/revoke-all`) and the Session API; and what the stores without a
 * registry (KV, cookie) answer.
 */
import { env } from 'cloudflare:test'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp } from '../src/app'
import { cookieStore, kvStore, SessionError, type Session, type SessionStore } from '../src/session'
import { durableObjectStore } from '../src/session/durable-object'
import { sha256Hex } from '../src/session/foundation/id'
import { device, deviceWith, type Device } from './helpers/demo'
import { clearObjects, namedStub, rowOf, rowsIn, splitToken } from './helpers/do'
import { harness } from './helpers/harness'
import { json, setCookie } from './helpers/http'

const DO = { ...env, SESSION_STORE: 'do' }
const DAY = 86_400_000

let users = 0
const newUser = (): string => `reg-${++users}-${crypto.randomUUID().slice(0, 8)}`

/** What `GET /sessions` answers for one session. */
interface View {
  handle: string
  current: boolean
  createdAt: string
  lastSeenAt: string
  expiresAt: string
  userAgent: string | null
  country: string | null
  colo: string | null
}

/** A clock shared by the devices of one test, a minute ahead of the real one (the alarm runs on the real one). */
function clockedApp(options: Parameters<typeof createApp>[0] = {}): {
  app: ReturnType<typeof createApp>
  clock: { now: number }
} {
  const clock = { now: Math.ceil(Date.now() / 1000) * 1000 + 60_000 }
  return { app: createApp({ now: () => clock.now, ...options }), clock }
}

const list = async (d: Device): Promise<View[]> => {
  const { res, body } = await d.call<{ sessions: View[] }>('/sessions')
  expect(res.status).toBe(200)
  return body.sessions
}

const iso = (ms: number): string => new Date(ms).toISOString()

beforeEach(async () => {
  await clearObjects()
})

afterEach(() => {
  vi.restoreAllMocks()
})

describe('GET /sessions (listSessions())', () => {
  it("lists the user's sessions newest first: handle, created, last seen, expires, device, location; current marks the caller's", async () => {
    const { app, clock } = clockedApp()
    const user = newUser()
    const laptop = device(DO, {
      app,
      userAgent: 'Firefox on Linux',
      cf: { country: 'DE', colo: 'FRA' },
    })
    const phone = device(DO, {
      app,
      userAgent: 'Safari on iPhone',
      cf: { country: 'JP', colo: 'NRT' },
    })
    const t0 = clock.now
    await laptop.login(user)
    clock.now += 1_000
    await phone.login(user)
    // Another user's session and an anonymous one are nobody's business here.
    await device(DO, { app }).login(newUser())
    await device(DO, { app }).call('/session', json('POST', { a: 1 }))

    const fromLaptop = await list(laptop)
    const handle = /^[A-Za-z0-9_-]{22}$/
    expect(fromLaptop).toEqual([
      {
        handle: expect.stringMatching(handle),
        current: false,
        createdAt: iso(t0 + 1_000),
        lastSeenAt: iso(t0 + 1_000),
        expiresAt: iso(t0 + 1_000 + 14 * DAY),
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
        createdAt: iso(t0),
        lastSeenAt: iso(t0),
        expiresAt: iso(t0 + 14 * DAY),
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
    const app = createApp({ store: durableObjectStore({ namespace: env.SESSION_OBJECTS }) })
    const d = device(DO, { app, userAgent: 'Edge', cf: { country: 'FR', colo: 'CDG' } })
    await d.login(user)
    expect(await list(d)).toMatchObject([{ userAgent: 'Edge', country: null, colo: null }])

    // The demo's store records locations, but only of logged-in sessions.
    const anonymous = device(DO, { userAgent: 'Edge', cf: { country: 'FR', colo: 'CDG' } })
    await anonymous.call('/session', json('POST', { a: 1 }))
    expect(await rowOf(anonymous.token!)).toMatchObject({
      user: null,
      user_agent: 'Edge',
      country: null,
      colo: null,
    })
  })

  it('keeps at most 256 characters of the User-Agent', async () => {
    const d = device(DO, { userAgent: 'A'.repeat(300) })
    await d.login(newUser())
    expect((await list(d))[0]!.userAgent).toBe('A'.repeat(256))
  })

  it('marks the session seen at most once per lastSeenInterval (300 s): reads inside it write no row', async () => {
    const { app, clock } = clockedApp()
    const d = device(DO, { app })
    const t0 = clock.now
    const token = await d.login(newUser())
    const atLogin = await rowOf(token)
    expect(atLogin).toMatchObject({ last_seen_at: t0 })

    for (const later of [1_000, 120_000, 299_999]) {
      clock.now = t0 + later
      expect((await d.call('/session')).res.status).toBe(200)
      expect(await rowOf(token), `read at +${later} ms`).toEqual(atLogin) // not one column written
    }
    clock.now = t0 + 300_000
    await d.call('/session')
    expect(await rowOf(token)).toEqual({ ...atLogin, last_seen_at: t0 + 300_000 })
    expect((await list(d))[0]!.lastSeenAt).toBe(iso(t0 + 300_000))

    // The next read inside the interval writes nothing again.
    clock.now = t0 + 301_000
    await d.call('/whoami')
    expect((await rowOf(token))!.last_seen_at).toBe(t0 + 300_000)
  })

  it("follows the store's lastSeenInterval option", async () => {
    const clock = { now: Date.now() + 60_000 }
    const app = createApp({
      now: () => clock.now,
      store: durableObjectStore({ namespace: env.SESSION_OBJECTS, lastSeenInterval: 10 }),
    })
    const d = device(DO, { app })
    const t0 = clock.now
    const token = await d.login(newUser())
    clock.now = t0 + 9_999
    await d.call('/whoami')
    expect((await rowOf(token))!.last_seen_at).toBe(t0)
    clock.now = t0 + 10_000
    await d.call('/whoami')
    expect((await rowOf(token))!.last_seen_at).toBe(t0 + 10_000)
  })
})

describe('DELETE /sessions/:handle (revokeSession())', () => {
  it('revokes another device at once; the caller stays; an unknown handle is { revoked: false }', async () => {
    const user = newUser()
    const laptop = device(DO)
    const phone = device(DO)
    const laptopToken = await laptop.login(user)
    await phone.login(user)
    const handle = (await list(phone)).find((s) => !s.current)!.handle

    const res = await phone.call(`/sessions/${handle}`, { method: 'DELETE' })
    expect(res.body).toEqual({ revoked: true })
    expect(res.res.headers.getSetCookie()).toEqual([])
    expect(await deviceWith(DO, laptopToken).whoami()).toBeNull()
    expect(await phone.whoami()).toBe(user)
    expect((await list(phone)).map((s) => s.current)).toEqual([true])

    expect((await phone.call(`/sessions/${handle}`, { method: 'DELETE' })).body).toEqual({
      revoked: false,
    })
    expect((await phone.call('/sessions/nope', { method: 'DELETE' })).body).toEqual({
      revoked: false,
    })
  })

  it("revokes the caller's own session when it names its handle, deleting its cookie", async () => {
    const user = newUser()
    const d = device(DO)
    const token = await d.login(user)
    const own = (await list(d))[0]!.handle
    const { res, body } = await d.call(`/sessions/${own}`, { method: 'DELETE' })
    expect(body).toEqual({ revoked: true })
    expect(setCookie(res, 'sessionid')?.attrs['max-age']).toBe('0')
    expect(await deviceWith(DO, token).whoami()).toBeNull()
    expect(await rowsIn(namedStub(`user:${user}`))).toEqual([])
  })

  it("cannot revoke another user's session with its handle", async () => {
    const victim = device(DO)
    const victimUser = newUser()
    await victim.login(victimUser)
    const handle = (await list(victim))[0]!.handle
    const attacker = device(DO)
    await attacker.login(newUser())
    expect((await attacker.call(`/sessions/${handle}`, { method: 'DELETE' })).body).toEqual({
      revoked: false,
    })
    expect(await victim.whoami()).toBe(victimUser)
  })
})

describe('POST /sessions/revoke-others and /sessions/revoke-all', () => {
  it('revoke-others ends every other device at once and keeps the caller', async () => {
    const user = newUser()
    const [a, b, c] = [device(DO), device(DO), device(DO)]
    await a.login(user)
    const others = [await b.login(user), await c.login(user)]
    expect((await a.call('/sessions/revoke-others', { method: 'POST' })).body).toEqual({
      revoked: 2,
    })
    for (const token of others) expect(await deviceWith(DO, token).whoami()).toBeNull()
    expect(await a.whoami()).toBe(user)
    expect((await list(a)).map((s) => s.current)).toEqual([true])
    expect((await a.call('/sessions/revoke-others', { method: 'POST' })).body).toEqual({
      revoked: 0,
    })
  })

  it("revoke-all ends every device, the caller's included, and deletes its cookie", async () => {
    const user = newUser()
    const [a, b] = [device(DO), device(DO)]
    const tokens = [await a.login(user), await b.login(user)]
    const { res, body } = await a.call('/sessions/revoke-all', { method: 'POST' })
    expect(body).toEqual({ revoked: 2 })
    expect(setCookie(res, 'sessionid')?.attrs['max-age']).toBe('0')
    for (const token of tokens) expect(await deviceWith(DO, token).whoami()).toBeNull()
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
    const mine = device(DO, { app, userAgent: 'mine' })
    const others = [
      device(DO, { app, userAgent: 'other 1' }),
      device(DO, { app, userAgent: 'other 2' }),
    ]
    await mine.login(user)
    for (const d of others) await d.login(user)
    expect(await list(mine)).toHaveLength(3)

    expect((await mine.call('/password', { method: 'POST' })).res.status).toBe(200)
    // The other devices have not made a request since; they are logged out all the same.
    const after = await list(mine)
    expect(after.map((s) => [s.userAgent, s.current])).toEqual([['mine', true]])
    expect(await rowsIn(namedStub(`user:${user}`))).toHaveLength(1)
    for (const d of others) expect(await d.whoami()).toBeNull()
  })
})

describe('a session moved to a new key in its object', () => {
  it.each([
    ['cycleKey()', '/session/cycle'],
    ['updateAuthHash()', '/password'],
  ])(
    'keeps its handle through %s, so a revocation by handle still finds it',
    async (_what, path) => {
      const user = newUser()
      const { app } = clockedApp()
      const phone = device(DO, { app })
      await phone.login(user)
      const before = (await list(phone)).find((s) => s.current)!.handle
      const token = phone.token
      expect((await phone.send(path, { method: 'POST' })).status).toBe(200)
      expect(phone.token).not.toBe(token)
      const after = await list(phone)
      expect(after.map((s) => [s.handle, s.current])).toEqual([[before, true]])
      expect((await phone.call(`/sessions/${before}`, { method: 'DELETE' })).body).toEqual({
        revoked: true,
      })
      expect(await phone.whoami()).toBeNull()
    },
  )
})

describe('handles', () => {
  it('cannot be turned into a token: the list shows neither ids nor their hashes, and a handle as a cookie is no session', async () => {
    const user = newUser()
    const d = device(DO)
    const token = await d.login(user)
    await device(DO).login(user)
    const text = await (await d.send('/sessions')).text()
    const { id, object } = splitToken(token)
    expect(text).not.toContain(id)
    expect(text).not.toContain(await sha256Hex(id))
    for (const { handle } of await list(d)) {
      expect(token).not.toContain(handle)
      const row = (await rowsIn(namedStub(`user:${user}`))).find((r) => r.handle === handle)!
      expect(row.hash).not.toBe(await sha256Hex(handle))
      for (const cookie of [handle, `${handle}.${object}`, `${handle.padEnd(43, 'A')}.${object}`]) {
        expect(await deviceWith(DO, cookie).whoami(), cookie).toBeNull()
      }
    }
  })
})

/** The four registry routes. */
const ROUTES: [string, string][] = [
  ['GET', '/sessions'],
  ['DELETE', '/sessions/some-handle'],
  ['POST', '/sessions/revoke-others'],
  ['POST', '/sessions/revoke-all'],
]

describe.each(['kv', 'cookie'])('on the %s store (no registry)', (store) => {
  const bindings = { ...env, SESSION_STORE: store }

  it.each(ROUTES)(
    '%s %s answers 501 NOT_SUPPORTED, logged in or not, and changes nothing',
    async (method, path) => {
      const user = newUser()
      const d = device(bindings)
      await d.login(user)
      for (const client of [d, device(bindings)]) {
        const res = await client.send(path, { method })
        expect(res.status).toBe(501)
        expect(await res.json()).toEqual({
          code: 'NOT_SUPPORTED',
          error: expect.stringContaining('keeps no per-user registry'),
        })
        expect(res.headers.getSetCookie()).toEqual([])
      }
      expect(await d.whoami()).toBe(user)
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
      const anonymous = device(DO)
      await anonymous.call('/session', json('POST', { cart: ['book'] }))
      const row = await rowOf(anonymous.token!)
      for (const client of [anonymous, device(DO)]) {
        const res = await client.send(path, { method })
        expect(res.status).toBe(401)
        expect(await res.json()).toEqual({
          code: 'NOT_LOGGED_IN',
          error: expect.stringContaining('not logged in'),
        })
        expect(res.headers.getSetCookie()).toEqual([])
      }
      expect(await rowOf(anonymous.token!)).toEqual(row)
    },
  )
})
