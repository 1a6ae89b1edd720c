/**
 * The compound races of issue 17 on the Durable Object store, each against the real
 * `SessionObject` in workerd. A request is held at an exact point of its handler (a gate
 * the test opens), so the interleaving that lost a write or undid a logout is built
 * deterministically, not hoped for; the object's own calls are interleaved by calling its
 * stub directly. Then the same races over HTTP, the requests placed close together.
 */
import { env } from 'cloudflare:test'
import { Hono } from 'hono'
import { beforeEach, describe, expect, it } from 'vitest'
import { session, SessionError, type Session, type SessionEnv } from '../src/session'
import type { SessionRecord } from '../src/session/store'
import { durableObjectStore } from '../src/session/durable-object'
import { DEFAULT_RETENTION, type Recording } from '../src/session/stores/durable-object/object'
import type { SessionRow } from '../src/session/stores/durable-object/schema'
import { decodeRecord, encodeRecord } from '../src/session/stores/record'
import { dataOf, logIn, sessionApp } from './helpers/app'
import { clearObjects, namedStub, rowOf, rowsIn, storedSessionCount } from './helpers/do'
import { setCookie } from './helpers/http'

/** A direct call that records nothing in the trail. */
const NOTHING: Recording = { events: [], knownDevice: null, retention: DEFAULT_RETENTION }

/** The user's current verifier, as `authHash` reads it; a password change replaces it. */
const verifiers = new Map<string, string>()

type Step = (s: Session) => Promise<unknown>
const steps = new Map<string, Step>()
const app = new Hono<SessionEnv>()
app.use(
  session({
    store: durableObjectStore({ namespace: env.SESSION_OBJECTS }),
    authHash: (_c, user) => verifiers.get(user) ?? null,
  }),
)
app.onError((err, c) =>
  err instanceof SessionError
    ? c.json({ code: err.code }, err.status)
    : c.json({ error: String(err) }, 500),
)
app.all('*', async (c) =>
  c.json(((await steps.get(c.req.header('x-step')!)!(c.get('session'))) ?? null) as object),
)

/** One request of a browser holding `token`: its status, and the session cookie it was sent back, if any. */
async function send(
  token: string | undefined,
  step: Step,
): Promise<{
  status: number
  token: string | undefined
  cookie: string | undefined
  body: unknown
}> {
  const id = crypto.randomUUID()
  steps.set(id, step)
  const headers: Record<string, string> = { 'x-step': id }
  if (token !== undefined) headers.Cookie = `sessionid=${token}`
  const res = await app.request('http://example.com/', { method: 'POST', headers }, env)
  steps.delete(id)
  const cookie = setCookie(res, 'sessionid')
  return {
    status: res.status,
    token:
      cookie === undefined ? token : cookie.attrs['max-age'] === '0' ? undefined : cookie.value,
    cookie: cookie?.raw,
    body: await res.json(),
  }
}

/**
 * Where a request waits: its step calls `hold()`, which resolves `reached` (the request
 * has loaded the session and done what it does before the gate) and waits until the test
 * calls `open()`.
 */
function gate(): { hold(): Promise<void>; reached: Promise<void>; open(): void } {
  let open!: () => void
  let arrived!: () => void
  const wait = new Promise<void>((resolve) => (open = resolve))
  const reached = new Promise<void>((resolve) => (arrived = resolve))
  return {
    hold() {
      arrived()
      return wait
    },
    reached,
    open,
  }
}

/** The stored record of a token's session (`null` when there is none). */
async function record(
  token: string,
): Promise<{ data: Record<string, unknown>; expiry: unknown; expiresAt: number } | null> {
  const row = await rowOf(token)
  if (row === null) return null
  const decoded = decodeRecord(row.record)
  if (typeof decoded === 'string') throw new Error(decoded)
  return JSON.parse(JSON.stringify(decoded)) as {
    data: Record<string, unknown>
    expiry: unknown
    expiresAt: number
  }
}

const data = async (token: string): Promise<unknown> =>
  (await send(token, async (s) => s.toObject())).body

let users = 0
const newUser = (): string => {
  const user = `race-${++users}-${crypto.randomUUID().slice(0, 8)}`
  verifiers.set(user, `verifier of ${user}`)
  return user
}

