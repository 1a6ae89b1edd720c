/**
 * Rotating session ids with reuse detection (`session({ rotation })`, Durable Object
 * store), through a small app of the library's own in workerd on real objects: the id
 * rotates on the first request `every` seconds after it was issued, at one object call;
 * concurrent requests with the old id share one successor; a lost response keeps the user
 * logged in; a copy of the cookie used after the grace ends the whole session (sockets
 * closed 4401 "reused", `session-reused` in the trail and to `onEvent`), whichever of the
 * owner and the copy came first; another session of the user is untouched; the state
 * survives a restart of the object. And the stores that cannot rotate refuse the option.
 */
import { env, runInDurableObject } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import {
  cookieStore,
  kvStore,
  SessionError,
  type SessionEvent,
  type SessionOptions,
  session,
} from '../src/session'
import {
  durableObjectStore,
  SESSION_ENDED_CLOSE_CODE,
  userSessions,
} from '../src/session/durable-object'
import { sha256Hex } from '../src/session/foundation/id'
import type { TestClient } from '../src/session/testing'
import { logIn, type SessionApp, sessionApp, users } from './helpers/app'
import { clearObjects, type InstrumentedNamespace, instrument, namedStub } from './helpers/do'
import { type LiveSocket, openLive, within } from './helpers/sockets'

/** The library's object class with reporting socket hooks (test/helpers/socket-object.ts). */
const OBJECTS = env.TEST_SESSION_OBJECTS
const EVERY = 300
const GRACE = 30
/** Two browsers a person can tell apart in the trail. */
const OWNER =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36'
const THIEF = 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0'

let clock = Date.now()
/** Moves the app's clock on by `seconds`. */
const pass = (seconds: number): void => {
  clock += seconds * 1000
}

let made = 0
const newUser = (): string => `rot-${++made}-${crypto.randomUUID().slice(0, 8)}`

/** The app, its counted objects, and the events its `onEvent` received. */
interface Rotating {
  app: SessionApp
  objects: InstrumentedNamespace
  events: SessionEvent[]
}

/** An app on the Durable Object store rotating every {@link EVERY} s with a grace of {@link GRACE} s. */
function rotating(rotation: SessionOptions['rotation'] = { every: EVERY, grace: GRACE }): Rotating {
  const objects = instrument(OBJECTS)
  const events: SessionEvent[] = []
  const app = sessionApp(
    {
      store: durableObjectStore({ namespace: objects.namespace }),
      now: () => clock,
      rotation,
      onEvent: (event) => {
        events.push(event)
      },
    },
    { users: users() },
  )
  return { app, objects, events }
}

/** `GET /whoami` of a browser: its user, or `null`. */
async function who(b: TestClient): Promise<string | null> {
  const res = await b.get('/whoami')
  expect(res.status).toBe(200)
  return ((await res.json()) as { user: string | null }).user
}

/** The session token a response set, or `undefined`. */
function setToken(res: Response): string | undefined {
  for (const line of res.headers.getSetCookie()) {
    const match = /^sessionid=([^;]*)/.exec(line)
    if (match !== null) return match[1]
  }
  return undefined
}

/** A new browser holding `token` (a copy of a cookie), with `userAgent`. */
const copyOf = (r: Rotating, token: string, userAgent = THIEF): TestClient =>
  r.app.browserWith(token, { userAgent })

/** The user's trail, newest first. */
const trail = (user: string): Promise<SessionEvent[]> =>
  userSessions({ namespace: OBJECTS, now: () => clock }).securityEvents(user)

/** The rows of the user's object: its sessions and its old ids. */
async function tables(user: string): Promise<{ sessions: number; rotations: number }> {
  return runInDurableObject(namedStub(`user:${user}`, OBJECTS), (_instance, state) => ({
    sessions: state.storage.sql.exec('SELECT hash FROM sessions').toArray().length,
    rotations: state.storage.sql.exec('SELECT hash FROM rotations').toArray().length,
  }))
}

