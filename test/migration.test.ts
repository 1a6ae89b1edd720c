/**
 * Moving from KV to Durable Objects without logging anyone out (issue 20, item 6; issue 26,
 * item 2: parallel first requests): `durableObjectStore({ migrateFromKV })`, on both real
 * stores at once. A session written by the KV store is read under the Durable Object store
 * with the same cookie.
 */
import { env, listDurableObjectIds, runInDurableObject } from 'cloudflare:test'
import { Hono } from 'hono'
import { beforeEach, describe, expect, it } from 'vitest'
import { kvStore, session, type SessionEnv, type SessionOptions } from '../src/session'
import { kvKeyFor, kvRevokedKeyFor } from '../src/session/stores/kv'
import { durableObjectStore } from '../src/session/durable-object'
import { FORWARD_TTL_MS } from '../src/session/stores/durable-object/object'
import {
  clearDurableObjectSessions,
  clearKvSessions,
  testClient,
  type TestClient,
} from '../src/session/testing'
import { rowOf, splitToken, storedSessionCount } from './helpers/do'
import { countingKV } from './helpers/kv'
import { storedRecords } from './helpers/harness'

const USERS = 'user:'

/** The app's session options on each store; the Durable Object one moves KV sessions over. */
function optionsFor(
  store: 'kv' | 'do',
  kv: KVNamespace = env.SESSIONS,
  extra: Partial<SessionOptions> & { maxSessionsPerUser?: number } = {},
): SessionOptions {
  const { maxSessionsPerUser = null, ...rest } = extra
  return {
    store:
      store === 'kv'
        ? kvStore({ namespace: kv })
        : durableObjectStore({
            namespace: env.SESSION_OBJECTS,
            migrateFromKV: kv,
            maxSessionsPerUser,
          }),
    authHash: (_c, user) => env.USERS.get(USERS + user),
    ...rest,
  }
}

function appWith(options: SessionOptions): Hono<SessionEnv> {
  const app = new Hono<SessionEnv>()
  app.use(session(options))
  app.get('/me', async (c) =>
    c.json({ user: await c.get('session').getUser(), data: await c.get('session').toObject() }),
  )
  app.post('/note', async (c) => {
    await c.get('session').set('note', await c.req.text())
    return c.json({ user: await c.get('session').getUser() })
  })
  app.post('/logout', async (c) => {
    await c.get('session').flush()
    return c.body(null, 204)
  })
  app.get('/boom', async (c) => {
    await c.get('session').getUser()
    return c.text('failed', 500)
  })
  return app
}

/** A browser on `store`, carrying `token` as its session cookie when given. */
function browser(store: 'kv' | 'do', token?: string, kv?: KVNamespace): TestClient {
  const options = optionsFor(store, kv)
  const client = testClient(appWith(options), { env, session: options })
  if (token !== undefined) client.cookies.set('sessionid', token)
  return client
}

/** A logged-in KV session holding `color`; resolves its KV session id. */
async function kvSession(user: string | null): Promise<string> {
  const client = browser('kv')
  if (user !== null) await client.forceLogin(user)
  await client.withSession((s) => s.set('color', 'blue'))
  return client.sessionCookie!
}

beforeEach(async () => {
  await Promise.all([
    clearKvSessions(env.SESSIONS),
    clearDurableObjectSessions(env.SESSION_OBJECTS, { listDurableObjectIds, runInDurableObject }),
  ])
  await env.USERS.put(`${USERS}ada`, 'ada-verifier')
})

