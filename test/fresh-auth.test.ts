/**
 * Re-authentication freshness ("sudo mode") on every store: the last authentication kept
 * with the user binding (login(), confirmAuthentication()), requireFreshAuth() refusing a
 * stale one with REAUTHENTICATION_REQUIRED (403), records without the field, and the
 * freshAuth() middleware; all with an injected clock.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { Hono } from 'hono'
import { cookieStore, freshAuth, session, SessionError, type SessionEnv } from '../src/session'
import { kvKeyFor } from '../src/session/stores/kv'
import type { SessionStore } from '../src/session/store'
import { durableObjectStore } from '../src/session/durable-object'
import { decodeRecord, encodeRecord } from '../src/session/stores/record'
import { clearObjects } from './helpers/do'
import { harness } from './helpers/harness'
import { testClient } from '../src/session/testing'
import { clearKV } from './helpers/kv'

const SECRET = 'edge-session fresh-auth test secret, 32 bytes or more'
const STORES: [string, () => SessionStore | undefined][] = [
  ['kv', () => undefined],
  ['cookie', () => cookieStore({ secret: SECRET })],
  ['do', () => durableObjectStore({ namespace: env.SESSION_OBJECTS })],
]

beforeEach(async () => {
  await Promise.all([clearKV(env.SESSIONS), clearObjects()])
})

/** The error a step threw, by its code. */
const codeOf = async (p: Promise<unknown>): Promise<string | null> =>
  p.then(
    () => null,
    (e: unknown) => (e instanceof SessionError ? e.code : String(e)),
  )

describe.each(STORES)('session.requireFreshAuth() on the %s store', (_name, store) => {
  const make = () => {
    const s = store()
    return harness(s === undefined ? {} : { store: s }, { start: Date.now() })
  }

  it('passes within maxAge of login(), refuses past it with REAUTHENTICATION_REQUIRED (403)', async () => {
    const h = make()
    await h.run((s) => s.login('ada'))
    h.clock.now += 600_000
    expect((await h.run((s) => s.requireFreshAuth(600))).res.status).toBe(200)
    h.clock.now += 1
    const { res } = await h.run((s) => s.requireFreshAuth(600))
    expect(res.status).toBe(403)
    let thrown: unknown
    await h.run(async (s) => {
      thrown = await s.requireFreshAuth(600).catch((e: unknown) => e)
    })
    expect(thrown).toBeInstanceOf(SessionError)
    expect(thrown).toMatchObject({ code: 'REAUTHENTICATION_REQUIRED', status: 403 })
  })

  it('is fresh again after confirmAuthentication(), which moves the session to a new key and keeps the user', async () => {
    const h = make()
    await h.run((s) => s.login('ada'))
    h.clock.now += 3_600_000
    expect((await h.run((s) => s.requireFreshAuth(600))).res.status).toBe(403)
    const before = h.cookies.get('sessionid')
    await h.run((s) => s.confirmAuthentication())
    expect(h.cookies.get('sessionid')).not.toBe(before)
    expect((await h.run((s) => s.requireFreshAuth(600))).res.status).toBe(200)
    expect((await h.run((s) => s.getUser())).body).toBe('ada')
  })

  it('answers NOT_LOGGED_IN (401) without a user, for both calls', async () => {
    const h = make()
    let codes: (string | null)[] = []
    await h.run(async (s) => {
      codes = [await codeOf(s.requireFreshAuth(600)), await codeOf(s.confirmAuthentication())]
    })
    expect(codes).toEqual(['NOT_LOGGED_IN', 'NOT_LOGGED_IN'])
  })

  it('refuses a maxAge that is not a number of seconds >= 0 (INVALID_VALUE)', async () => {
    const h = make()
    await h.run((s) => s.login('ada'))
    let codes: (string | null)[] = []
    await h.run(async (s) => {
      codes = await Promise.all(
        [-1, Number.NaN, Infinity, 1.5].map((n) => codeOf(s.requireFreshAuth(n))),
      )
    })
    expect(codes).toEqual(['INVALID_VALUE', 'INVALID_VALUE', 'INVALID_VALUE', 'INVALID_VALUE'])
  })
})

describe('a record without the last authentication (written before auth.at was kept)', () => {
  it('keeps working, its creation (the login) standing in', async () => {
    const h = harness({}, { start: Date.now() })
    await h.run((s) => s.login('ada'))
    const key = await kvKeyFor(h.cookies.get('sessionid')!)
    const record = decodeRecord((await env.SESSIONS.get(key))!)
    if (typeof record === 'string') throw new Error(record)
    expect(record.auth).toEqual({ user: 'ada', hash: null, at: h.clock.now })
    // As 0.2 wrote it: no "at".
    await env.SESSIONS.put(
      key,
      encodeRecord({ ...record, auth: { user: 'ada', hash: null } }, 65536),
    )
    h.clock.now += 300_000
    expect((await h.run((s) => s.getUser())).body).toBe('ada')
    expect((await h.run((s) => s.requireFreshAuth(600))).res.status).toBe(200)
    h.clock.now += 300_001
    expect((await h.run((s) => s.requireFreshAuth(600))).res.status).toBe(403)
  })

  it('is refused as corrupt when "at" is there but not a time', () => {
    for (const at of ['1', null, 1e16, [1]]) {
      const text = JSON.stringify({
        v: 1,
        data: {},
        expiry: null,
        expiresAt: 1,
        createdAt: 1,
        auth: { user: 'ada', hash: null, at },
      })
      expect(decodeRecord(text), JSON.stringify(at)).toBe('wrong-shape')
    }
  })
})

describe('freshAuth({ maxAge }) middleware', () => {
  const app = (clock: { now: number }): Hono<SessionEnv> => {
    const a = new Hono<SessionEnv>()
    a.use(session({ now: () => clock.now }))
    a.post('/login', async (c) => {
      await c.get('session').login('ada')
      return c.text('in')
    })
    a.post('/sensitive', freshAuth({ maxAge: 60 }), (c) => c.text('done'))
    return a
  }

  it('lets a request through within maxAge, refuses it past (403), and one with no user (401)', async () => {
    const clock = { now: Date.now() }
    const client = testClient(app(clock), { env })
    const post = (path: string): Promise<Response> => client.post(path)
    expect((await post('/sensitive')).status).toBe(401)
    await post('/login')
    clock.now += 60_000
    const ok = await post('/sensitive')
    expect([ok.status, await ok.text()]).toEqual([200, 'done'])
    clock.now += 1
    expect((await post('/sensitive')).status).toBe(403)
  })

  it('throws MISSING_STORE naming freshAuth() without the session middleware', async () => {
    let seen: unknown
    const a = new Hono()
    a.onError((error) => {
      seen = error
      return new Response(null, { status: 500 })
    })
    a.post('/sensitive', freshAuth({ maxAge: 60 }), (c) => c.text('done'))
    expect((await a.request('http://localhost/sensitive', { method: 'POST' })).status).toBe(500)
    expect(seen).toBeInstanceOf(SessionError)
    expect([(seen as SessionError).code, (seen as SessionError).message]).toEqual([
      'MISSING_STORE',
      'freshAuth(): no session on this request; install session() before it',
    ])
  })

  it.each([[-1], [1.5], [Number.NaN], ['60' as unknown as number]])(
    'refuses maxAge %s at construction with INVALID_OPTION naming it',
    (maxAge) => {
      expect(() => freshAuth({ maxAge })).toThrow(/option "maxAge"/)
    },
  )
})