beforeEach(async () => {
  await clearObjects()
})

describe('1. emptying a session while another request writes a key', () => {
  it('keeps the concurrent write: the emptying applies its deletions and the row stays, not destroyed', async () => {
    const first = await send(undefined, async (s) => s.set('a', 1))
    const token = first.token!
    const g = gate()
    const emptying = send(token, async (s) => {
      await s.delete('a') // the request's own view is now empty
      await g.hold()
    })
    await g.reached // the emptying request has loaded
    const write = await send(token, async (s) => s.set('b', 2))
    expect(write.status).toBe(200)
    g.open()
    const emptied = await emptying
    expect(emptied.status).toBe(200)
    // The session carries on with b: the emptying request does not delete the client's cookie.
    expect(emptied.cookie).toBeUndefined()
    expect(await data(token)).toEqual({ b: 2 })
  })

  it('still removes the row, and the cookie, when nothing else was written', async () => {
    const token = (await send(undefined, async (s) => s.set('a', 1))).token!
    const emptied = await send(token, async (s) => s.delete('a'))
    expect(emptied.cookie).toMatch(/^sessionid=; Max-Age=0/)
    expect(await rowOf(token)).toBeNull()
  })
})

describe('2. setExpiry() while another request writes another key', () => {
  it.each([
    ['setExpiry(300)', 300, { age: 300 }, 'Max-Age=300'],
    ['setExpiry(0) (until the browser closes)', 0, { age: 0 }, null],
  ] as const)(
    '%s stays: the other write keeps the stored expiry, and its cookie follows it',
    async (_name, seconds, stored, maxAge) => {
      const token = (await send(undefined, async (s) => s.set('a', 1))).token!
      const g = gate()
      const writer = send(token, async (s) => {
        await s.set('b', 2)
        await g.hold()
      })
      await g.reached
      expect((await send(token, async (s) => s.setExpiry(seconds))).status).toBe(200)
      g.open()
      const written = await writer
      expect(written.status).toBe(200)
      const after = await record(token)
      expect(after?.expiry).toEqual(stored)
      expect(after?.data).toEqual({ a: 1, b: 2 })
      // The expiry the row keeps is the one set, not the two-week default the writer loaded.
      expect(after!.expiresAt - Date.now()).toBeLessThan(
        (seconds === 0 ? 14 * 86_400 : seconds) * 1000 + 5_000,
      )
      if (maxAge === null) expect(written.cookie).not.toMatch(/Max-Age|Expires/)
      else expect(written.cookie).toContain(maxAge)
    },
  )
})

