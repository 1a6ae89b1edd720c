/**
 * `edge-session/testing` (issue 20, item 1): the test client, force-login, the client's
 * session and logout, on the KV, cookie and Durable Object stores, through `app.request()`
 * and through a fetcher; and the helpers that clear a store between tests. (The client on
 * the demo worker, `SELF`, is in demo-testing.test.ts.)
 */
import {
  env,
  listDurableObjectIds,
  runDurableObjectAlarm,
  runInDurableObject,
} from 'cloudflare:test'
import { Hono } from 'hono'
import { csrf } from 'hono/csrf'
import { beforeEach, describe, expect, it } from 'vitest'
import { cookieStore, session, type SessionEnv, type SessionOptions } from '../src/session'
import { kvKeyFor } from '../src/session/stores/kv'
import { durableObjectStore } from '../src/session/durable-object'
import {
  clearDurableObjectSessions,
  clearKvSessions,
  testClient,
  CookieJar,
} from '../src/session/testing'
import { namedStub, rowsIn, storedSessionCount } from './helpers/do'
import { storedRecords } from './helpers/harness'

type Bindings = {
  SESSIONS: KVNamespace
  USERS: KVNamespace
  SESSION_OBJECTS: DurableObjectNamespace<import('../src/session/durable-object').SessionObject>
}
type AppEnv = SessionEnv<{ color?: string }> & { Bindings: Bindings }

const SECRET = 'edge-session testing secret, at least 32 bytes'
/** Where the app keeps its users' verifiers in USERS: `user:<name>`. */
const USER_KEY_PREFIX = 'user:'
const DO_HELPERS = { listDurableObjectIds, runInDurableObject }

/** The stores an adopter's app may use, as the app's own session options. */
const STORES: [string, SessionOptions<AppEnv>][] = [
  ['KV', {}],
  ['cookie', { store: cookieStore({ secret: SECRET }) }],
  ['Durable Objects', { store: (c) => durableObjectStore({ namespace: c.env.SESSION_OBJECTS }) }],
]

/** An app as an adopter writes it: its session options (with authHash), CSRF, a page per user. */
function appWith(options: SessionOptions<AppEnv>): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.use(csrf())
  app.use(session<AppEnv>(options))
  app.get('/me', async (c) =>
    c.json({
      user: await c.get('session').getUser(),
      color: (await c.get('session').get('color')) ?? null,
    }),
  )
  app.post('/color', async (c) => {
    const body = await c.req.parseBody()
    await c.get('session').set('color', String(body['color']))
    return c.body(null, 204)
  })
  app.post('/api/color', async (c) => {
    const body = await c.req.json<{ color: string }>()
    await c.get('session').set('color', body.color)
    return c.body(null, 204)
  })
  return app
}

const withAuthHash = (options: SessionOptions<AppEnv>): SessionOptions<AppEnv> => ({
  ...options,
  authHash: (c, user) => c.env.USERS.get(USER_KEY_PREFIX + user),
})

beforeEach(async () => {
  await Promise.all([
    clearKvSessions(env.SESSIONS),
    clearDurableObjectSessions(env.SESSION_OBJECTS, DO_HELPERS),
  ])
  await env.USERS.put(`${USER_KEY_PREFIX}ada`, 'verifier-1')
})

describe.each(STORES)('the test client on the %s store', (_, base) => {
  const options = withAuthHash(base)

  it("forceLogin() logs the client in through the app's own options, bound to the verifier", async () => {
    const client = testClient(appWith(options), { env, session: options })
    await client.forceLogin('ada')
    expect(await (await client.get('/me')).json()).toEqual({ user: 'ada', color: null })
    expect(await client.user()).toBe('ada')
    // A new password (verifier) logs the forced session out, as it would a real login.
    await env.USERS.put(`${USER_KEY_PREFIX}ada`, 'verifier-2')
    expect(await (await client.get('/me')).json()).toEqual({ user: null, color: null })
  })

  it("forceLogin() rejects with the app's own error for a user authHash does not know", async () => {
    const client = testClient(appWith(options), { env, session: options })
    await expect(client.forceLogin('nobody')).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    expect(client.sessionCookie).toBeUndefined()
  })

  it('keeps cookies across requests and reads the session the app wrote', async () => {
    const client = testClient(appWith(options), { env, session: options })
    expect(await client.session()).toEqual({})
    expect((await client.post('/color', { form: { color: 'blue' } })).status).toBe(204)
    expect(await client.session()).toEqual({ color: 'blue' })
    expect((await client.post('/api/color', { json: { color: 'red' } })).status).toBe(204)
    expect(await client.session()).toEqual({ color: 'red' })
  })

  it('logout() ends the session: its cookie goes and the app sees no user', async () => {
    const client = testClient(appWith(options), { env, session: options })
    await client.forceLogin('ada')
    const token = client.sessionCookie
    await client.logout()
    expect(client.sessionCookie).toBeUndefined()
    const replay = testClient(appWith(options), { env, session: options })
    replay.cookies.set('sessionid', token!)
    // The cookie store cannot revoke a copy of its cookie (docs/internals/storage.md); the others can.
    if (base.store === undefined || typeof base.store === 'function')
      expect(await replay.user()).toBe(null)
  })
})