/** Waits for the app's `onEvent` calls of the requests so far (they run after the response). */
async function settled(): Promise<void> {
  await new Promise((done) => setTimeout(done, 0))
}

beforeEach(async () => {
  clock = Date.now()
  await clearObjects(OBJECTS)
})

describe('session({ rotation }): when an id rotates', () => {
  it('keeps the id until `every` seconds have passed, then gives the session a new one at one object call', async () => {
    const r = rotating()
    const owner = r.app.browser({ userAgent: OWNER })
    const user = newUser()
    const first = await logIn(owner, user)
    pass(EVERY - 1)
    const same = await owner.get('/whoami')
    expect(setToken(same)).toBeUndefined()
    pass(1)
    r.objects.reset()
    const rotated = await owner.get('/whoami')
    expect(await rotated.json()).toEqual({ user })
    expect(r.objects.calls.byMethod).toEqual({ load: 1 })
    const second = setToken(rotated)
    expect(second).toBeDefined()
    expect(second).not.toBe(first)
    expect(owner.sessionCookie).toBe(second)
    expect(rotated.headers.get('Cache-Control')).toContain('private')
    // The same session: one row, the same handle, the same user, its data kept.
    expect(await tables(user)).toEqual({ sessions: 1, rotations: 1 })
    r.objects.reset()
    expect(await who(owner)).toBe(user)
    expect(r.objects.calls.byMethod).toEqual({ load: 1 })
  })

  it('writes SQLite rows only at the rotation and at the first use of the new id, none after', async () => {
    const r = rotating()
    const owner = r.app.browser()
    const user = newUser()
    await logIn(owner, user)
    const stub = namedStub(`user:${user}`, OBJECTS)
    const written = async (request: () => Promise<unknown>): Promise<number> => {
      const before = (await stub.usage()).rowsWritten
      await request()
      return (await stub.usage()).rowsWritten - before
    }
    pass(EVERY)
    const rotation = await written(() => who(owner))
    const presented = await written(() => who(owner))
    const after = await written(() => who(owner))
    // The row moved to the new hash (a delete and an insert of its key) and the old id noted;
    // then the old id's grace started and the row's predecessor cleared.
    expect({ rotation, presented, after }).toEqual({ rotation: 3, presented: 2, after: 0 })
  })

  it('keeps the data, the handle, the expiry and the creation time across a rotation', async () => {
    const r = rotating()
    const owner = r.app.browser()
    const user = newUser()
    await logIn(owner, user)
    await owner.post('/session', { json: { cart: [1, 2] } })
    const [listed] = (
      (await (await owner.get('/sessions')).json()) as {
        sessions: { handle: string; createdAt: number }[]
      }
    ).sessions
    pass(EVERY)
    const res = await owner.get('/session')
    expect(setToken(res)).toBeDefined()
    expect(((await res.json()) as { data: unknown }).data).toEqual({ cart: [1, 2] })
    const after = (
      (await (await owner.get('/sessions')).json()) as {
        sessions: { handle: string; createdAt: number; current: boolean }[]
      }
    ).sessions
    expect(after).toHaveLength(1)
    expect(after[0]).toMatchObject({
      handle: listed!.handle,
      createdAt: listed!.createdAt,
      current: true,
    })
  })

  it('does not rotate an anonymous session', async () => {
    const r = rotating()
    const b = r.app.browser()
    await b.post('/session', { json: { theme: 'dark' } })
    const token = b.sessionCookie
    pass(EVERY * 2)
    const res = await b.get('/session')
    expect(setToken(res)).toBeUndefined()
    expect(b.sessionCookie).toBe(token)
  })

  it('saves a changed session under its new id in the same request', async () => {
    const r = rotating()
    const owner = r.app.browser()
    const user = newUser()
    await logIn(owner, user)
    pass(EVERY)
    r.objects.reset()
    const res = await owner.get('/hit')
    expect(await res.json()).toEqual({ hits: 1 })
    expect(r.objects.calls.byMethod).toEqual({ load: 1, update: 1 })
    expect(await (await owner.get('/hit')).json()).toEqual({ hits: 2 })
  })
})

