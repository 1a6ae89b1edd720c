/**
 * The user binding (Django's login(), get_user()'s session auth hash check and
 * update_session_auth_hash()) and the absolute timeout, through the middleware on the
 * KV and the cookie store.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { cookieStore, type SessionError, type SessionOptions } from '../src/session'
import { kvKeyFor } from '../src/session/stores/kv'
import type { SessionStore } from '../src/session/store'
import { durableObjectStore } from '../src/session/durable-object'
import { sha256Hex } from '../src/session/foundation/id'
import { logIn, type SessionApp, sessionApp, users } from './helpers/app'
import { harness, storedRecords, T0 } from './helpers/harness'
import { setCookie } from './helpers/http'
import { clearKV } from './helpers/kv'
import { storeUnderTest } from './helpers/stores'

const SECRET = 'edge-session auth test secret, 32 bytes or more'

beforeEach(async () => {
  await clearKV(env.SESSIONS)
})

/** Each user's current verifier (a stand-in for a password hash). */
const verifiers = new Map<string, string>()
const authHash: NonNullable<SessionOptions['authHash']> = (_c, user) => verifiers.get(user) ?? null

const stores: [string, () => SessionStore | undefined][] = [
  ['KV', () => undefined],
  ['cookie', () => cookieStore({ secret: SECRET })],
]

describe.each(stores)('login() on the %s store', (_name, store) => {
  const make = (options: SessionOptions = {}) => {
    const s = store()
    return harness(s === undefined ? options : { ...options, store: s })
  }

  beforeEach(() => {
    verifiers.clear()
    verifiers.set('ada', 'ada-v1')
    verifiers.set('bob', 'bob-v1')
  })

  it('cycles the key and binds the user beside the data, kept without any data', async () => {
    const h = make({ authHash })
    await h.run(async (s) => s.set('cart', [1]))
    const anonymous = h.cookies.get('sessionid')
    await h.run(async (s) => s.login('ada'))
    expect(h.cookies.get('sessionid')).not.toBe(anonymous)
    expect((await h.run(async (s) => [await s.getUser(), await s.toObject()])).body).toEqual([
      'ada',
      { cart: [1] },
    ])
    // A logged-in session with no data at all is still a session.
    await h.run(async (s) => s.delete('cart'))
    expect((await h.run(async (s) => s.getUser())).body).toBe('ada')
  })

  it('empties a session bound to another user first (Django flushes it)', async () => {
    const h = make({ authHash })
    await h.run(async (s) => {
      await s.login('ada')
      await s.set('secret', 'ada only')
    })
    await h.run(async (s) => s.login('bob'))
    expect((await h.run(async (s) => [await s.getUser(), await s.toObject()])).body).toEqual([
      'bob',
      {},
    ])
  })

  it("logs a session out once the user's verifier changes, and keeps it while it does not", async () => {
    const a = make({ authHash })
    const b = make({ authHash })
    await a.run(async (s) => s.login('ada'))
    await b.run(async (s) => s.login('ada'))
    expect((await b.run(async (s) => s.getUser())).body).toBe('ada')

    // "Change password" in browser A, keeping A's session (update_session_auth_hash): the
    // session is read (the user checked) before the credentials change, as a view does.
    await a.run(async (s) => {
      expect(await s.getUser()).toBe('ada')
      verifiers.set('ada', 'ada-v2')
      await s.updateAuthHash()
    })
    expect((await a.run(async (s) => s.getUser())).body).toBe('ada')

    // Browser B is logged out on its next request; its cookie goes.
    const { res, body } = await b.run(async (s) => s.getUser())
    expect(body).toBeNull()
    expect(res.headers.getSetCookie().join()).toMatch(/sessionid=; Max-Age=0/)
  })

  it('logs every session of a deleted user out (the verifier is gone)', async () => {
    const h = make({ authHash })
    await h.run(async (s) => s.login('ada'))
    verifiers.delete('ada')
    expect((await h.run(async (s) => s.getUser())).body).toBeNull()
  })

  it('without authHash, binds the user only: no verifier to compare', async () => {
    const h = make()
    await h.run(async (s) => s.login('ada'))
    verifiers.set('ada', 'changed')
    expect((await h.run(async (s) => s.getUser())).body).toBe('ada')
  })

  it('clear() and flush() log out, and a logged-out session does not keep the old key', async () => {
    const h = make({ authHash })
    await h.run(async (s) => s.login('ada'))
    const before = h.cookies.get('sessionid')
    await h.run(async (s) => {
      await s.clear()
      await s.set('theme', 'dark')
    })
    expect(h.cookies.get('sessionid')).not.toBe(before)
    expect((await h.run(async (s) => [await s.getUser(), await s.get('theme')])).body).toEqual([
      null,
      'dark',
    ])
    await h.run(async (s) => s.login('ada'))
    await h.run(async (s) => s.flush())
    expect((await h.run(async (s) => s.getUser())).body).toBeNull()
  })

  it.each([
    ['an empty user id', ''],
    ['a 257-character id', 'u'.repeat(257)],
  ])('login() refuses %s with INVALID_VALUE', async (_what, user) => {
    const h = make()
    const { body } = await h.run(async (s) =>
      s.login(user).then(
        () => 'ok',
        (e: SessionError) => e.code,
      ),
    )
    expect(body).toBe('INVALID_VALUE')
  })

  it('login() refuses a user authHash knows nothing of, and updateAuthHash() a session with no user', async () => {
    const h = make({ authHash })
    expect(
      (
        await h.run(async (s) =>
          s.login('nobody').then(
            () => 'ok',
            (e: SessionError) => e.code,
          ),
        )
      ).body,
    ).toBe('INVALID_VALUE')
    expect(
      (
        await h.run(async (s) =>
          s.updateAuthHash().then(
            () => 'ok',
            (e: SessionError) => e.code,
          ),
        )
      ).body,
    ).toBe('NOT_LOGGED_IN')
  })
})

