/**
 * `clearSessions()` of `edge-session/testing`: given the app's session options, it empties
 * the store they name (the KV namespace, the Durable Object namespace, both while moving
 * from KV, nothing for the cookie store) on the pool's real bindings, and leaves the rest.
 */
import {
  env,
  listDurableObjectIds,
  runDurableObjectAlarm,
  runInDurableObject,
} from 'cloudflare:test'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import {
  cookieStore,
  kvStore,
  type SessionEvent,
  session,
  type SessionEnv,
  type SessionOptions,
} from '../src/session'
import { durableObjectStore, userSessions } from '../src/session/durable-object'
import { clearSessions, type TestClient, testClient } from '../src/session/testing'
import { namedStub, storedSessionCount } from './helpers/do'

type AppEnv = SessionEnv & { Bindings: Cloudflare.Env }
const POOL = { env, listDurableObjectIds, runInDurableObject }

/** An app whose one route stores something in the session. */
function appWith(options: SessionOptions<AppEnv>): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.use(session<AppEnv>(options))
  app.post('/', async (c) => {
    await c.get('session').set('n', 1)
    return c.body(null, 204)
  })
  return app
}

/** Leaves one anonymous and one logged-in session (and a logout's marker) on the options' store. */
async function fill(options: SessionOptions<AppEnv>): Promise<void> {
  const app = appWith(options)
  await testClient(app, { env, session: options }).post('/')
  const client = testClient(app, { env, session: options })
  await client.forceLogin('ada')
  await client.logout()
  await testClient(app, { env, session: options }).forceLogin('ada')
}

const kvKeys = async (namespace: KVNamespace, prefix = ''): Promise<string[]> =>
  (await namespace.list({ prefix })).keys.map((k) => k.name)
/** The KV store's session records in SESSIONS. */
const storedRecords = (): Promise<string[]> => kvKeys(env.SESSIONS, 'session:')

const onObjects: SessionOptions<AppEnv> = {
  store: (c) => durableObjectStore({ namespace: c.env.SESSION_OBJECTS }),
}

describe('clearSessions()', () => {
  it('empties the KV namespace of the default store, sessions and markers, and nothing else', async () => {
    await fill({})
    await env.SESSIONS.put('other:key', 'kept')
    expect(await storedRecords()).toHaveLength(2)
    expect(await clearSessions({}, { env })).toEqual({ kv: { SESSIONS: 3 }, durableObjects: {} })
    expect(await kvKeys(env.SESSIONS)).toEqual(['other:key'])
    await env.SESSIONS.delete('other:key')
  })

  it('empties the namespace kvBinding or a kvStore() names, and no other', async () => {
    await fill({})
    await fill({ kvBinding: 'USERS' })
    const onUsers: SessionOptions<AppEnv> = { store: (c) => kvStore({ namespace: c.env.USERS }) }
    expect(await clearSessions(onUsers, { env })).toEqual({ kv: { USERS: 3 }, durableObjects: {} })
    expect(await kvKeys(env.USERS)).toEqual([])
    expect(await storedRecords()).toHaveLength(2)
    expect((await clearSessions({ kvBinding: 'SESSIONS' }, { env })).kv).toEqual({ SESSIONS: 3 })
  })

  it('empties every object of the Durable Object store, and their alarms', async () => {
    await fill(onObjects)
    expect(await storedSessionCount()).toBe(2)
    const cleared = await clearSessions(onObjects, POOL)
    expect(cleared.kv).toEqual({})
    expect(cleared.durableObjects['SESSION_OBJECTS']).toBeGreaterThanOrEqual(2)
    expect(await storedSessionCount()).toBe(0)
    expect(await runDurableObjectAlarm(namedStub('user:ada'))).toBe(false)
  })

  it('empties the security trails and known devices too, so the next login is a new device', async () => {
    const events: SessionEvent[] = []
    const options: SessionOptions<AppEnv> = {
      ...onObjects,
      onEvent: (event) => void events.push(event),
    }
    const app = appWith(options)
    const trail = () => userSessions({ namespace: env.SESSION_OBJECTS }).securityEvents('ada')
    const loginFrom = async (client: TestClient<AppEnv>) => {
      await client.forceLogin('ada')
      await client.logout()
    }
    const browser = testClient(app, { env, session: options })
    await loginFrom(browser)
    await loginFrom(browser)
    expect((await trail()).map((event) => event.type)).toEqual([
      'logout',
      'login',
      'logout',
      'login',
    ])
    await clearSessions(options, POOL)
    expect(await trail()).toEqual([])
    events.length = 0
    await loginFrom(browser) // the same browser, its device cookie kept
    const logins = events.filter((event) => event.type === 'login')
    expect(logins.map((event) => event.newDevice)).toEqual([true])
  })

  it("forgets the login throttle's failed logins, so a lock does not outlive the test", async () => {
    const app = new Hono<AppEnv>()
    app.use(session<AppEnv>(onObjects))
    app.post('/fail', async (c) => {
      await c.get('session').loginFailed('locked-ada')
      return c.body(null, 401)
    })
    for (let i = 0; i < 5; i++) await testClient(app, { env, session: onObjects }).post('/fail')
    const before = await testClient(app, { env, session: onObjects }).post('/fail')
    expect(before.status).toBe(429)
    await clearSessions(onObjects, POOL)
    const after = await testClient(app, { env, session: onObjects }).post('/fail')
    expect(after.status).toBe(401)
  })

  it('empties both stores while moving from KV (migrateFromKV)', async () => {
    const moving: SessionOptions<AppEnv> = {
      store: (c) =>
        durableObjectStore({ namespace: c.env.SESSION_OBJECTS, migrateFromKV: c.env.SESSIONS }),
    }
    await fill({})
    await fill(moving)
    const cleared = await clearSessions(moving, POOL)
    expect(Object.keys(cleared.kv)).toEqual(['SESSIONS'])
    expect(Object.keys(cleared.durableObjects)).toEqual(['SESSION_OBJECTS'])
    expect(await storedRecords()).toEqual([])
    expect(await storedSessionCount()).toBe(0)
  })

  it('clears nothing for the cookie store, which keeps nothing on the server', async () => {
    const onCookies: SessionOptions<AppEnv> = {
      store: cookieStore({ secret: 'edge-session clear tests secret, 32+ bytes' }),
    }
    await fill({})
    expect(await clearSessions(onCookies, POOL)).toEqual({ kv: {}, durableObjects: {} })
    expect(await storedRecords()).toHaveLength(2)
    await clearSessions({}, { env })
  })

  it('rejects a Durable Object store without the pool helpers, naming them', async () => {
    await expect(clearSessions(onObjects, { env })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringContaining('SESSION_OBJECTS: pass listDurableObjectIds'),
    })
  })

  it("rejects with the store's own error when env lacks its binding", async () => {
    await expect(clearSessions({}, { env: {} })).rejects.toMatchObject({ code: 'MISSING_STORE' })
  })
})