describe('session({ rotation }): one browser is never taken for a thief', () => {
  it('serves 20 requests in flight with the old id at the rotation as the user, all with one successor', async () => {
    const r = rotating()
    const owner = r.app.browser()
    const user = newUser()
    const old = await logIn(owner, user)
    pass(EVERY)
    const hold = r.objects.hold('load', 20)
    const requests = Array.from({ length: 20 }, () => copyOf(r, old, OWNER).get('/whoami'))
    await hold.reached
    hold.release()
    const answers = await Promise.all(requests)
    const users = await Promise.all(
      answers.map(async (res) => ((await res.json()) as { user: string }).user),
    )
    expect(users).toEqual(Array.from({ length: 20 }, () => user))
    const successors = new Set(answers.map(setToken))
    expect(successors.size).toBe(1)
    expect([...successors][0]).not.toBe(old)
    expect(await tables(user)).toEqual({ sessions: 1, rotations: 1 })
    // The successor works; so does the old id, within its grace.
    const next = copyOf(r, [...successors][0]!, OWNER)
    expect(await who(next)).toBe(user)
    pass(GRACE - 1)
    expect(await who(copyOf(r, old, OWNER))).toBe(user)
    expect(await who(next)).toBe(user)
  })

  it('keeps a browser whose response was lost logged in: the old id stays current and gets the same successor', async () => {
    const r = rotating()
    const owner = r.app.browser()
    const user = newUser()
    const old = await logIn(owner, user)
    pass(EVERY)
    const lost = setToken(await copyOf(r, old, OWNER).get('/whoami'))
    expect(lost).toBeDefined()
    // The browser never stored it, and comes back long after the grace.
    pass(GRACE * 10)
    const again = await owner.get('/whoami')
    expect(await again.json()).toEqual({ user })
    expect(setToken(again)).toBe(lost)
    expect(await who(owner)).toBe(user)
    expect(r.events.filter((e) => e.type === 'session-reused')).toEqual([])
  })

  it('lands the write of a request that loaded the old id before the rotation on the session', async () => {
    const r = rotating()
    const owner = r.app.browser()
    const user = newUser()
    const old = await logIn(owner, user)
    pass(EVERY - 1)
    const hold = r.objects.hold('update')
    const slow = copyOf(r, old, OWNER).post('/session', { json: { note: 'kept' } })
    await hold.reached
    pass(1)
    expect(await who(owner)).toBe(user)
    hold.release()
    expect((await slow).status).toBe(200)
    const res = await owner.get('/session')
    expect(((await res.json()) as { data: unknown }).data).toEqual({ note: 'kept' })
  })

  it('logs out with the old id within its grace: the session ends under every id', async () => {
    const r = rotating()
    const owner = r.app.browser()
    const user = newUser()
    const old = await logIn(owner, user)
    pass(EVERY)
    expect(await who(owner)).toBe(user)
    const tab = copyOf(r, old, OWNER)
    expect((await tab.post('/logout')).status).toBe(200)
    expect(await who(owner)).toBeNull()
    expect(await tables(user)).toEqual({ sessions: 0, rotations: 0 })
  })

  it('keeps two tabs of one browser logged in across several rotations', async () => {
    const r = rotating()
    const owner = r.app.browser()
    const user = newUser()
    await logIn(owner, user)
    for (let round = 0; round < 4; round++) {
      pass(EVERY)
      // Two tabs send the same cookie at once; then the jar holds the (one) successor.
      const [a, b] = await Promise.all([
        copyOf(r, owner.sessionCookie!, OWNER).get('/whoami'),
        owner.get('/whoami'),
      ])
      expect(setToken(a)).toBe(setToken(b))
      pass(GRACE + 1)
      expect(await who(owner)).toBe(user)
    }
    expect(r.events.filter((e) => e.type === 'session-reused')).toEqual([])
  })
})