describe('what the KV record keeps of the user', () => {
  it('the user id and the SHA-256 of the verifier, never the verifier itself', async () => {
    verifiers.set('ada', 'a password hash, say')
    const h = harness({ authHash })
    await h.run(async (s) => s.login('ada'))
    const [record] = await storedRecords()
    expect(record?.value).toMatchObject({
      data: {},
      auth: { user: 'ada', hash: await sha256Hex('a password hash, say') },
      createdAt: T0,
    })
    expect(JSON.stringify(record?.value)).not.toContain('a password hash, say')
  })

  it('deletes the record of a session whose verifier changed (one read of it, then the delete)', async () => {
    verifiers.set('ada', 'v1')
    const h = harness({ authHash })
    await h.run(async (s) => s.login('ada'))
    const id = h.cookies.get('sessionid') as string
    verifiers.set('ada', 'v2')
    h.kv.reset()
    await h.run(async (s) => s.getUser())
    expect(h.kv.counts).toMatchObject({ reads: 1, deletes: 1 })
    expect(await env.SESSIONS.get(await kvKeyFor(id))).toBeNull()
  })
})

describe('absoluteMaxAge', () => {
  const HOUR = 3600_000

  it('ends a session at its creation plus absoluteMaxAge, however active; neither rolling nor cycleKey() extends it', async () => {
    const h = harness({
      maxAge: 3600,
      rolling: { threshold: 0.1, minInterval: 0 },
      absoluteMaxAge: 3 * 3600,
    })
    await h.run(async (s) => s.set('n', 1))
    for (let i = 1; i <= 5; i++) {
      h.clock.now = T0 + (i * HOUR) / 2
      const { res, body } = await h.run(async (s) => {
        if (i === 3) await s.cycleKey()
        return [await s.get('n'), await s.getExpiryAge()]
      })
      // The cookie and the record never outlive the absolute end.
      const remaining = (T0 + 3 * HOUR - h.clock.now) / 1000
      expect(body).toEqual([1, Math.min(3600, remaining)])
      const maxAge = res.headers
        .getSetCookie()
        .join()
        .match(/Max-Age=(\d+)/)?.[1]
      if (maxAge !== undefined) expect(Number(maxAge)).toBeLessThanOrEqual(remaining)
    }
    h.clock.now = T0 + 3 * HOUR
    expect((await h.run(async (s) => s.get('n'))).body).toBeNull()
  })

  it('restarts at login(): an authenticated session is a new one', async () => {
    const h = harness({ absoluteMaxAge: 3600 })
    await h.run(async (s) => s.set('n', 1))
    h.clock.now = T0 + 1800_000
    await h.run(async (s) => s.login('ada'))
    // Counted from the login at T0 + 1800 s, not from T0: alive past T0 + 3600 s.
    h.clock.now = T0 + 4000_000
    expect((await h.run(async (s) => [await s.getUser(), await s.getExpiryAge()])).body).toEqual([
      'ada',
      1400,
    ])
    h.clock.now = T0 + 5400_000
    expect((await h.run(async (s) => s.getUser())).body).toBeNull()
  })

  it('reads a record of 0.1 (no createdAt) as created at its last save, so the upgrade ends nothing early', async () => {
    const h = harness({ maxAge: 7200, absoluteMaxAge: 3600 })
    const id = 'A'.repeat(43)
    // Saved at T0 by 0.1: expiresAt = T0 + maxAge, no createdAt, no auth.
    await env.SESSIONS.put(
      await kvKeyFor(id),
      JSON.stringify({ v: 1, data: { n: 1 }, expiry: null, expiresAt: T0 + 7200_000 }),
    )
    h.cookies.set('sessionid', id)
    h.clock.now = T0 + 3599_000
    expect((await h.run(async (s) => [await s.get('n'), await s.getExpiryAge()])).body).toEqual([
      1, 1,
    ])
    h.clock.now = T0 + 3600_000
    expect((await h.run(async (s) => s.get('n'))).body).toBeNull()
  })

  it('refuses a non-integer or non-positive absoluteMaxAge at construction', () => {
    for (const absoluteMaxAge of [0, -1, 1.5, Number.NaN]) {
      expect(() => harness({ absoluteMaxAge })).toThrow(/absoluteMaxAge/)
    }
  })
})

