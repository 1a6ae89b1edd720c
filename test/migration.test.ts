/**
 * Moving from KV to Durable Objects without logging anyone out (issue 20, item 6):
 * `durableObjectStore({ migrateFromKV })`, on both real stores at once. A session written
 * by the KV store is read under the Durable Object store with the same cookie.
 */
import { env, listDurableObjectIds, runInDurableObject } from 'cloudflare:test'
import { Hono } from 'hono'
import { beforeEach, describe, expect, it } from 'vitest'
import { kvStore, session, type SessionEnv, type SessionOptions } from '../src/session'
import { kvKeyFor, kvRevokedKeyFor } from '../src/session/stores/kv'
import { durableObjectStore } from '../src/session/durable-object'
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
function optionsFor(store: 'kv' | 'do', kv: KVNamespace = env.SESSIONS): SessionOptions {
  return {
    store:
      store === 'kv'
        ? kvStore({ namespace: kv })
        : durableObjectStore({ namespace: env.SESSION_OBJECTS, migrateFromKV: kv }),
    authHash: (_c, user) => env.USERS.get(USERS + user),
  }
}

function appWith(options: SessionOptions): Hono<SessionEnv> {
  const app = new Hono<SessionEnv>()
  app.use(session(options))
  app.get('/me', async (c) =>
    c.json({ user: await c.get('session').getUser(), data: await c.get('session').toObject() }),
  )
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
    expect(await env.SESSIONS.get(await kvRevokedKeyFor(kvId))).toBe('1')
    // "Your sessions" lists it, and the old KV id now reaches nothing.
    expect(await client.withSession((s) => s.listSessions())).toHaveLength(1)
    expect(await browser('do', kvId).user()).toBeNull()
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