describe('session({ rotation }): a copied cookie is caught', () => {
  /** The owner logged in, and a thief holding a copy of the cookie. */
  async function stolen(
    r: Rotating,
  ): Promise<{ owner: TestClient; thief: TestClient; user: string; old: string }> {
    const owner = r.app.browser({ userAgent: OWNER })
    const user = newUser()
    const old = await logIn(owner, user)
    return { owner, thief: copyOf(r, old), user, old }
  }

  /** Asserts the session was ended as reused, recorded once with both devices. */
  async function expectCaught(
    r: Rotating,
    user: string,
    shownBy: string,
    holder: string,
  ): Promise<void> {
    expect(await tables(user)).toEqual({ sessions: 0, rotations: 0 })
    await settled()
    const told = r.events.filter((e) => e.type === 'session-reused')
    expect(told).toHaveLength(1)
    expect(told[0]).toMatchObject({ user, device: { label: shownBy }, holder: { label: holder } })
    const [newest] = await trail(user)
    expect(newest).toMatchObject({
      type: 'session-reused',
      user,
      device: { label: shownBy },
      holder: { label: holder },
    })
    expect(newest!.id).not.toBeNull()
  }

  it("when the copy is used first after the rotation: the owner's old id ends the session, and the copy is logged out too", async () => {
    const r = rotating()
    const { owner, thief, user } = await stolen(r)
    pass(EVERY)
    expect(await who(thief)).toBe(user) // the copy rotates: it holds the successor now
    expect(await who(thief)).toBe(user) // and presents it
    pass(GRACE)
    const res = await owner.get('/whoami')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ user: null })
    expect(res.headers.getSetCookie().some((line) => /^sessionid=;/.test(line))).toBe(true)
    expect(await who(thief)).toBeNull()
    await expectCaught(r, user, 'Chrome 147 on macOS', 'Firefox 140 on Linux')
  })

  it("when the owner is used first after the rotation: the copy's old id ends the session, and the owner is logged out too", async () => {
    const r = rotating()
    const { owner, thief, user } = await stolen(r)
    pass(EVERY)
    expect(await who(owner)).toBe(user)
    expect(await who(owner)).toBe(user)
    pass(GRACE)
    expect(await who(thief)).toBeNull()
    expect(await who(owner)).toBeNull()
    await expectCaught(r, user, 'Firefox 140 on Linux', 'Chrome 147 on macOS')
  })

  it('when both use the old id within one grace: they share the successor, and the next rotation tells them apart', async () => {
    const r = rotating()
    const { owner, thief, user } = await stolen(r)
    pass(EVERY)
    expect(await who(owner)).toBe(user)
    expect(await who(thief)).toBe(user)
    expect(thief.sessionCookie).toBe(owner.sessionCookie)
    pass(EVERY)
    expect(await who(owner)).toBe(user) // rotates again: the owner alone holds the new id
    expect(await who(owner)).toBe(user) // and presents it
    pass(GRACE)
    expect(await who(thief)).toBeNull()
    expect(await who(owner)).toBeNull()
    await expectCaught(r, user, 'Firefox 140 on Linux', 'Chrome 147 on macOS')
  })

  it('catches a copy that never accepts the new cookie', async () => {
    const r = rotating()
    const { owner, user, old } = await stolen(r)
    /** The copy sends the old id every time, whatever it was answered. */
    const copy = (): Promise<string | null> => who(copyOf(r, old))
    pass(EVERY)
    expect(await copy()).toBe(user) // it rotated the session, and dropped the successor
    pass(EVERY)
    expect(await copy()).toBe(user) // the successor was never presented: still current
    expect(await who(owner)).toBe(user) // the owner gets that successor
    expect(await copy()).toBe(user) // not presented yet: the old id is still current
    expect(await who(owner)).toBe(user) // and presents it
    pass(GRACE)
    expect(await copy()).toBeNull()
    expect(await who(owner)).toBeNull()
    await expectCaught(r, user, 'Firefox 140 on Linux', 'Chrome 147 on macOS')
  })

  it("leaves the user's other sessions alone", async () => {
    const r = rotating()
    const { owner, thief, user } = await stolen(r)
    const laptop = r.app.browser()
    await logIn(laptop, user)
    pass(EVERY)
    expect(await who(owner)).toBe(user)
    expect(await who(owner)).toBe(user)
    pass(GRACE)
    expect(await who(thief)).toBeNull()
    expect(await who(owner)).toBeNull()
    expect(await who(laptop)).toBe(user)
    expect(await tables(user)).toEqual({ sessions: 1, rotations: 1 })
  })

  it('tells both holders why they were logged out: session.endedBy() is "reused"', async () => {
    const r = rotating()
    const { owner, thief, user } = await stolen(r)
    const laptop = r.app.browser()
    await logIn(laptop, user)
    pass(EVERY)
    expect(await who(owner)).toBe(user)
    expect(await who(owner)).toBe(user)
    pass(GRACE)
    const endedBy = async (b: TestClient): Promise<unknown> => (await b.get('/ended-by')).json()
    expect(await endedBy(thief)).toEqual({ endedBy: 'reused', user: null })
    expect(await endedBy(owner)).toEqual({ endedBy: 'reused', user: null })
    expect(await endedBy(laptop)).toEqual({ endedBy: null, user })
    await laptop.post('/logout')
    expect(await endedBy(laptop)).toEqual({ endedBy: null, user: null })
  })

  it('answers the stale id as anonymous, never an error, on a route that writes', async () => {
    const r = rotating()
    const { owner, thief, user } = await stolen(r)
    pass(EVERY)
    await who(owner)
    await who(owner)
    pass(GRACE)
    const res = await thief.post('/session', { json: { evil: true } })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { data: unknown }).data).toEqual({ evil: true })
    expect(await who(owner)).toBeNull()
    expect(await tables(user)).toEqual({ sessions: 0, rotations: 0 })
  })
})