describe('3. a write on the old key across a concurrent key change', () => {
  it.each([
    ['cycleKey()', async (s: Session) => s.cycleKey()],
    [
      'updateAuthHash() (a password change)',
      async (s: Session) => {
        verifiers.set((await s.getUser())!, `new verifier ${crypto.randomUUID()}`)
        await s.updateAuthHash()
      },
    ],
  ])(
    'a write that landed before %s moved the row is in the session that carries on',
    async (_name, change) => {
      const user = newUser()
      const token = (await send(undefined, async (s) => s.login(user))).token!
      const g = gate()
      const changing = send(token, async (s) => {
        await s.getUser() // loaded: the write below lands between this load and the key change
        await g.hold()
        await change(s)
      })
      await g.reached
      const write = await send(token, async (s) => s.set('cart', ['book']))
      expect(write.status).toBe(200)
      g.open()
      const moved = await changing
      expect(moved.status).toBe(200)
      expect(moved.token).not.toBe(token)
      expect(await data(moved.token!)).toEqual({ cart: ['book'] })
      expect(await rowOf(token)).toBeNull()
    },
  )

  it('a write that arrives after the move is refused with 409 and no Set-Cookie, never "200 and lost"', async () => {
    const user = newUser()
    const token = (await send(undefined, async (s) => s.login(user))).token!
    const g = gate()
    const writer = send(token, async (s) => {
      await s.get('x') // loaded before the move
      await g.hold()
      await s.set('late', 1)
    })
    await g.reached
    const moved = await send(token, async (s) => s.cycleKey())
    g.open()
    const late = await writer
    expect(late.status).toBe(409)
    expect(late.body).toEqual({ code: 'SESSION_INTERRUPTED' })
    expect(late.cookie).toBeUndefined()
    expect(await data(moved.token!)).toEqual({})
  })

  it.each([
    ['cycleKey()', async (token: string) => (await send(token, async (s) => s.cycleKey())).token!],
    [
      'a login from an anonymous session',
      async (token: string) => (await send(token, async (s) => s.login(newUser()))).token!,
    ],
  ])(
    'a request that loads the old key just after %s: its write is refused (409), a read leaves the cookie alone',
    async (_name, move) => {
      const token = (await send(undefined, async (s) => s.set('cart', ['book']))).token!
      const moved = await move(token)
      const write = await send(token, async (s) => s.set('late', 1))
      expect(write.status).toBe(409)
      expect(write.body).toEqual({ code: 'SESSION_INTERRUPTED' })
      expect(write.cookie).toBeUndefined()
      const read = await send(token, async (s) => s.get('cart'))
      expect([read.status, read.body, read.cookie]).toEqual([200, null, undefined])
      expect(await data(moved)).toEqual({ cart: ['book'] })
    },
  )

  it('a login from an anonymous session keeps a write to the anonymous session that landed meanwhile', async () => {
    const user = newUser()
    const anonymous = (await send(undefined, async (s) => s.set('cart', ['book']))).token!
    const g = gate()
    const login = send(anonymous, async (s) => {
      await s.login(user)
      await g.hold()
    })
    await g.reached
    expect((await send(anonymous, async (s) => s.set('cart', ['book', 'pen']))).status).toBe(200)
    g.open()
    const loggedIn = await login
    expect(loggedIn.status).toBe(200)
    expect(await data(loggedIn.token!)).toEqual({ cart: ['book', 'pen'] })
    expect(await rowOf(anonymous)).toBeNull()
  })
})

describe('4. a logout while a cycleKey() of the same session is in flight', () => {
  it('ends the session under the new key too: the device is logged out and no longer listed', async () => {
    const user = newUser()
    const token = (await send(undefined, async (s) => s.login(user))).token!
    const other = (await send(undefined, async (s) => s.login(user))).token!
    const g = gate()
    const logout = send(token, async (s) => {
      await s.getUser() // loaded before the cycle
      await g.hold()
      await s.flush()
    })
    await g.reached
    const cycled = await send(token, async (s) => s.cycleKey())
    expect(cycled.status).toBe(200)
    g.open()
    expect((await logout).status).toBe(200)
    expect((await send(cycled.token!, async (s) => s.getUser())).body).toBeNull()
    const listed = (await send(other, async (s) => s.listSessions())).body as unknown[]
    expect(listed).toHaveLength(1)
    expect(await rowsIn(namedStub(`user:${user}`))).toHaveLength(1)
  })

  it('ends the session when the object is asked directly, in that order (destroy of the old key after the move)', async () => {
    const user = newUser()
    const token = (await send(undefined, async (s) => s.login(user))).token!
    const cycled = (await send(token, async (s) => s.cycleKey())).token!
    const stub = namedStub(`user:${user}`)
    const { sha256Hex } = await import('../src/session/foundation/id')
    expect((await stub.destroy(await sha256Hex(token.split('.')[0]!), NOTHING)).ended).toBe(true)
    expect(await rowOf(cycled)).toBeNull()
  })
})

describe('5. listSessions() while another device changes the password', () => {
  it('does not delete the row of the device that changed it', async () => {
    const user = newUser()
    const lister = (await send(undefined, async (s) => s.login(user))).token!
    const changer = (await send(undefined, async (s) => s.login(user))).token!
    const g = gate()
    const listing = send(lister, async (s) => {
      await s.getUser() // its verifier checked: still the current one
      await g.hold()
      return s.listSessions()
    })
    await g.reached
    const changed = await send(changer, async (s) => {
      await s.getUser()
      verifiers.set(user, `new verifier ${crypto.randomUUID()}`)
      await s.updateAuthHash()
    })
    expect(changed.status).toBe(200)
    g.open()
    await listing
    expect((await send(changed.token!, async (s) => s.getUser())).body).toBe(user)
    expect(await rowOf(changed.token!)).not.toBeNull()
  })
})

