/**
 * A logout racing a request already in flight, on the KV store (issue 13, item 3): the
 * in-flight request loaded the session before the logout and saves after it. Without the
 * revocation marker its `put` brought the whole record back, its user included, with a
 * fresh TTL and a Set-Cookie for the logged-out id. Every order of the two requests' KV
 * calls must end logged out, within one location.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { KV_REVOCATION_TTL, kvKeyFor, kvRevokedKeyFor } from '../src/session/stores/kv'
import { logIn, sessionApp } from './helpers/app'
import { setCookie } from './helpers/http'
import { clearKV, holdingKV } from './helpers/kv'

// session()'s defaults: the KV store bound as SESSIONS, read from each request's bindings.
const app = sessionApp()

beforeEach(async () => {
  await clearKV(env.SESSIONS)
})

/** Logs in as `user` and stores `hits: 1`; resolves the session cookie. */
async function loggedIn(user: string): Promise<string> {
  const client = app.browser()
  const token = await logIn(client, user)
  expect((await client.get('/hit')).status).toBe(200)
  return token
}

/** The user a request with `token` finds, through a fresh browser. */
const whoami = async (token: string): Promise<unknown> =>
  (await app.browserWith(token).get('/whoami')).json()

/** The two requests of the race, each on its own scripted view of the same real KV. */
function race(
  token: string,
  path: 'GET /hit' | 'POST /session' = 'GET /hit',
): {
  inFlight: ReturnType<typeof holdingKV>
  logout: ReturnType<typeof holdingKV>
  startInFlight(): Promise<Response>
  startLogout(): Promise<Response>
} {
  const inFlight = holdingKV(env.SESSIONS)
  const logout = holdingKV(env.SESSIONS)
  const over = (kv: ReturnType<typeof holdingKV>) =>
    app.browserWith(token, { env: { ...env, SESSIONS: kv.namespace } })
  return {
    inFlight,
    logout,
    // GET /hit reads the session and writes it back, as any page view that writes;
    // POST /session (JSON) sets a key.
    startInFlight: async () =>
      path === 'POST /session'
        ? over(inFlight).post('/session', { json: { color: 'blue' } })
        : over(inFlight).get('/hit'),
    startLogout: async () => over(logout).post('/logout'),
  }
}

/** What must hold after every order: no record, no session for the old id. */
async function expectLoggedOut(token: string): Promise<void> {
  expect(await env.SESSIONS.get(await kvKeyFor(token))).toBeNull()
  expect(await whoami(token)).toEqual({ user: null })
}

/** A refused in-flight save: 409 SESSION_INTERRUPTED, and no Set-Cookie at all. */
async function expectRefused(res: Response): Promise<void> {
  expect(res.status).toBe(409)
  expect(res.headers.getSetCookie()).toEqual([])
  expect(await res.json()).toMatchObject({
    code: 'SESSION_INTERRUPTED',
    error: expect.stringContaining('The session was ended by another request while this one ran'),
  })
}

