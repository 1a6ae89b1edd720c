/**
 * The Durable Object store's guarantees (issue 13, section 2), each against the real
 * `SessionObject` in workerd: no mock, on a small app of the library's own. "In flight"
 * requests are built deterministically by holding one RPC call (see helpers/do.ts) until
 * the concurrent request has answered.
 */
import { env, runInDurableObject } from 'cloudflare:test'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { generateSessionId } from '../src/session/store'
import { durableObjectStore, type SessionObject } from '../src/session/durable-object'
import { SCHEMA_VERSION } from '../src/session/stores/durable-object/schema'
import { sha256Hex } from '../src/session/foundation/id'
import type { TestClient } from '../src/session/testing'
import { dataOf, logIn, sessionApp, type SessionApp, users } from './helpers/app'
import {
  allObjects,
  clearObjects,
  instrument,
  namedStub,
  rowOf,
  rowsIn,
  splitToken,
  storedSessionCount,
  type InstrumentedNamespace,
} from './helpers/do'
import { harness } from './helpers/harness'
import { setCookie } from './helpers/http'
import { clearKV } from './helpers/kv'

/** The app's users: `POST /password` renews one's verifier. */
const people = users()

/** An app on the Durable Object store over `namespace` (the real one unless given). */
const doApp = (
  namespace: DurableObjectNamespace<SessionObject> = env.SESSION_OBJECTS,
): SessionApp => sessionApp({ store: durableObjectStore({ namespace }) }, { users: people })

/** A fresh browser of a fresh app on the real namespace, sending `token`: nothing cached anywhere. */
const replay = (token: string): TestClient => doApp().browserWith(token)

/** An app whose namespace is behind a counting / holding wrapper. */
function instrumented(): { objects: InstrumentedNamespace; app: SessionApp } {
  const objects = instrument()
  return { objects, app: doApp(objects.namespace) }
}

let made = 0
/** A user name no other test uses: each user has an object of its own. */
const newUser = (): string => `user-${++made}-${crypto.randomUUID().slice(0, 8)}`

/** Every session row of every object, as text, to look for data that must not be there. */
async function everyRecord(): Promise<string[]> {
  const rows = await Promise.all((await allObjects()).map((stub) => rowsIn(stub)))
  return rows.flat().map((row) => row.record)
}

beforeEach(async () => {
  await Promise.all([clearObjects(), clearKV(env.SESSIONS)])
})

afterEach(() => {
  vi.restoreAllMocks()
})

describe('a write to an existing session', () => {
  it('is saved, with values loaded from the record and values from the request (changes cross RPC as JSON)', async () => {
    const b = doApp().browser()
    await b.post('/session', { json: { a: { b: 1 } } })
    const token = b.sessionCookie!
    const res = await b.post('/session', { json: { c: [1, { d: 2 }] } })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { data: unknown }).data).toEqual({
      a: { b: 1 },
      c: [1, { d: 2 }],
    })
    expect(b.sessionCookie).toBe(token)

    // A handler copying a loaded value (null prototypes at every depth) and deleting a key.
    const h = harness(
      { store: durableObjectStore({ namespace: env.SESSION_OBJECTS }) },
      { start: Date.now() },
    )
    h.cookies.set('sessionid', token)
    const copied = await h.run(async (s) => {
      await s.set('copy', await s.get('a'))
      await s.delete('c')
      return s.toObject()
    })
    expect(copied.res.status).toBe(200)
    expect(await dataOf(b)).toEqual({ a: { b: 1 }, copy: { b: 1 } })
  })
})

/** The handle of the browser's own session. */
async function current(b: TestClient): Promise<string> {
  return (await b.withSession((s) => s.listSessions())).find((s) => s.current)!.handle
}

/** How a session ends while a request that loaded it is still running. */
interface Interruption {
  name: string
  /** Ends the victim's session; `other` is another browser logged in as the same user. */
  run(victim: TestClient, other: TestClient): Promise<Response>
}

const interruptions: Interruption[] = [
  {
    name: 'a logout (flush()) in the same browser',
    run: (victim) => victim.post('/logout'),
  },
  {
    name: 'a cycleKey() in the same browser',
    run: (victim) => victim.post('/cycle'),
  },
  {
    name: 'revokeSession(handle) from another device',
    async run(victim, other) {
      return other.delete(`/sessions/${await current(victim)}`)
    },
  },
  {
    name: 'revokeOtherSessions() from another device',
    run: (_victim, other) => other.post('/sessions/revoke-others'),
  },
  {
    name: 'revokeAllSessions() from another device',
    run: (_victim, other) => other.post('/sessions/revoke-all'),
  },
]

