/**
 * session({ deviceBound }) to the newest DBSC draft (February 2026): a refresh proof that
 * carries a key is refused; a request Chrome sends with `Secure-Session-Skipped` (it could
 * not refresh) never ends or replaces the session; a bound session is not rotated by
 * `session({ rotation })`; and a WebSocket opened on a bound session is closed with 4408
 * when the bound cookie it was opened with expires. Real objects, keys made by Web Crypto.
 */
import { env, runInDurableObject } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { cookieStore, deviceBound } from '../src/session'
import { DEVICE_BOUND_EXPIRED_CLOSE_CODE, durableObjectStore } from '../src/session/durable-object'
import type { SessionStore } from '../src/session/store'
import {
  BOUND,
  bindSession,
  boundHarness,
  refresh,
  SECRET,
  withoutBoundCookie,
} from './helpers/bound'
import { deviceKey, proof, refreshChallenge, registrationChallenge } from './helpers/dbsc'
import { sessionApp } from './helpers/app'
import { clearObjects, namedStub } from './helpers/do'
import { harness, type Harness } from './helpers/harness'
import { openLive, within } from './helpers/sockets'

const OBJECTS = env.TEST_SESSION_OBJECTS
const store = (): SessionStore => durableObjectStore({ namespace: OBJECTS })

const who = async (h: Harness, headers?: Record<string, string>): Promise<unknown> =>
  (await h.run((s) => s.getUser(), headers === undefined ? {} : { headers })).body

beforeEach(async () => {
  await clearObjects(OBJECTS)
})

describe('POST refreshPath, newest draft', () => {
  it('refuses a refresh proof that carries a jwk with 400, even signed by the registered key', async () => {
    const h = boundHarness(store())
    const { key, id } = await bindSession(h)
    h.clock.now += 1_000
    const first = await refresh(h, id)
    const { challenge } = refreshChallenge(first.res)
    const withKey = await refresh(h, id, await proof(key, challenge, { withJwk: true }))
    expect(withKey.res.status).toBe(400)
    expect(withKey.res.headers.getSetCookie()).toEqual([])
    // The same challenge, answered as the draft says, still works: nothing was used up.
    const ok = await refresh(h, id, await proof(key, challenge))
    expect(ok.res.status).toBe(200)
  })
})

const STORES: [name: string, store: () => SessionStore | undefined][] = [
  ['KV', () => undefined],
  ['cookie', () => cookieStore({ secret: SECRET })],
  ['Durable Objects', store],
]

describe.each(STORES)('a request with Secure-Session-Skipped, on the %s store', (_name, make) => {
  const SKIPPED = { 'Secure-Session-Skipped': 'unreachable;session_identifier="x"' }

  it('reads as anonymous and never ends or replaces the session, whatever the handler does', async () => {
    const h = boundHarness(make())
    await bindSession(h)
    const cookie = h.cookies.get('sessionid')
    const read = await withoutBoundCookie(h, (s) => s.getUser())
    expect(read.body).toBeNull()
    for (const step of [
      (s: Parameters<Parameters<Harness['run']>[0]>[0]) => s.set('evil', 1),
      (s: Parameters<Parameters<Harness['run']>[0]>[0]) => s.flush(),
      (s: Parameters<Parameters<Harness['run']>[0]>[0]) => s.login('mallory'),
    ]) {
      const saved = Object.entries(h.cookies.all())
      h.cookies.clear(BOUND)
      const { res } = await h.run(step, { headers: SKIPPED })
      expect(res.status).toBe(200)
      expect(res.headers.getSetCookie()).toEqual([])
      for (const [name, value] of saved) h.cookies.set(name, value)
    }
    expect(h.cookies.get('sessionid')).toBe(cookie)
    expect(await who(h)).toBe('alice')
    expect((await h.run((s) => s.get('evil'))).body).toBeNull()
  })

  it('grants nothing: the header does not stand in for the bound cookie', async () => {
    const h = boundHarness(make())
    await bindSession(h)
    h.cookies.clear(BOUND)
    expect(await who(h, SKIPPED)).toBeNull()
  })
})

describe('session({ rotation }) on a bound session', () => {
  it('is skipped: the binding rotates a short-lived cookie already', async () => {
    const h = harness(
      {
        store: store(),
        deviceBound: deviceBound({ secret: SECRET }),
        rotation: { every: 60, grace: 10 },
      },
      { start: Date.now() },
    )
    await bindSession(h)
    const cookie = h.cookies.get('sessionid')
    h.clock.now += 120_000
    // Within the bound cookie's life (600 s): admitted, and the id stays.
    const { res, body } = await h.run((s) => s.getUser())
    expect(body).toBe('alice')
    expect(res.headers.getSetCookie().filter((line) => line.startsWith('sessionid='))).toEqual([])
    expect(h.cookies.get('sessionid')).toBe(cookie)
  })
})

describe('a WebSocket on a bound session', () => {
  it('is closed with 4408 when the bound cookie it was opened with expires; the session lives on', async () => {
    // The object's alarm runs on the real clock: a bound cookie of 1 s, and the test waits
    // for the close event (no fixed wait). The session's clock stands still at the start, so
    // a slow machine cannot let the login's bound cookie expire before the registration; the
    // socket's deadline (a second after the start) then passes on the real clock.
    const start = Date.now()
    const app = sessionApp({
      store: store(),
      deviceBound: deviceBound({ secret: SECRET, maxAge: 1 }),
      now: () => start,
    })
    const b = app.browser()
    const login = await b.post('/login', { json: { user: 'alice' } })
    const key = await deviceKey('ES256')
    const jwt = await proof(key, registrationChallenge(login), { withJwk: true })
    const registered = await b.request('/.well-known/dbsc/register', {
      method: 'POST',
      headers: { 'Secure-Session-Response': `"${jwt}"` },
    })
    expect(registered.status).toBe(200)
    const opened = Date.now()
    const live = await openLive((path, init) => b.request(path, init))
    const closed = await within(live.closed, 5_000, 'the 4408 close')
    expect(closed).toEqual({
      code: DEVICE_BOUND_EXPIRED_CLOSE_CODE,
      reason: 'bound cookie expired',
    })
    expect(Date.now() - opened).toBeLessThan(3_000)
    // Not an end: the session is there for a browser that refreshes its bound cookie.
    const rows = await runInDurableObject(namedStub('user:alice', OBJECTS), (_i, state) =>
      state.storage.sql.exec('SELECT handle FROM sessions').toArray(),
    )
    expect(rows).toHaveLength(1)
  })

  it('is not limited on a session that is not bound', async () => {
    const app = sessionApp({
      store: store(),
      deviceBound: deviceBound({ secret: SECRET, maxAge: 1 }),
    })
    const b = app.browser()
    await b.post('/login', { json: { user: 'bob' } })
    const live = await openLive((path, init) => b.request(path, init))
    const until = await runInDurableObject(namedStub('user:bob', OBJECTS), (_i, state) =>
      state.getWebSockets().map((ws) => (ws.deserializeAttachment() as { until: unknown }).until),
    )
    expect(until).toEqual([null])
    live.ws.close(1000)
  })
})