describe('the test client and unsafe methods', () => {
  it('sends an Origin of its own, so hono/csrf lets its form posts through', async () => {
    const client = testClient(appWith({}), { env, url: 'https://example.com' })
    expect((await client.post('/color', { form: { color: 'blue' } })).status).toBe(204)
  })

  it('sends the Origin it is given, and none with origin: false', async () => {
    const hostile = testClient(appWith({}), { env, origin: 'https://evil.example' })
    expect((await hostile.post('/color', { form: { color: 'blue' } })).status).toBe(403)
    const seen: (string | null)[] = []
    const echo = {
      fetch: async (req: Request) => {
        seen.push(req.headers.get('Origin'))
        return new Response(null)
      },
    }
    await testClient(echo, { origin: false }).post('/x')
    await testClient(echo, { url: 'https://a.example' }).delete('/x')
    await testClient(echo).get('/x')
    expect(seen).toEqual([null, 'https://a.example', null])
  })
})

describe('the test client over a fetcher ({ fetch }, as SELF or a service binding is)', () => {
  it("force-logs in on the app's own options and the app behind the fetcher sees the user", async () => {
    const options = withAuthHash({})
    const app = appWith(options)
    const fetcher = { fetch: async (request: Request) => app.fetch(request, env) }
    const client = testClient(fetcher, {
      env,
      session: options,
      url: 'http://localhost:8787',
    })
    await client.forceLogin('ada')
    expect(await (await client.get('/me')).json()).toEqual({ user: 'ada', color: null })
    expect(await env.SESSIONS.get(await kvKeyFor(client.sessionCookie!))).not.toBeNull()
    // The app's CSRF guard refuses cross-site form posts: the client's own Origin is same-site.
    const res = await client.post('/color', { form: { color: 'blue' } })
    expect(res.status).toBe(204)
    expect(await client.session()).toEqual({ color: 'blue' })
  })
})

describe('clearKvSessions()', () => {
  it('deletes every session and revocation marker, and nothing else', async () => {
    const options = withAuthHash({})
    const client = testClient(appWith(options), { env, session: options })
    await client.forceLogin('ada')
    await client.logout() // leaves a revocation marker
    await testClient(appWith(options), { env, session: options }).forceLogin('ada')
    expect((await env.SESSIONS.list({ prefix: 'revoked:' })).keys).toHaveLength(1)
    await env.SESSIONS.put('other:key', 'kept')
    expect(await clearKvSessions(env.SESSIONS)).toBe(2)
    expect(await storedRecords()).toEqual([])
    expect((await env.SESSIONS.list()).keys.map((k) => k.name)).toEqual(['other:key'])
  })
})

describe('clearDurableObjectSessions()', () => {
  it('empties every object of the namespace and removes their alarms', async () => {
    const options = withAuthHash(STORES[2]![1])
    for (const user of ['ada', null]) {
      const client = testClient(appWith(options), { env, session: options })
      if (user === null) await client.post('/color', { form: { color: 'green' } })
      else await client.forceLogin(user)
    }
    expect(await storedSessionCount()).toBe(2)
    expect(await rowsIn(namedStub('user:ada'))).toHaveLength(1)
    expect(
      await clearDurableObjectSessions(env.SESSION_OBJECTS, DO_HELPERS),
    ).toBeGreaterThanOrEqual(2)
    expect(await storedSessionCount()).toBe(0)
    expect(await runDurableObjectAlarm(namedStub('user:ada'))).toBe(false)
  })
})

describe('CookieJar', () => {
  it('drops a cookie deleted by Max-Age=0 or a past Expires, and one that expires', () => {
    let now = 1_000_000
    const jar = new CookieJar(() => now)
    const res = (...cookies: string[]): Response => {
      const headers = new Headers()
      for (const c of cookies) headers.append('Set-Cookie', c)
      return new Response(null, { headers })
    }
    jar.update(res('a=1; Path=/', 'b=2; Max-Age=10', 'c=3; Expires=Thu, 01 Jan 1970 00:00:00 GMT'))
    expect(jar.all()).toEqual({ a: '1', b: '2' })
    expect(jar.header()).toBe('a=1; b=2')
    now += 10_000
    expect(jar.get('b')).toBeUndefined()
    jar.update(res('a=; Max-Age=0'))
    expect(jar.header()).toBeUndefined()
  })
})