/** A request the victim has in flight: it loads the session, then writes `marker`. */
const inFlight: { route: string; send(b: TestClient): Promise<Response>; marker: string }[] = [
  {
    route: 'POST /session',
    send: (b) => b.post('/session', { json: { inflight: 'marker-value' } }),
    marker: 'marker-value',
  },
  {
    route: 'GET /hit',
    send: (b) => b.get('/hit'),
    marker: '"hits"',
  },
]

describe('a save of a session that another request ended is refused (issue 13: it never comes back)', () => {
  describe.each(inFlight)('$route in flight', ({ send, marker }) => {
    it.each(interruptions)(
      'after $name: 409, no Set-Cookie, and the old id stays dead',
      async ({ run }) => {
        const { objects, app } = instrumented()
        const user = newUser()
        const victim = app.browser({ userAgent: 'victim' })
        const other = app.browser({ userAgent: 'other' })
        const token = await logIn(victim, user)
        await logIn(other, user)

        const held = objects.hold('update')
        const pending = send(victim) // loads the session, then waits at its save
        await held.reached
        const ended = await run(app.browserWith(token), other)
        expect(ended.status).toBe(200)
        held.release()
        const res = await pending

        expect(res.status).toBe(409)
        expect(res.headers.getSetCookie()).toEqual([])
        expect(res.headers.get('Content-Type')).toMatch(/^application\/json/)
        expect(await res.json()).toEqual({
          code: 'SESSION_INTERRUPTED',
          error:
            'The session was ended by another request while this one ran; its changes were not saved.',
        })

        // The old id has no session, from a fresh app instance and another browser...
        expect(await replay(token).user()).toBeNull()
        expect(await dataOf(replay(token))).toEqual({})
        // ...and its record is not back, nor the refused write anywhere.
        expect(await rowOf(token)).toBeNull()
        for (const record of await everyRecord()) expect(record).not.toContain(marker)
      },
    )
  })

  it("refuses a login whose anonymous session was logged out meanwhile, and leaves nothing in the user's object", async () => {
    const { objects, app } = instrumented()
    const user = newUser()
    const b = app.browser()
    await b.post('/session', { json: { cart: ['book'] } })
    const anonymous = b.sessionCookie!
    objects.reset()

    const held = objects.hold('create')
    const login = b.post('/login', { json: { user } })
    await held.reached
    expect((await app.browserWith(anonymous).post('/logout')).status).toBe(200)
    held.release()
    const res = await login

    expect(res.status).toBe(409)
    expect(await res.json()).toMatchObject({ code: 'SESSION_INTERRUPTED' })
    expect(res.headers.getSetCookie()).toEqual([])
    // The new session was written (in the user's object), found orphaned (the anonymous one could not be taken), and removed.
    const shard = splitToken(anonymous).object.slice(0, 8)
    const own = env.SESSION_OBJECTS.idFromName(`user:${user}`).toString().slice(0, 8)
    expect(objects.calls.log.filter((c) => !c.startsWith('load'))).toEqual([
      `create@${own}`,
      `destroy@${shard}`,
      `take@${shard}`,
      `destroy@${own}`,
    ])
    expect(await rowsIn(namedStub(`user:${user}`))).toEqual([])
    expect(await rowOf(anonymous)).toBeNull()
    expect(await storedSessionCount()).toBe(0)
  })

  it.each<[string, (b: TestClient, user: string) => Promise<Response>]>([
    ['a login again as the same user', (b, user) => b.post('/login', { json: { user } })],
    ['a password change (updateAuthHash())', (b) => b.post('/password')],
  ])(
    'refuses %s whose session was logged out meanwhile (checked in the object, with the insert)',
    async (_name, send) => {
      const { objects, app } = instrumented()
      const user = newUser()
      const b = app.browser()
      const token = await logIn(b, user)

      const held = objects.hold('create')
      const pending = send(b, user)
      await held.reached
      expect((await app.browserWith(token).post('/logout')).status).toBe(200)
      held.release()
      const res = await pending

      expect(res.status).toBe(409)
      expect(await res.json()).toMatchObject({ code: 'SESSION_INTERRUPTED' })
      expect(res.headers.getSetCookie()).toEqual([])
      expect(await rowsIn(namedStub(`user:${user}`))).toEqual([])
      expect(await replay(token).user()).toBeNull()
    },
  )
})