describe("the object's calls, interleaved directly on its stub", () => {
  const LIFETIME = { maxAge: 1_209_600, absoluteMaxAge: null }
  const MAX = 65_536
  const rec = (
    data: Record<string, unknown>,
    now: number,
    expiry: SessionRecord['expiry'] = null,
    hash: string | null = null,
  ): string =>
    encodeRecord(
      {
        data,
        expiry,
        expiresAt: now + 1_209_600_000,
        createdAt: now,
        auth: hash === null ? null : { user: 'direct', hash },
      },
      MAX,
    )
  const row = (hash: string, record: string, now: number): SessionRow => ({
    hash,
    handle: `h-${hash}`,
    user: 'direct',
    record,
    created_at: now,
    last_seen_at: now,
    expires_at: now + 1_209_600_000,
    user_agent: null,
    country: null,
    colo: null,
    device: null,
    region: null,
    city: null,
  })
  const stub = () => namedStub(`user:direct-${crypto.randomUUID()}`)

  it('1: an emptying update() after another update() of a new key keeps the row with that key', async () => {
    const s = stub()
    const now = Date.now()
    await s.create(
      row('k1', rec({ a: 1 }, now), now),
      { from: [], changes: null, lifetime: LIFETIME, maxPayloadBytes: MAX },
      now,
      NOTHING,
    )
    // Both loaded { a: 1 }; the write of b lands first.
    expect(
      await s.update(
        'k1',
        {
          record: rec({ a: 1, b: 2 }, now),
          changes: { set: ['b'], deleted: [], expiry: false },
          now,
          maxPayloadBytes: MAX,
          lifetime: LIFETIME,
        },
        NOTHING,
      ),
    ).toMatchObject({ status: 'ok' })
    expect(
      await s.empty('k1', {
        record: rec({}, now),
        changes: { set: [], deleted: ['a'], expiry: false },
        now,
        maxPayloadBytes: MAX,
        lifetime: LIFETIME,
      }),
    ).toMatchObject({ status: 'ok' })
    expect(JSON.parse((await rowsIn(s))[0]!.record).data).toEqual({ b: 2 })
    // Emptied again with nothing else written: the row goes.
    expect(
      await s.empty('k1', {
        record: rec({}, now),
        changes: { set: [], deleted: ['b'], expiry: false },
        now,
        maxPayloadBytes: MAX,
        lifetime: LIFETIME,
      }),
    ).toEqual({ status: 'ended' })
    expect(await rowsIn(s)).toEqual([])
  })

  it('2: an update() that did not change the expiry keeps the one a previous update() set, and expiresAt follows it', async () => {
    const s = stub()
    const now = Date.now()
    await s.create(
      row('k1', rec({ a: 1 }, now), now),
      { from: [], changes: null, lifetime: LIFETIME, maxPayloadBytes: MAX },
      now,
      NOTHING,
    )
    const withExpiry = encodeRecord(
      {
        data: { a: 1 },
        expiry: { age: 300 },
        expiresAt: now + 300_000,
        createdAt: now,
        auth: null,
      },
      MAX,
    )
    await s.update(
      'k1',
      {
        record: withExpiry,
        changes: { set: [], deleted: [], expiry: true },
        now,
        maxPayloadBytes: MAX,
        lifetime: LIFETIME,
      },
      NOTHING,
    )
    const result = await s.update(
      'k1',
      {
        record: rec({ a: 1, b: 2 }, now),
        changes: { set: ['b'], deleted: [], expiry: false },
        now,
        maxPayloadBytes: MAX,
        lifetime: LIFETIME,
      },
      NOTHING,
    )
    expect(result).toEqual({
      status: 'ok',
      expiry: { age: 300 },
      expiresAt: now + 300_000,
      events: [],
    })
    expect((await rowsIn(s))[0]!.expires_at).toBe(now + 300_000)
  })

  it('5: list() with the verifier of a session checked before a password change ends only the rows of the old verifier', async () => {
    const s = stub()
    const now = Date.now()
    const [h1, h2] = ['1'.repeat(64), '2'.repeat(64)]
    await s.create(
      row('old', rec({}, now, null, h1), now),
      { from: [], changes: null, lifetime: LIFETIME, maxPayloadBytes: MAX },
      now,
      NOTHING,
    )
    await s.create(
      row('changer', rec({}, now, null, h1), now),
      { from: [], changes: null, lifetime: LIFETIME, maxPayloadBytes: MAX },
      now,
      NOTHING,
    )
    // The changer moves to a new key bound to h2 (updateAuthHash()), then the old session lists with h1, checked before.
    expect(
      await s.create(
        row('changed', rec({}, now, null, h2), now),
        { from: ['changer'], changes: null, lifetime: LIFETIME, maxPayloadBytes: MAX },
        now,
        NOTHING,
      ),
    ).toMatchObject({ status: 'ok' })
    const listed = await s.list('direct', now, h1)
    expect(listed.map((r) => r.hash)).toEqual(['changed'])
    expect((await rowsIn(s)).map((r) => r.hash)).toEqual(['changed'])
  })
})

