/**
 * session({ deviceBound }): Device Bound Session Credentials on every store, with keys made
 * by Web Crypto. The login offers registration; registration keeps the key in the record;
 * refresh proves it; a session cookie without its bound cookie is no session at all.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { cookieStore, deviceBound, SessionError, type Session } from '../src/session'
import type { SessionStore } from '../src/session/store'
import { durableObjectStore } from '../src/session/durable-object'
import {
  bindSession,
  BOUND,
  boundHarness,
  logIn,
  refresh,
  refreshFully,
  register,
  SECRET,
  withoutBoundCookie,
} from './helpers/bound'
import { deviceKey, proof, refreshChallenge, type Alg } from './helpers/dbsc'
import { harness, type Harness } from './helpers/harness'
import { setCookie, setCookies } from './helpers/http'

const STORES: [name: string, store: () => SessionStore | undefined][] = [
  ['KV', () => undefined],
  ['cookie', () => cookieStore({ secret: SECRET })],
  ['Durable Objects', () => durableObjectStore({ namespace: env.SESSION_OBJECTS })],
]

const who = async (h: Harness): Promise<unknown> => (await h.run((s) => s.getUser())).body

describe.each(STORES)('session({ deviceBound }) on the %s store', (_name, store) => {
  it('offers registration on the login response, with a first bound cookie', async () => {
    const h = boundHarness(store())
    const { res } = await h.run((s) => s.login('alice'))
    expect(res.headers.get('Secure-Session-Registration')).toMatch(
      /^\(ES256 RS256\);path="\/\.well-known\/dbsc\/register";challenge="[^"\\]+"$/,
    )
    const bound = setCookie(res, BOUND)
    expect(bound?.attrs).toMatchObject({
      path: '/',
      secure: '',
      httponly: '',
      samesite: 'Lax',
      'max-age': '600',
    })
  })

  it('admits the page after login with the bound cookie the login set, once the browser registered', async () => {
    const h = boundHarness(store())
    const key = await deviceKey('ES256')
    const challenge = await logIn(h)
    const fromLogin = h.cookies.get(BOUND) as string
    expect((await register(h, await proof(key, challenge, { withJwk: true }))).res.status).toBe(200)
    h.cookies.set(BOUND, fromLogin)
    expect(await who(h)).toBe('alice')
  })

  it.each<Alg>(['ES256', 'RS256'])(
    'registers a %s key and answers the instructions with the bound cookie',
    async (alg) => {
      const h = boundHarness(store())
      const key = await deviceKey(alg)
      const { res, body } = await register(h, await proof(key, await logIn(h), { withJwk: true }))
      expect(res.status).toBe(200)
      expect(res.headers.get('Cache-Control')).toBe('no-store')
      expect(body).toEqual({
        session_identifier: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
        refresh_url: '/.well-known/dbsc/refresh',
        scope: { origin: 'http://example.com', include_site: false, scope_specification: [] },
        credentials: [
          { type: 'cookie', name: BOUND, attributes: 'Path=/; Secure; HttpOnly; SameSite=Lax' },
        ],
      })
      expect(setCookie(res, BOUND)?.attrs).toMatchObject({
        path: '/',
        secure: '',
        httponly: '',
        samesite: 'Lax',
        'max-age': '600',
      })
      expect((await h.run((s) => s.isDeviceBound())).body).toBe(true)
      expect(await who(h)).toBe('alice')
    },
  )

  it.each<Alg>(['ES256', 'RS256'])(
    'refreshes a %s-bound session: a challenge, then the next bound cookie',
    async (alg) => {
      const h = boundHarness(store())
      const { key, id } = await bindSession(h, alg)
      h.clock.now += 2000
      const first = await refresh(h, id)
      expect(first.res.status).toBe(403)
      expect(refreshChallenge(first.res).id).toBe(id)
      const before = h.cookies.get(BOUND)
      const { res, body } = await refresh(
        h,
        id,
        await proof(key, refreshChallenge(first.res).challenge),
      )
      expect(res.status).toBe(200)
      expect((body as { session_identifier: string }).session_identifier).toBe(id)
      expect(setCookie(res, BOUND)?.value).not.toBe(before)
      expect(await who(h)).toBe('alice')
    },
  )

  it('reads a bound session with only its session cookie as no session; the owner is unaffected', async () => {
    const h = boundHarness(store())
    await bindSession(h)
    await h.run((s) => s.set('secret', 'owner data'))
    h.kv.reset()
    const stolen = await withoutBoundCookie(h, async (s) => ({
      user: await s.getUser(),
      data: await s.toObject(),
      bound: await s.isDeviceBound(),
    }))
    expect(stolen.body).toEqual({ user: null, data: {}, bound: false })
    expect(setCookies(stolen.res)).toEqual([])
    // Nothing beyond the session's own load: one KV read, no write, no delete.
    if (_name === 'KV') expect(h.kv.counts).toMatchObject({ reads: 1, writes: 0, deletes: 0 })
    expect(
      (await h.run(async (s) => ({ user: await s.getUser(), data: await s.toObject() }))).body,
    ).toEqual({ user: 'alice', data: { secret: 'owner data' } })
  })

  it.each([
    ['flush()', async (s: Session) => s.flush()],
    ['clear()', async (s: Session) => s.clear()],
    [
      'set() then cycleKey()',
      async (s: Session) => {
        await s.set('planted', 'thief')
        await s.cycleKey()
      },
    ],
    ['login() as someone else', async (s: Session) => s.login('mallory')],
  ])(
    "a request with only the session cookie that calls %s never touches the owner's session",
    async (_call, step) => {
      const h = boundHarness(store())
      await bindSession(h)
      await h.run((s) => s.set('secret', 'owner data'))
      await withoutBoundCookie(h, async (s) => {
        await step(s)
        return null
      })
      expect(
        (
          await h.run(async (s) => ({
            user: await s.getUser(),
            data: await s.toObject(),
            bound: await s.isDeviceBound(),
          }))
        ).body,
      ).toEqual({ user: 'alice', data: { secret: 'owner data' }, bound: true })
    },
  )

  it('reads the session as none once the bound cookie expired, and as the owner again after a refresh', async () => {
    const h = boundHarness(store())
    const { key, id } = await bindSession(h)
    h.clock.now += 601_000
    expect(await who(h)).toBeNull()
    expect((await refreshFully(h, key, id)).res.status).toBe(200)
    expect(await who(h)).toBe('alice')
  })

  it('answers {"continue": false} to a refresh after logout', async () => {
    const h = boundHarness(store())
    const { key, id } = await bindSession(h)
    await h.run((s) => s.flush())
    h.clock.now += 1000
    const { res, body } = await refreshFully(h, key, id)
    expect(res.status).toBe(200)
    expect(body).toEqual({ continue: false })
  })

  it('keeps a bound session working across cycleKey() with its bound cookie, and not without', async () => {
    const h = boundHarness(store())
    await bindSession(h)
    await h.run((s) => s.cycleKey())
    expect(await who(h)).toBe('alice')
    expect((await withoutBoundCookie(h, (s) => s.getUser())).body).toBeNull()
  })

  it('leaves a session whose browser never registered working as today, bound cookie expired or not', async () => {
    const h = boundHarness(store())
    await logIn(h)
    h.cookies.clear(BOUND)
    h.clock.now += 3600_000
    expect(await who(h)).toBe('alice')
  })
})

describe.each(STORES.filter(([name]) => name !== 'cookie'))(
  'POST refreshPath on the %s store',
  (_name, store) => {
    it('answers {"continue": false} for a session logged out by another request, with the old cookies', async () => {
      const h = boundHarness(store())
      const { key, id } = await bindSession(h)
      const cookies = Object.entries(h.cookies.all())
      await h.run((s) => s.flush())
      for (const [name, value] of cookies) h.cookies.set(name, value)
      h.clock.now += 1000
      const { res, body } = await refreshFully(h, key, id)
      expect(res.status).toBe(200)
      expect(body).toEqual({ continue: false })
      expect(setCookies(res)).toEqual([])
    })
  },
)

describe('session() without deviceBound', () => {
  it('offers no registration and sets no bound cookie at login', async () => {
    const h = harness({}, { start: Date.now() })
    const { res } = await h.run((s) => s.login('alice'))
    expect(res.headers.get('Secure-Session-Registration')).toBeNull()
    expect(setCookies(res).map((c) => c.name)).toEqual(['sessionid', 'sessionid_device'])
  })
})

describe('deviceBound()', () => {
  it.each([
    [{ secret: 'short' }, 'secret'],
    [{ secret: SECRET, maxAge: 0 }, 'maxAge'],
    [{ secret: SECRET, cookieName: 'a b' }, 'cookieName'],
    [{ secret: SECRET, registrationPath: 'dbsc' }, 'registrationPath'],
    [{ secret: SECRET, refreshPath: '/.well-known/dbsc/register' }, 'refreshPath'],
    [{ secret: SECRET, challengeMaxAge: 1.5 }, 'challengeMaxAge'],
  ])('refuses %j naming "%s"', (options, option) => {
    let error: unknown = null
    try {
      deviceBound(options)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(SessionError)
    expect((error as SessionError).code).toBe('INVALID_OPTION')
    expect((error as SessionError).message).toContain(`"${option}"`)
  })

  it('is refused by session() when its routes lie outside the cookie path', () => {
    expect(() => harness({ path: '/app', deviceBound: deviceBound({ secret: SECRET }) })).toThrow(
      /"deviceBound"/,
    )
  })

  it('takes from a secret function the secrets being rotated, current first: a bound cookie of the older one still admits', async () => {
    const NEW = 'the device-bound secret after rotation, 32 bytes+'
    const original = harness(
      { deviceBound: deviceBound({ secret: () => SECRET }) },
      { start: Date.now() },
    )
    await bindSession(original)
    const cookies = Object.entries(original.cookies.all())
    const rotated = (secret: () => string | string[]): Harness => {
      const h = harness({ deviceBound: deviceBound({ secret }) }, { start: Date.now() })
      for (const [name, value] of cookies) h.cookies.set(name, value)
      return h
    }
    expect(await who(rotated(() => [NEW, SECRET]))).toBe('alice')
    expect(await who(rotated(() => NEW))).toBeNull()
  })

  it('answers INVALID_OPTION (500), not a TypeError, when the secret function returns no secret', async () => {
    const h = harness(
      { deviceBound: deviceBound({ secret: () => undefined as unknown as string }) },
      { start: Date.now() },
    )
    let thrown: unknown = null
    h.app.onError((error, c) => {
      thrown = error
      return c.text('', 500)
    })
    expect((await h.run((s) => s.login('alice'))).res.status).toBe(500)
    expect(thrown).toBeInstanceOf(SessionError)
    expect((thrown as SessionError).code).toBe('INVALID_OPTION')
  })
})