describe('a logout racing an in-flight write (KV, one location)', () => {
  it.each(['GET /hit', 'POST /session'] as const)(
    "the issue's scenario (%s): the write lands after the logout finished, and is undone and refused",
    async (path) => {
      const token = await loggedIn('raju')
      const r = race(token, path)
      const write = r.inFlight.hold('put', 'session:')
      const inFlight = r.startInFlight()
      await write.reached // loaded, about to write

      const logout = await r.startLogout()
      expect(logout.status).toBe(200)
      expect(setCookie(logout, 'sessionid')?.attrs['max-age']).toBe('0')

      write.release()
      await expectRefused(await inFlight)
      await expectLoggedOut(token)
    },
  )

  // W = the in-flight put, C = its marker check; M = the logout's marker put, D = its delete.
  it.each([
    ['M W C D', ['put session:'], ['delete session:']],
    ['M W D C', ['put session:', 'get revoked:'], ['delete session:']],
    ['W M C D', ['get revoked:'], ['delete session:']],
    ['W M D C', ['get revoked:'], ['delete session:']],
  ] as const)(
    '%s ends logged out, the in-flight write refused',
    async (order, inFlightHolds, logoutHolds) => {
      const token = await loggedIn('raju')
      const r = race(token)
      const hold = (kv: ReturnType<typeof holdingKV>, spec: string) => {
        const [op, prefix] = spec.split(' ') as ['get' | 'put' | 'delete', string]
        return kv.hold(op, prefix)
      }
      const a = inFlightHolds.map((spec) => hold(r.inFlight, spec))
      const b = logoutHolds.map((spec) => hold(r.logout, spec))
      const inFlight = r.startInFlight()
      await a[0]!.reached
      const logout = r.startLogout()
      await b[0]!.reached // the logout's marker is written; its delete is held

      if (order === 'M W C D' || order === 'W M C D') {
        // The in-flight request writes (if not yet) and checks before the delete.
        for (const h of a) h.release()
        await expectRefused(await inFlight)
        b[0]!.release()
      } else if (order === 'M W D C') {
        a[0]!.release() // W
        await a[1]!.reached // about to check
        b[0]!.release() // D
        expect((await logout).status).toBe(200)
        a[1]!.release() // C
        await expectRefused(await inFlight)
      } else {
        // W M D C: the write is in; the logout deletes it; then the check.
        b[0]!.release()
        expect((await logout).status).toBe(200)
        a[0]!.release()
        await expectRefused(await inFlight)
      }
      expect((await logout).status).toBe(200)
      await expectLoggedOut(token)
    },
  )

  it('W C M D: a write that finished before the logout began is simply logged out after', async () => {
    const token = await loggedIn('raju')
    const r = race(token)
    const res = await r.startInFlight()
    expect(res.status).toBe(200)
    expect((await r.startLogout()).status).toBe(200)
    await expectLoggedOut(token)
  })

  it.each(['GET /hit', 'POST /session'] as const)(
    'a cycleKey() that answered first (%s in flight): the old id stays dead, the write refused',
    async (path) => {
      const token = await loggedIn('raju')
      const r = race(token, path)
      const write = r.inFlight.hold('put', 'session:')
      const inFlight = r.startInFlight()
      await write.reached
      const cycler = app.browserWith(token)
      const cycled = await cycler.post('/cycle')
      expect(cycled.status).toBe(200)
      write.release()
      await expectRefused(await inFlight)
      await expectLoggedOut(token)
      // The cycled session, under its new id, is untouched.
      expect(cycler.sessionCookie).not.toBe(token)
      expect(await whoami(cycler.sessionCookie!)).toEqual({ user: 'raju' })
    },
  )

  it('leaves a revocation marker with a short TTL, holding nothing of the session', async () => {
    const token = await loggedIn('raju')
    const before = Math.floor(Date.now() / 1000)
    expect((await app.browserWith(token).post('/logout')).status).toBe(200)
    const key = await kvRevokedKeyFor(token)
    expect(await env.SESSIONS.get(key)).toBe('1')
    const [entry] = (await env.SESSIONS.list({ prefix: key })).keys
    expect(entry?.expiration).toBeGreaterThanOrEqual(before + KV_REVOCATION_TTL - 1)
    expect(entry?.expiration).toBeLessThanOrEqual(
      Math.ceil(Date.now() / 1000) + KV_REVOCATION_TTL + 1,
    )
  })

  it('a login racing the logout of the session it replaces is refused too, and leaves no new session', async () => {
    const token = await loggedIn('raju')
    const login = holdingKV(env.SESSIONS)
    const check = login.hold('get', 'revoked:') // the new record is written; the old one's marker not yet read
    const inFlight = app
      .browserWith(token, { env: { ...env, SESSIONS: login.namespace } })
      .post('/login', { json: { user: 'raju' } })
    await check.reached
    expect((await app.browserWith(token).post('/logout')).status).toBe(200)
    check.release()
    await expectRefused(await inFlight)
    await expectLoggedOut(token)
    // The new record was removed again: nothing but revocation markers is left.
    expect((await env.SESSIONS.list({ prefix: 'session:' })).keys).toEqual([])
  })
})