describe('the same races over HTTP, requests placed close together', () => {
  /** An app of the library's own on the Durable Object store, its routes the session's operations. */
  const http = sessionApp({ store: durableObjectStore({ namespace: env.SESSION_OBJECTS }) })
  const anonymous = async (data: Record<string, unknown>): Promise<string> => {
    const b = http.browser()
    await b.post('/session', { json: data })
    return b.sessionCookie!
  }

  it('1: an emptying and a write: the write answered 200 is kept, every try', async () => {
    for (let i = 0; i < 15; i++) {
      const token = await anonymous({ a: 1 })
      const writer = http.browserWith(token)
      const [, write] = await Promise.all([
        http.browserWith(token).delete('/session/a'),
        writer.post('/session', { json: { b: i } }),
      ])
      // Its session: the one it loaded, or a new one when it loaded after the emptying ended it.
      if (write.status === 200)
        expect(await dataOf(http.browserWith(writer.sessionCookie!)), `try ${i}`).toEqual({ b: i })
      else expect(write.status).toBe(409)
    }
  })

  it('2: setExpiry(300) and a write of another key: the expiry is kept, every try', async () => {
    for (let i = 0; i < 15; i++) {
      const token = await anonymous({ a: 1 })
      const [expiry, write] = await Promise.all([
        http.browserWith(token).post('/expiry', { json: { seconds: 300 } }),
        http.browserWith(token).post('/session', { json: { b: i } }),
      ])
      expect([expiry.status, write.status]).toEqual([200, 200])
      expect((await record(token))?.expiry, `try ${i}`).toEqual({ age: 300 })
    }
  })

  it('3: a write and a cycleKey(): the write answered 200 is in the session that carries on, every try', async () => {
    for (let i = 0; i < 15; i++) {
      const b = http.browser()
      const token = await logIn(b, newUser())
      const cycler = http.browserWith(token)
      const [write, cycle] = await Promise.all([
        http.browserWith(token).post('/session', { json: { cart: i } }),
        cycler.post('/cycle'),
      ])
      expect(cycle.status).toBe(200)
      if (write.status === 200)
        expect((await dataOf(http.browserWith(cycler.sessionCookie!))).cart, `try ${i}`).toBe(i)
      else expect(write.status).toBe(409)
    }
  })

  it('4: a logout and a cycleKey(): the device ends logged out under both keys, every try', async () => {
    for (let i = 0; i < 15; i++) {
      const user = newUser()
      const token = await logIn(http.browser(), user)
      const cycler = http.browserWith(token)
      const [logout] = await Promise.all([
        http.browserWith(token).post('/logout'),
        cycler.post('/cycle'),
      ])
      expect(logout.status).toBe(200)
      expect(await http.browserWith(token).user()).toBeNull()
      if (cycler.sessionCookie !== undefined)
        expect(await http.browserWith(cycler.sessionCookie).user(), `try ${i}`).toBeNull()
      expect(await rowsIn(namedStub(`user:${user}`))).toEqual([])
    }
    expect(await storedSessionCount()).toBe(0)
  })
})