describe('session({ rotation }): sockets', () => {
  const open = (b: TestClient): Promise<LiveSocket> =>
    openLive((path, init) => b.request(path, init))

  it('keeps a socket open across a rotation, and closes it with 4401 "reused" when a stale id shows', async () => {
    const r = rotating()
    const owner = r.app.browser({ userAgent: OWNER })
    const user = newUser()
    const old = await logIn(owner, user)
    const laptop = r.app.browser()
    await logIn(laptop, user)
    const live = await open(owner)
    await live.next((f) => f['type'] === 'open')
    const other = await open(laptop)
    await other.next((f) => f['type'] === 'open')
    pass(EVERY)
    expect(await who(owner)).toBe(user)
    expect(await who(owner)).toBe(user)
    const pong = live.next((f) => f['type'] === 'message' && f['message'] === 'ping')
    live.ws.send('ping')
    await pong
    // A socket opened with the successor is the same session's.
    const again = await open(owner)
    await again.next((f) => f['type'] === 'open')
    pass(GRACE)
    expect(await who(copyOf(r, old))).toBeNull()
    for (const ws of [live, again]) {
      expect(await within(ws.closed, 1_000, 'the close')).toEqual({
        code: SESSION_ENDED_CLOSE_CODE,
        reason: 'reused',
      })
    }
    expect(live.frames.at(-1)).toMatchObject({ type: 'end', reason: 'reused' })
    const still = other.next((f) => f['type'] === 'message' && f['message'] === 'ping')
    other.ws.send('ping')
    await still
    other.ws.close(1000)
  })
})

describe('session({ rotation }): across a restart of the object', () => {
  it('keeps the old ids and their standing when the object starts again', async () => {
    const r = rotating()
    const owner = r.app.browser({ userAgent: OWNER })
    const user = newUser()
    const old = await logIn(owner, user)
    pass(EVERY)
    const successor = setToken(await copyOf(r, old, OWNER).get('/whoami'))
    const stub = namedStub(`user:${user}`, OBJECTS)
    await expect(
      runInDurableObject(stub, (_instance, state) => {
        state.abort('restart')
      }),
    ).rejects.toThrow()
    // Still current after the restart (never presented): the same successor.
    pass(GRACE * 2)
    expect(setToken(await copyOf(r, old, OWNER).get('/whoami'))).toBe(successor)
    expect(await who(owner)).toBe(user) // gets it
    expect(await who(owner)).toBe(user) // and presents it
    await expect(
      runInDurableObject(stub, (_instance, state) => {
        state.abort('restart')
      }),
    ).rejects.toThrow()
    pass(GRACE)
    expect(await who(copyOf(r, old))).toBeNull()
    expect(await who(owner)).toBeNull()
    await settled()
    expect(r.events.map((e) => e.type)).toContain('session-reused')
  })
})