describe('durableObjectStore({ migrateFromKV })', () => {
  it("moves a logged-in KV session into its user's object, answers the new cookie and deletes it from KV", async () => {
    const kvId = await kvSession('ada')
    const client = browser('do', kvId)
    const res = await client.get('/me')
    expect(await res.json()).toEqual({ user: 'ada', data: { color: 'blue' } })
    const token = client.sessionCookie!
    expect(token).not.toBe(kvId)
    expect(splitToken(token).object).toBe(env.SESSION_OBJECTS.idFromName('user:ada').toString())
    expect((await rowOf(token))?.user).toBe('ada')
    expect(await env.SESSIONS.get(await kvKeyFor(kvId))).toBeNull()
    // The KV id's marker is a forward (sealed: the new token is not readable from KV).
    const marker = await env.SESSIONS.get(await kvRevokedKeyFor(kvId))
    expect(marker).toMatch(/^moved\./)
    expect(marker).not.toContain(splitToken(token).id)
    // "Your sessions" lists it, and the old KV id leads to it, making no copy.
    expect(await client.withSession((s) => s.listSessions())).toHaveLength(1)
    expect(await browser('do', kvId).user()).toBe('ada')
    expect(await storedSessionCount()).toBe(1)
  })

  it('reads KV once: later requests with the new cookie never touch KV', async () => {
    const kv = countingKV(env.SESSIONS)
    const client = browser('do', await kvSession('ada'), kv.namespace)
    await client.get('/me')
    expect(kv.counts).toMatchObject({ reads: 2, writes: 1, deletes: 1 }) // record + marker; the marker and the delete
    kv.reset()
    for (let i = 0; i < 3; i++)
      expect(await (await client.get('/me')).json()).toEqual({
        user: 'ada',
        data: { color: 'blue' },
      })
    expect(kv.counts).toEqual({ reads: 0, writes: 0, deletes: 0, lists: 0 })
  })

  it('moves an anonymous KV session into an anonymous shard', async () => {
    const client = browser('do', await kvSession(null))
    expect(await (await client.get('/me')).json()).toEqual({ user: null, data: { color: 'blue' } })
    const row = await rowOf(client.sessionCookie!)
    expect(row).toMatchObject({ user: null })
    expect(await storedSessionCount()).toBe(1)
  })

  it('never revives a KV session that was logged out', async () => {
    const kvClient = browser('kv', await kvSession('ada'))
    const kvId = kvClient.sessionCookie!
    await kvClient.logout()
    const client = browser('do', kvId)
    expect(await (await client.get('/me')).json()).toEqual({ user: null, data: {} })
    expect(await storedSessionCount()).toBe(0)
  })

  it('never revives a KV session with a revocation marker, even while KV still holds the record', async () => {
    const kvId = await kvSession('ada')
    await env.SESSIONS.put(await kvRevokedKeyFor(kvId), '1', { expirationTtl: 3600 })
    expect(await env.SESSIONS.get(await kvKeyFor(kvId))).not.toBeNull()
    expect(await browser('do', kvId).user()).toBeNull()
    expect(await storedSessionCount()).toBe(0)
  })

  it('logs out a moved session whose password changed since, and keeps no copy of it', async () => {
    const kvId = await kvSession('ada')
    await env.USERS.put(`${USERS}ada`, 'new-verifier')
    const client = browser('do', kvId)
    expect(await (await client.get('/me')).json()).toEqual({ user: null, data: {} })
    expect(client.sessionCookie).toBeUndefined()
    expect(await storedSessionCount()).toBe(0)
    expect(await env.SESSIONS.get(await kvKeyFor(kvId))).toBeNull()
  })

  it('leaves the KV session as it was when the request fails (a 5xx)', async () => {
    const kvId = await kvSession('ada')
    const client = browser('do', kvId)
    const res = await client.get('/boom')
    expect(res.status).toBe(500)
    expect(res.headers.getSetCookie()).toEqual([])
    expect(await env.SESSIONS.get(await kvKeyFor(kvId))).not.toBeNull()
    // The next request moves it.
    expect(await client.user()).toBe('ada')
    expect(client.sessionCookie).not.toBe(kvId)
  })

  it('leaves no copy in the objects when the request fails, so a retry makes the only one', async () => {
    const client = browser('do', await kvSession('ada'))
    expect((await client.get('/boom')).status).toBe(500)
    expect(await storedSessionCount()).toBe(0)
    expect((await client.get('/boom')).status).toBe(500)
    expect(await client.user()).toBe('ada')
    // One session: no copy left by a failed request is listed or counts against maxSessionsPerUser.
    expect(await storedSessionCount()).toBe(1)
    expect(await client.withSession((s) => s.countSessions())).toBe(1)
  })

  it('logs in, and logs out, in the very request that moves the session, leaving no copy behind', async () => {
    const kvId = await kvSession(null)
    const client = browser('do', kvId)
    await client.forceLogin('ada') // login() while the session moves: a new key in ada's object
    expect(await client.session()).toEqual({ color: 'blue' })
    expect(splitToken(client.sessionCookie!).object).toBe(
      env.SESSION_OBJECTS.idFromName('user:ada').toString(),
    )
    expect(await storedSessionCount()).toBe(1)
    expect(await env.SESSIONS.get(await kvKeyFor(kvId))).toBeNull()

    const other = browser('do', await kvSession('ada'))
    await other.logout() // flush() while the session moves
    expect(other.sessionCookie).toBeUndefined()
    expect(await storedSessionCount()).toBe(1) // only the first client's
    expect(await storedRecords()).toEqual([])
  })

  describe('parallel first requests after the switch (issue 26)', () => {
    /** Each response's `sessionid` Set-Cookie: the value, `''` for a deletion, absent for none. */
    function sessionCookieOf(res: Response): string | undefined {
      const line = res.headers.getSetCookie().find((l) => l.startsWith('sessionid='))
      if (line === undefined) return undefined
      const value = line.slice('sessionid='.length).split(';')[0]!
      return /max-age=0/i.test(line) ? '' : value
    }

    it('ten parallel first requests leave the browser logged in, one session, the other devices untouched, with the cap on', async () => {
      const extra = { maxSessionsPerUser: 3 }
      // Two other devices of ada's, already on the Durable Object store: with the moved
      // session, exactly the cap.
      const others = [0, 1].map(() => {
        const options = optionsFor('do', env.SESSIONS, extra)
        return testClient(appWith(options), { env, session: options })
      })
      for (const other of others) await other.forceLogin('ada')
      const kvId = await kvSession('ada')
      const options = optionsFor('do', env.SESSIONS, extra)
      const app = appWith(options)
      const responses = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          i % 2 === 0
            ? app.request('/me', { headers: { Cookie: `sessionid=${kvId}` } }, env)
            : app.request(
                '/note',
                { method: 'POST', body: `n${i}`, headers: { Cookie: `sessionid=${kvId}` } },
                env,
              ),
        ),
      )
      const cookies = responses.map(sessionCookieOf)
      // Never a deletion cookie: each answer either reaches the moved session (and may
      // carry its cookie) or is SESSION_INTERRUPTED with no Set-Cookie.
      expect(cookies).not.toContain('')
      const set = new Set(cookies.filter((c): c is string => c !== undefined))
      expect(set.size).toBe(1)
      for (const [i, res] of responses.entries()) {
        if (res.status === 200)
          expect(((await res.json()) as { user: string | null }).user).toBe('ada')
        else {
          expect(res.status).toBe(409)
          expect(cookies[i]).toBeUndefined()
        }
      }
      // The browser, whatever order the answers arrived in, keeps the one new cookie.
      const [moved] = [...set]
      const client = browser('do', moved!)
      expect(await client.user()).toBe('ada')
      expect(((await (await client.get('/me')).json()) as { data: object }).data).toMatchObject({
        color: 'blue',
      })
      // One session in ada's object for the KV one, and both other devices still in.
      const ada = env.SESSION_OBJECTS.idFromName('user:ada').toString()
      expect(splitToken(moved!).object).toBe(ada)
      expect(await storedSessionCount()).toBe(3)
      for (const other of others) expect(await other.user()).toBe('ada')
      expect(await client.withSession((s) => s.countSessions())).toBe(3)
      // The trail records no session ended by the cap.
      const trail = await client.withSession((s) => s.securityEvents())
      expect(trail.filter((e) => e.type === 'revoked')).toEqual([])
    })

    it('parallel first requests of an anonymous KV session make one session in one shard', async () => {
      const kvId = await kvSession(null)
      const app = appWith(optionsFor('do'))
      const responses = await Promise.all(
        Array.from({ length: 8 }, () =>
          app.request('/me', { headers: { Cookie: `sessionid=${kvId}` } }, env),
        ),
      )
      const cookies = responses.map(sessionCookieOf)
      expect(cookies).not.toContain('')
      expect(new Set(cookies.filter((c) => c !== undefined)).size).toBe(1)
      expect(await storedSessionCount()).toBe(1)
    })

    it('a request with the KV id after the move reaches the moved session: reads it, writes to it and gets its cookie', async () => {
      const kvId = await kvSession('ada')
      const first = browser('do', kvId)
      await first.get('/me')
      const moved = first.sessionCookie!
      // A request sent before the browser had the new cookie.
      const late = browser('do', kvId)
      const read = await late.get('/me')
      expect(await read.json()).toEqual({ user: 'ada', data: { color: 'blue' } })
      expect(read.headers.getSetCookie()).toEqual([])
      const wrote = await late.request('/note', { method: 'POST', body: 'late' })
      expect(wrote.status).toBe(200)
      expect(late.sessionCookie).toBe(moved)
      expect(await storedSessionCount()).toBe(1)
      expect(await (await first.get('/me')).json()).toEqual({
        user: 'ada',
        data: { color: 'blue', note: 'late' },
      })
    })

    it('a logout with the KV id after the move ends the moved session', async () => {
      const kvId = await kvSession('ada')
      const first = browser('do', kvId)
      await first.get('/me')
      const late = browser('do', kvId)
      expect((await late.post('/logout')).status).toBe(204)
      expect(await first.user()).toBeNull()
      expect(await storedSessionCount()).toBe(0)
      // Nothing revives it: neither the KV id nor a late move of the KV record.
      expect(await browser('do', kvId).user()).toBeNull()
      expect(await storedSessionCount()).toBe(0)
    })

    it('the forward lasts FORWARD_TTL_MS: after it the KV id reaches nothing, and never moves again', async () => {
      const kvId = await kvSession('ada')
      const first = browser('do', kvId)
      await first.get('/me')
      const clock = { now: Date.now() + FORWARD_TTL_MS + 1000 }
      const options = optionsFor('do', env.SESSIONS, { now: () => clock.now })
      const later = testClient(appWith(options), { env, session: options })
      later.cookies.set('sessionid', kvId)
      const res = await later.get('/me')
      expect(await res.json()).toEqual({ user: null, data: {} })
      expect(await storedSessionCount()).toBe(1)
      // The moved session itself carries on.
      expect(await first.user()).toBe('ada')
    })

    it('a login in the request that moves the session leaves no forward: the KV id is logged out', async () => {
      const kvId = await kvSession(null)
      const client = browser('do', kvId)
      await client.forceLogin('ada')
      expect(await env.SESSIONS.get(await kvRevokedKeyFor(kvId))).toBe('1')
      // The pre-login id never leads to the logged-in session (session fixation).
      expect(await browser('do', kvId).user()).toBeNull()
      expect(await client.user()).toBe('ada')
    })
  })

  it('is a Durable Object store like any other without the option: a KV id is no session', async () => {
    const kvId = await kvSession('ada')
    const options: SessionOptions = {
      store: durableObjectStore({ namespace: env.SESSION_OBJECTS }),
    }
    const client = testClient(appWith(options), { env, session: options })
    client.cookies.set('sessionid', kvId)
    expect(await client.user()).toBeNull()
    expect(await env.SESSIONS.get(await kvKeyFor(kvId))).not.toBeNull()
  })

  it('refuses a migrateFromKV that is not a KV namespace', () => {
    expect(() =>
      durableObjectStore({ namespace: env.SESSION_OBJECTS, migrateFromKV: {} as KVNamespace }),
    ).toThrowError(
      expect.objectContaining({
        code: 'INVALID_OPTION',
        message: expect.stringContaining('"migrateFromKV"'),
      }),
    )
  })
})