describe('the registry on stores without one', () => {
  it.each(stores)(
    'on the %s store, listSessions() and the revocations throw NOT_SUPPORTED',
    async (_name, store) => {
      const s = store()
      const h = harness(s === undefined ? {} : { store: s })
      await h.run(async (session) => session.login('ada'))
      const { body } = await h.run(async (session) => {
        const codes: string[] = []
        for (const call of [
          () => session.listSessions(),
          () => session.revokeSession('x'),
          () => session.revokeOtherSessions(),
          () => session.revokeAllSessions(),
        ]) {
          await call().then(
            () => codes.push('ok'),
            (e: SessionError) => codes.push(e.code),
          )
        }
        return codes
      })
      expect(body).toEqual(['NOT_SUPPORTED', 'NOT_SUPPORTED', 'NOT_SUPPORTED', 'NOT_SUPPORTED'])
    },
  )

  it('refuses before reading the session: a registry call on KV costs no KV operation', async () => {
    const h = harness()
    await h.run(async (s) => s.login('ada'))
    h.kv.reset()
    const { body } = await h.run(async (s) =>
      s.listSessions().then(
        () => 'ok',
        (e: SessionError) => e.code,
      ),
    )
    expect(body).toBe('NOT_SUPPORTED')
    expect(h.kv.counts).toEqual({ reads: 0, writes: 0, deletes: 0, lists: 0 })
  })
})

describe.each<['kv' | 'cookie' | 'do', () => SessionStore | undefined]>([
  ['kv', () => undefined],
  ['cookie', () => cookieStore({ secret: SECRET })],
  ['do', () => durableObjectStore({ namespace: env.SESSION_OBJECTS })],
])('a password change (updateAuthHash()) over HTTP on the %s store', (name, store) => {
  const server = name === 'cookie' ? null : storeUnderTest(name)
  const people = users()
  const app = (): SessionApp => {
    const s = store()
    return sessionApp(s === undefined ? {} : { store: s }, { users: people })
  }
  let n = 0
  const newUser = (): string => `pw-${++n}-${crypto.randomUUID().slice(0, 8)}`

  beforeEach(async () => {
    await server?.clear()
  })

  it('logs the other browser out on its next request and keeps the first logged in', async () => {
    const user = newUser()
    const a = app()
    const [first, second] = [a.browser(), a.browser()]
    const firstBefore = await logIn(first, user)
    const secondToken = await logIn(second, user)
    expect(await second.user()).toBe(user)

    const res = await first.post('/password')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ user })
    // updateAuthHash(): a new key for the session that changed the password.
    expect(first.sessionCookie).toBeDefined()
    expect(first.sessionCookie).not.toBe(firstBefore)

    const next = await second.get('/whoami')
    expect(await next.json()).toEqual({ user: null })
    expect(setCookie(next, 'sessionid')?.attrs['max-age']).toBe('0')
    expect(await first.user()).toBe(user)
    expect(await first.user()).toBe(user)

    // Copies of the old cookies stay logged out, from anywhere, on every store.
    expect(await app().browserWith(secondToken).user()).toBeNull()
    expect(await app().browserWith(firstBefore).user()).toBeNull()
    // Server-side stores keep only the session that changed the password.
    if (server !== null) expect(await server.count()).toBe(1)
  })

  it('answers 401 NOT_LOGGED_IN to an anonymous caller and changes nothing', async () => {
    const res = await app().browser().post('/password')
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ code: 'NOT_LOGGED_IN' })
    expect(res.headers.getSetCookie()).toEqual([])
  })
})