describe('concurrent requests on one session', () => {
  it('20 parallel POST /session with 20 distinct keys leave all 20 keys, round after round', async () => {
    const { objects, app } = instrumented()
    const b = app.browser()
    await b.post('/session', { json: { seed: true } })
    const token = b.sessionCookie!
    const expected: Record<string, unknown> = { seed: true }
    for (let round = 0; round < 3; round++) {
      objects.reset()
      // Every request has loaded the session before the first one writes: the worst case
      // for a store that writes each request's whole copy.
      const held = objects.hold('update', 20)
      const keys = Array.from({ length: 20 }, (_, i) => `r${round}k${i}`)
      const pending = keys.map((key) =>
        app.browserWith(token).post('/session', { json: { [key]: { round, key } } }),
      )
      await held.reached
      expect(objects.calls.byMethod.load).toBe(20)
      held.release()
      for (const res of await Promise.all(pending)) {
        expect(res.status).toBe(200)
        expect(setCookie(res, 'sessionid')?.value).toBe(token)
      }
      for (const key of keys) expected[key] = { round, key }
      expect(await dataOf(replay(token))).toEqual(expected)
    }
  })

  it('two concurrent writes of one key end with exactly one of the two values, never a mix', async () => {
    const { objects, app } = instrumented()
    const b = app.browser()
    await b.post('/session', { json: { other: 1 } })
    const token = b.sessionCookie!
    for (let round = 0; round < 5; round++) {
      const a = { writer: 'a', round, list: [1, 2, 3], nested: { onlyA: true } }
      const z = { writer: 'z', round, list: [9], nested: { onlyZ: null } }
      const held = objects.hold('update', 2)
      const pending = [a, z].map((value) =>
        app.browserWith(token).post('/session', { json: { cart: value } }),
      )
      await held.reached
      held.release()
      for (const res of await Promise.all(pending)) expect(res.status).toBe(200)
      const data = await dataOf(replay(token))
      expect([a, z]).toContainEqual(data.cart)
      expect(data.other).toBe(1)
    }
  })

  it('applies a delete and a concurrent set of another key', async () => {
    const { objects, app } = instrumented()
    const b = app.browser()
    await b.post('/session', { json: { gone: 1, kept: 2 } })
    const token = b.sessionCookie!
    const held = objects.hold('update', 2)
    const pending = [
      app.browserWith(token).delete('/session/gone'),
      app.browserWith(token).post('/session', { json: { added: 3 } }),
    ]
    await held.reached
    held.release()
    for (const res of await Promise.all(pending)) expect(res.status).toBe(200)
    expect(await dataOf(replay(token))).toEqual({ kept: 2, added: 3 })
  })

  it('refuses (413, no cookie) the write that would take the merged session over maxPayloadBytes', async () => {
    const { objects, app } = instrumented()
    const b = app.browser()
    await b.post('/session', { json: { small: 1 } })
    const token = b.sessionCookie!
    const held = objects.hold('update', 2)
    // Each fits on its own (40 KB of 64 KB); both together do not.
    const pending = ['one', 'two'].map((key) =>
      app.browserWith(token).post('/session', { json: { [key]: 'x'.repeat(40_000) } }),
    )
    await held.reached
    held.release()
    const responses = await Promise.all(pending)
    expect(responses.map((r) => r.status).sort()).toEqual([200, 413])
    const refused = responses.find((r) => r.status === 413)!
    expect(refused.headers.getSetCookie()).toEqual([])
    expect(await refused.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
    const data = await dataOf(replay(token))
    expect(Object.keys(data).sort()).toHaveLength(2)
    expect(data.small).toBe(1)
  })
})

/** A revocation, and which of the browsers A, B, C it ends (the others stay logged in). */
const revocations: {
  name: string
  run(a: TestClient, b: TestClient, handleOfA: string): Promise<Response>
  ends: ('a' | 'b' | 'c')[]
}[] = [
  { name: 'POST /logout', run: (a) => a.post('/logout'), ends: ['a'] },
  {
    name: 'DELETE /sessions/:handle (revokeSession)',
    run: (_a, b, handle) => b.delete(`/sessions/${handle}`),
    ends: ['a'],
  },
  {
    name: 'POST /sessions/revoke-others (revokeOtherSessions)',
    run: (a) => a.post('/sessions/revoke-others'),
    ends: ['b', 'c'],
  },
  {
    name: 'POST /sessions/revoke-all (revokeAllSessions)',
    run: (a) => a.post('/sessions/revoke-all'),
    ends: ['a', 'b', 'c'],
  },
]

describe('revocation is immediate', () => {
  it.each(revocations)(
    'after the response to $name, every request with a revoked id has no session',
    async ({ run, ends }) => {
      const user = newUser()
      const app = doApp()
      const browsers = { a: app.browser(), b: app.browser(), c: app.browser() }
      const tokens = {
        a: await logIn(browsers.a, user),
        b: await logIn(browsers.b, user),
        c: await logIn(browsers.c, user),
      }
      const handleOfA = await current(browsers.a)

      expect((await run(browsers.a, browsers.b, handleOfA)).status).toBe(200)

      for (const name of ['a', 'b', 'c'] as const) {
        // A fresh app instance and another browser: nothing cached anywhere.
        if (!ends.includes(name)) {
          expect(await replay(tokens[name]).user(), name).toBe(user)
          continue
        }
        expect(await replay(tokens[name]).user(), name).toBeNull()
        expect(await dataOf(replay(tokens[name])), name).toEqual({})
        // A write with the old id starts a new session under a new id; the old one stays dead.
        const write = replay(tokens[name])
        expect((await write.post('/session', { json: { k: 1 } })).status).toBe(200)
        expect(write.sessionCookie).not.toBe(tokens[name])
        expect(await rowOf(tokens[name])).toBeNull()
        expect(await replay(tokens[name]).user()).toBeNull()
      }
    },
  )
})

describe('storage: what is kept, and where', () => {
  /**
   * Every cell of every table of an object's SQLite database, as text: ours and the
   * runtime's KV table (`_cf_KV`, where `ctx.storage.put` would write). The runtime's
   * `_cf_METADATA` cannot be read (SQLITE_AUTH).
   */
  async function everyCell(
    stub: DurableObjectStub<SessionObject>,
  ): Promise<{ tables: string[]; cells: string[] }> {
    return runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql
      const tables = sql
        .exec<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name != '_cf_METADATA'",
        )
        .toArray()
        .map((t) => t.name)
      return {
        tables,
        cells: tables.flatMap((table) =>
          [...sql.exec(`SELECT * FROM "${table}"`).raw()].flat().map(String),
        ),
      }
    })
  }

  it('keeps only the SHA-256 of a session id, never the id, in any table', async () => {
    const user = newUser()
    const loggedIn = await logIn(doApp().browser(), user)
    const anon = doApp().browser()
    await anon.post('/session', { json: { a: 1 } })
    for (const token of [loggedIn, anon.sessionCookie!]) {
      const { id, object } = splitToken(token)
      const row = await rowOf(token)
      expect(row?.hash).toBe(await sha256Hex(id))
      const { tables, cells } = await everyCell(
        env.SESSION_OBJECTS.get(env.SESSION_OBJECTS.idFromString(object)),
      )
      expect(tables).toEqual(expect.arrayContaining(['meta', 'sessions']))
      expect(cells).toContain(row!.hash)
      for (const cell of cells) expect(cell).not.toContain(id)
    }
  })

  it("puts a logged-in session in its user's object, and moves it out of the anonymous shard at login", async () => {
    const user = newUser()
    const b = doApp().browser()
    await b.post('/session', { json: { cart: 1 } })
    const anonymous = b.sessionCookie!
    const token = await logIn(b, user)
    expect(splitToken(token).object).toBe(env.SESSION_OBJECTS.idFromName(`user:${user}`).toString())
    const rows = await rowsIn(namedStub(`user:${user}`))
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ hash: await sha256Hex(splitToken(token).id), user })
    expect(await rowOf(anonymous)).toBeNull()
    expect(await storedSessionCount()).toBe(1)
  })

  it('spreads anonymous sessions over the anon:<n> shards, bound to no user', async () => {
    const shards = new Map(
      Array.from({ length: 32 }, (_, n) => [
        env.SESSION_OBJECTS.idFromName(`anon:${n}`).toString(),
        n,
      ]),
    )
    const used = new Set<number>()
    for (let i = 0; i < 16; i++) {
      const b = doApp().browser()
      await b.post('/session', { json: { i } })
      const { object } = splitToken(b.sessionCookie!)
      expect(shards.has(object), object).toBe(true)
      used.add(shards.get(object)!)
      expect(await rowOf(b.sessionCookie!)).toMatchObject({ user: null, country: null, colo: null })
    }
    // 16 sessions all in one of 32 shards would happen once in 32^15 runs.
    expect(used.size).toBeGreaterThan(1)
  })

  it('keeps a cycled anonymous session in its shard, where the session it replaces is checked and moved with the insert', async () => {
    const { objects, app } = instrumented()
    const b = app.browser()
    await b.post('/session', { json: { cart: 1 } })
    for (let i = 0; i < 5; i++) {
      const before = b.sessionCookie!
      objects.reset()
      expect((await b.post('/cycle')).status).toBe(200)
      expect(b.sessionCookie).not.toBe(before)
      expect(splitToken(b.sessionCookie!).object).toBe(splitToken(before).object)
      expect(objects.calls.log).toEqual(
        ['load', 'create'].map((m) => `${m}@${splitToken(before).object.slice(0, 8)}`),
      )
    }
    expect(await storedSessionCount()).toBe(1)
  })

  it('puts an anonymous session that replaces a logged-in one (logout, then a write) in an anonymous shard', async () => {
    const user = newUser()
    const shards = new Set(
      Array.from({ length: 32 }, (_, n) => env.SESSION_OBJECTS.idFromName(`anon:${n}`).toString()),
    )
    const h = harness(
      { store: durableObjectStore({ namespace: env.SESSION_OBJECTS }) },
      { start: Date.now() },
    )
    await h.run(async (s) => s.login(user))
    await h.run(async (s) => {
      await s.flush()
      await s.set('after', 'logout')
    })
    const token = h.cookies.get('sessionid')!
    expect(shards.has(splitToken(token).object)).toBe(true)
    expect(await rowsIn(namedStub(`user:${user}`))).toEqual([])
  })

  it('keeps every anonymous session in anon:0 with anonymousShards: 1', async () => {
    const h = harness(
      { store: durableObjectStore({ namespace: env.SESSION_OBJECTS, anonymousShards: 1 }) },
      { start: Date.now() },
    )
    for (let i = 0; i < 3; i++) {
      h.cookies.clear()
      await h.run(async (s) => s.set('i', i))
      expect(splitToken(h.cookies.get('sessionid')!).object).toBe(
        env.SESSION_OBJECTS.idFromName('anon:0').toString(),
      )
    }
  })

  it('writes the schema version in meta; sessions is WITHOUT ROWID with no secondary index', async () => {
    const user = newUser()
    await logIn(doApp().browser(), user)
    const schema = await runInDurableObject(namedStub(`user:${user}`), (_instance, state) => {
      const sql = state.storage.sql
      return {
        meta: sql.exec('SELECT * FROM meta').toArray(),
        ddl: sql
          .exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'sessions'")
          .one().sql,
        indexes: sql
          .exec<{ origin: string }>('PRAGMA index_list(sessions)')
          .toArray()
          .map((i) => i.origin),
      }
    })
    expect(schema.meta).toEqual([{ id: 1, schema_version: SCHEMA_VERSION }])
    expect(schema.ddl).toMatch(/\) WITHOUT ROWID$/)
    expect(schema.indexes).toEqual(['pk'])
  })
})