describe('session({ rotation }): options', () => {
  const invalid = (make: () => unknown): SessionError => {
    try {
      make()
    } catch (error) {
      if (error instanceof SessionError) return error
      throw error
    }
    throw new Error('no error')
  }

  it.each([
    [
      'KV',
      () => kvStore({ namespace: env.SESSIONS }),
      /kvStore\(\) cannot rotate session ids: KV is eventually consistent/,
    ],
    [
      'the cookie store',
      () => cookieStore({ secret: 'a cookie-store secret of 32 bytes or more' }),
      /cookieStore\(\) cannot rotate session ids: it keeps no server state/,
    ],
  ])('refuses %s with INVALID_OPTION naming the store and why', (_name, store, why) => {
    const error = invalid(() => session({ store: store(), rotation: { every: 60 } }))
    expect(error.code).toBe('INVALID_OPTION')
    expect(error.message).toMatch(/rotation/)
    expect(error.message).toMatch(why)
  })

  it('refuses the default store (KV) at construction', () => {
    const error = invalid(() => session({ rotation: { every: 60 } }))
    expect(error.code).toBe('INVALID_OPTION')
    expect(error.message).toMatch(/kvStore\(\) cannot/)
  })

  it('refuses a store made per request at its first request', async () => {
    const app = sessionApp({
      store: () => kvStore({ namespace: env.SESSIONS }),
      rotation: { every: 60 },
    })
    const res = await app.send('/whoami', {}, { cookie: `sessionid=${'a'.repeat(43)}` })
    expect(res.status).toBe(500)
    expect(await res.json()).toMatchObject({ code: 'INVALID_OPTION' })
  })

  it.each([
    [{ every: 0 }, 'rotation.every'],
    [{ every: 1.5 }, 'rotation.every'],
    [{ every: 60, grace: -1 }, 'rotation.grace'],
    [{ every: 60, grace: 3601 }, 'rotation.grace'],
    ['often', 'rotation'],
  ])('refuses rotation %j naming %s', (rotation, option) => {
    const store = durableObjectStore({ namespace: OBJECTS })
    const error = invalid(() => session({ store, rotation: rotation as never }))
    expect(error.code).toBe('INVALID_OPTION')
    expect(error.message).toContain(option)
  })

  it('takes a grace of 60 s by default', async () => {
    const r = rotating({ every: EVERY })
    const owner = r.app.browser()
    const user = newUser()
    const old = await logIn(owner, user)
    pass(EVERY)
    await who(owner)
    await who(owner)
    pass(59)
    expect(await who(copyOf(r, old, OWNER))).toBe(user)
    pass(1)
    expect(await who(copyOf(r, old))).toBeNull()
  })
})

describe('SessionObject rotation table', () => {
  it('keeps only the hash of old ids and never the successor id', async () => {
    const r = rotating()
    const owner = r.app.browser()
    const user = newUser()
    const old = await logIn(owner, user)
    pass(EVERY)
    await who(owner)
    const successor = owner.sessionCookie!
    const stored = await runInDurableObject(namedStub(`user:${user}`, OBJECTS), (_i, state) =>
      JSON.stringify(state.storage.sql.exec('SELECT * FROM rotations').toArray()),
    )
    const [oldId] = old.split('.')
    const [newId] = successor.split('.')
    expect(stored).toContain(await sha256Hex(oldId!))
    expect(stored).toContain(await sha256Hex(newId!))
    expect(stored).not.toContain(oldId)
    expect(stored).not.toContain(newId)
  })
})