describe('tokens the namespace did not make', () => {
  const id = generateSessionId()
  const real = env.SESSION_OBJECTS.idFromName('anon:0').toString()
  const unique = env.SESSION_OBJECTS.newUniqueId().toString()
  const flipped = unique.slice(0, -1) + (unique.endsWith('0') ? '1' : '0')
  const randomHex = [...crypto.getRandomValues(new Uint8Array(32))]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('')

  it.each([
    ['an all-zero object id', `${id}.${'0'.repeat(64)}`],
    ['a random 64-hex object id', `${id}.${randomHex}`],
    ['a unique id with its last digit changed', `${id}.${flipped}`],
    ['a real object id in upper case', `${id}.${real.toUpperCase()}`],
    ['63 hex digits', `${id}.${real.slice(1)}`],
    ['65 hex digits', `${id}.${real}0`],
    ['no object id (a KV-store id)', id],
    ['a trailing part', `${id}.${real}.x`],
    ['a short session id', `${id.slice(1)}.${real}`],
    ['path traversal', '../../etc/passwd'],
  ])(
    'reads %s as no session, without error and without reaching any object',
    async (_name, token) => {
      const warn = vi.spyOn(console, 'warn')
      const error = vi.spyOn(console, 'error')
      const { objects, app } = instrumented()
      const res = await app.browserWith(token).get('/whoami')
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ user: null })
      // At most the deletion of the cookie the client sent.
      for (const cookie of res.headers.getSetCookie())
        expect(cookie).toMatch(/^sessionid=; Max-Age=0;/)
      expect(objects.total).toBe(0)
      expect(objects.calls.namespace.get).toBeUndefined()
      expect(warn).not.toHaveBeenCalled()
      expect(error).not.toHaveBeenCalled()
    },
  )

  it('reads an unknown id in a real object as no session, with one call to that object', async () => {
    const { objects, app } = instrumented()
    const res = await app.browserWith(`${id}.${real}`).get('/whoami')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ user: null })
    expect(objects.calls.log).toEqual([`load@${real.slice(0, 8)}`])
  })
})
