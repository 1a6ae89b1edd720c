/**
 * Session-bound WebSockets (Durable Object store): `session.acceptWebSocket()` on a small
 * app of the library's own in workerd, a real socket held by the user's real object with
 * the Hibernation API. The object is the library's `SessionObject` with hooks that report
 * what they received (test/helpers/socket-object.ts). The refusals in order (501, 403
 * Origin, 401); messages to the app's hook with the user and handle; sending from any
 * request; and every revocation path closing exactly the ended sessions' sockets with 4401
 * before the revoking call resolves.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { cookieStore, kvStore, type SessionOptions } from '../src/session'
import { SESSION_ENDED_CLOSE_CODE } from '../src/session/durable-object'
import type { SessionStore } from '../src/session/store'
import {
  type DurableObjectStoreOptions,
  durableObjectStore,
  userSessions,
} from '../src/session/durable-object'
import type { TestClient } from '../src/session/testing'
import { logIn, ORIGIN, type SessionApp, sessionApp, users } from './helpers/app'
import { clearObjects, instrument, namedStub } from './helpers/do'
import { type LiveSocket, openLive, within } from './helpers/sockets'

/** The objects of these tests: the library's class, its hooks reporting. */
const OBJECTS = env.TEST_SESSION_OBJECTS
/** The app's users: `POST /password` renews one's verifier. */
const people = users()

/** An app on the Durable Object store over `OBJECTS` (with `store` options). */
const liveApp = (
  store: Partial<DurableObjectStoreOptions> = {},
  options: SessionOptions = {},
): SessionApp =>
  sessionApp(
    { ...options, store: durableObjectStore({ namespace: OBJECTS, ...store }) },
    { users: people },
  )
const app = liveApp()

let made = 0
const newUser = (): string => `live-${++made}-${crypto.randomUUID().slice(0, 8)}`

/** Opens the browser's socket. */
const open = (b: TestClient, headers?: Record<string, string>): Promise<LiveSocket> =>
  openLive((path, init) => b.request(path, init), headers)

/** A logged-in browser of `user` with its socket open (its first frame received). */
async function online(
  user: string,
  on: SessionApp = app,
): Promise<{ b: TestClient; live: LiveSocket; handle: string }> {
  const b = on.browser()
  await logIn(b, user)
  const live = await open(b)
  const first = await live.next((f) => f['type'] === 'open')
  return { b, live, handle: first['handle'] as string }
}

/** Asserts the socket is open and served: a message is handed to the app's hook. */
async function expectOpen(live: LiveSocket): Promise<void> {
  const answer = live.next((f) => f['type'] === 'message' && f['message'] === 'ping', 1_000)
  live.ws.send('ping')
  await answer
}

/** Asserts the socket was closed as ended, and that it carries no message any more. */
async function expectEnded(live: LiveSocket, reason: string): Promise<void> {
  expect(await within(live.closed, 1_000, 'the 4401 close')).toEqual({
    code: SESSION_ENDED_CLOSE_CODE,
    reason,
  })
  expect(live.ws.readyState).toBe(WebSocket.CLOSED)
}

beforeEach(async () => {
  await clearObjects(OBJECTS)
})

describe('session.acceptWebSocket(): refusals, in order', () => {
  it.each<[string, () => SessionStore]>([
    ['kv', () => kvStore({ namespace: env.SESSIONS })],
    ['cookie', () => cookieStore({ secret: 'edge-session sockets test secret, 32+ bytes' })],
  ])(
    'answers 501 NOT_SUPPORTED on the %s store, even from another origin',
    async (_name, store) => {
      const b = sessionApp({ store: store() }).browser()
      await logIn(b, newUser())
      for (const headers of [{}, { Origin: 'https://evil.example' }] as Record<string, string>[]) {
        const res = await b.get('/live', { headers: { Upgrade: 'websocket', ...headers } })
        expect(res.status).toBe(501)
        expect(await res.json()).toMatchObject({ code: 'NOT_SUPPORTED' })
      }
    },
  )

  it.each([['https://evil.example'], ['http://localhost:9999'], ['https://localhost'], ['null']])(
    'answers 403 FORBIDDEN_ORIGIN for Origin %s, before looking at the session',
    async (origin) => {
      const b = app.browser()
      for (const round of ['anonymous', 'logged in']) {
        const res = await b.get('/live', { headers: { Upgrade: 'websocket', Origin: origin } })
        expect(res.status, round).toBe(403)
        expect(await res.json()).toMatchObject({ code: 'FORBIDDEN_ORIGIN' })
        await logIn(b, newUser())
      }
    },
  )

  it('answers 401 for an anonymous, an unknown, and a logged-out session; no Origin or the own origin may proceed', async () => {
    const anonymous = app.browser()
    await anonymous.post('/session', { json: { a: 1 } })
    const unknown = app.browserWith(
      `${'A'.repeat(43)}.${OBJECTS.idFromName('user:nobody').toString()}`,
    )
    const loggedOut = app.browser()
    const token = await logIn(loggedOut, newUser())
    await loggedOut.post('/logout')
    loggedOut.cookies.set('sessionid', token)
    for (const b of [app.browser(), anonymous, unknown, loggedOut]) {
      const res = await b.get('/live', { headers: { Upgrade: 'websocket', Origin: ORIGIN } })
      expect(res.status).toBe(401)
      expect(await res.json()).toMatchObject({ code: 'NOT_LOGGED_IN' })
    }
    const ok = app.browser()
    await logIn(ok, newUser())
    for (const headers of [{}, { Origin: ORIGIN }] as Record<string, string>[])
      (await open(ok, headers)).ws.close(1000)
  })

  it('answers 426 to a request that is not an upgrade', async () => {
    const b = app.browser()
    await logIn(b, newUser())
    expect((await b.get('/live')).status).toBe(426)
  })
})

describe('a session socket', () => {
  it("is opened (onSocketOpen) with its session's user and handle, the handle listSessions() marks current", async () => {
    const user = newUser()
    const { b, live, handle } = await online(user)
    expect(live.frames[0]).toEqual({ type: 'open', user, handle })
    const listed = await b.withSession((s) => s.listSessions())
    expect(listed).toEqual([expect.objectContaining({ handle, current: true })])
  })

  it("costs two calls to objects to open: the session's load, and the upgrade sent to the user's object", async () => {
    const objects = instrument(OBJECTS)
    const counted = sessionApp({ store: durableObjectStore({ namespace: objects.namespace }) })
    const b = counted.browser()
    await logIn(b, newUser())
    objects.reset()
    const live = await open(b)
    expect(objects.calls.byMethod).toEqual({ load: 1, fetch: 1 })
    live.ws.close(1000)
  })

  it("hands messages to the app's hook (onSocketMessage) with the session's user and handle", async () => {
    const user = newUser()
    const { live, handle } = await online(user)
    const answer = live.next((f) => f['type'] === 'message')
    live.ws.send('hello, object')
    expect(await answer).toEqual({ type: 'message', message: 'hello, object', user, handle })
  })

  it("is held by the user's object, tagged with the session: userSessions().send() reaches all or one", async () => {
    const user = newUser()
    const a = await online(user)
    const b = await online(user)
    const admin = userSessions({ namespace: OBJECTS })
    expect(await namedStub(`user:${user}`, OBJECTS).sockets()).toBe(2)
    expect(await admin.send(user, JSON.stringify({ type: 'note', n: 1 }))).toBe(2)
    await Promise.all([a, b].map((x) => x.live.next((f) => f['n'] === 1)))
    const onlyB = b.live.next((f) => f['n'] === 2)
    expect(
      await admin.send(user, JSON.stringify({ type: 'note', n: 2 }), { handle: b.handle }),
    ).toBe(1)
    await onlyB
    // A frame to every socket, sent after: a, in order, has had all of its frames before it.
    expect(await admin.send(user, JSON.stringify({ type: 'note', n: 3 }))).toBe(2)
    await a.live.next((f) => f['n'] === 3)
    expect(a.live.frames.some((f) => f['n'] === 2)).toBe(false)
  })

  it("receives the app's last frame (onSocketEnd) before the 4401 close", async () => {
    const user = newUser()
    const { b, live, handle } = await online(user)
    const ended = live.next((f) => f['type'] === 'end')
    await b.post('/logout')
    expect(await ended).toEqual({ type: 'end', reason: 'logged out', user, handle })
    expect((await live.closed).code).toBe(4401)
  })

  it('stays open through cycleKey(): the session keeps its handle', async () => {
    const { b, live } = await online(newUser())
    expect((await b.post('/cycle')).status).toBe(200)
    await expectOpen(live)
  })

  it('drops a message whose session ended without its sockets being closed, and closes it', async () => {
    const user = newUser()
    const { live } = await online(user)
    // The row goes behind the object's back (no revocation path): the message must still not be handed on.
    await runInDurableObject(
      namedStub(`user:${user}`, OBJECTS),
      (_o, state) => void state.storage.sql.exec('DELETE FROM sessions'),
    )
    live.ws.send('ping')
    expect(await live.closed).toEqual({ code: 4401, reason: 'session ended' })
    // Frames arrive in order: an answer would have come before the close.
    expect(live.frames.filter((f) => f['type'] === 'message')).toEqual([])
  })
})

describe("every revocation closes the ended sessions' sockets with 4401, before it resolves", () => {
  it("logout (POST /logout, flush()): this session's socket, not the user's others", async () => {
    const user = newUser()
    const mine = await online(user)
    const other = await online(user)
    await mine.b.post('/logout')
    await expectEnded(mine.live, 'logged out')
    await expectOpen(other.live)
  })

  it('flush() (through the test kit)', async () => {
    const { b, live } = await online(newUser())
    await b.logout()
    await expectEnded(live, 'logged out')
  })

  it('a session emptied of its data (clear())', async () => {
    const { b, live } = await online(newUser())
    await b.post('/clear')
    await expectEnded(live, 'logged out')
  })

  it("revokeSession() (DELETE /sessions/:handle): that session's sockets only", async () => {
    const user = newUser()
    const a = await online(user)
    const b = await online(user)
    expect(await (await a.b.delete(`/sessions/${b.handle}`)).json()).toEqual({ revoked: true })
    await expectEnded(b.live, 'revoked')
    await expectOpen(a.live)
  })

  it('revokeOtherSessions() (POST /sessions/revoke-others)', async () => {
    const user = newUser()
    const [a, b, c] = [await online(user), await online(user), await online(user)]
    expect(await (await a.b.post('/sessions/revoke-others')).json()).toEqual({ revoked: 2 })
    await expectEnded(b.live, 'revoked')
    await expectEnded(c.live, 'revoked')
    await expectOpen(a.live)
  })

  it('revokeAllSessions() (POST /sessions/revoke-all)', async () => {
    const user = newUser()
    const a = await online(user)
    const b = await online(user)
    await a.b.post('/sessions/revoke-all')
    await expectEnded(a.live, 'revoked')
    await expectEnded(b.live, 'revoked')
  })

  it("updateAuthHash() (POST /password): the user's other sessions, not this one", async () => {
    const user = newUser()
    const a = await online(user)
    const b = await online(user)
    expect((await a.b.post('/password')).status).toBe(200)
    await expectEnded(b.live, 'credentials changed')
    await expectOpen(a.live)
  })

  it('an auth-hash mismatch found on a load (the verifier changed elsewhere)', async () => {
    const user = newUser()
    const a = await online(user)
    people.renew(user)
    expect(await a.b.user()).toBeNull()
    await expectEnded(a.live, 'logged out')
  })

  it('the alarm removing an expired session', async () => {
    const user = newUser()
    const a = await online(user)
    const stub = namedStub(`user:${user}`, OBJECTS)
    await runInDurableObject(
      stub,
      (_o, state) =>
        void state.storage.sql.exec('UPDATE sessions SET expires_at = ?', Date.now() - 1),
    )
    expect(await runDurableObjectAlarm(stub)).toBe(true)
    await expectEnded(a.live, 'expired')
  })

  it("the per-user cap (maxSessionsPerUser): the least recently seen session's sockets", async () => {
    const clock = { now: Date.now() }
    const capped = liveApp({ maxSessionsPerUser: 2 }, { now: () => clock.now })
    const user = newUser()
    const first = await online(user, capped)
    clock.now += 1_000
    const second = await online(user, capped)
    clock.now += 400_000 // past lastSeenInterval: the second's read makes the first the least recently seen
    await second.b.get('/session')
    await logIn(capped.browser(), user)
    await expectEnded(first.live, 'session limit')
    await expectOpen(second.live)
  })

  it('the admin calls (userSessions().revokeSession() and revokeAllSessions())', async () => {
    const user = newUser()
    const a = await online(user)
    const b = await online(user)
    const admin = userSessions({ namespace: OBJECTS })
    expect(await admin.revokeSession(user, a.handle)).toBe(true)
    await expectEnded(a.live, 'revoked')
    await expectOpen(b.live)
    expect(await admin.revokeAllSessions(user)).toBe(1)
    await expectEnded(b.live, 'revoked')
  })
})

/** The session row of `handle` in `user`'s object: its expiry, and the object's alarm. */
async function expiryAndAlarm(
  user: string,
  handle: string,
): Promise<{ expiresAt: number; alarm: number | null }> {
  return runInDurableObject(namedStub(`user:${user}`, OBJECTS), async (_o, state) => {
    const row = state.storage.sql
      .exec<{ at: number }>('SELECT max(expires_at) AS at FROM sessions WHERE handle = ?', handle)
      .one()
    return { expiresAt: row.at, alarm: await state.storage.getAlarm() }
  })
}

describe('sockets bounded (issue 26, item 4)', () => {
  it('refuses an upgrade past maxSocketsPerSession with 429 TOO_MANY_SOCKETS, keeping the open ones', async () => {
    const capped = liveApp({ maxSocketsPerSession: 3 })
    const user = newUser()
    const b = capped.browser()
    await logIn(b, user)
    const open3 = [await open(b), await open(b), await open(b)]
    const res = await b.get('/live', { headers: { Upgrade: 'websocket' } })
    expect(res.status).toBe(429)
    expect(await res.json()).toMatchObject({ code: 'TOO_MANY_SOCKETS' })
    expect(res.webSocket).toBeNull()
    for (const live of open3) await expectOpen(live)
    // The cap is per session: the user's other session opens its own.
    const other = capped.browser()
    await logIn(other, user)
    await expectOpen(await open(other))
    // A socket that closes frees its place.
    open3[0]!.ws.close(1000)
    await within(open3[0]!.closed, 1_000, 'the close')
    await expectOpen(await open(b))
    expect((await b.get('/live', { headers: { Upgrade: 'websocket' } })).status).toBe(429)
  })

  it('allows 16 sockets per session by default, the 17th is refused', async () => {
    const user = newUser()
    const b = app.browser()
    await logIn(b, user)
    for (let i = 0; i < 16; i++) await open(b)
    const res = await b.get('/live', { headers: { Upgrade: 'websocket' } })
    expect(res.status).toBe(429)
    expect(await res.json()).toMatchObject({ code: 'TOO_MANY_SOCKETS' })
  })

  it.each([[0], [1.5], [1001], [Number.NaN]])(
    'refuses maxSocketsPerSession: %s at construction',
    (value) => {
      expect(() => durableObjectStore({ namespace: OBJECTS, maxSocketsPerSession: value })).toThrow(
        expect.objectContaining({
          code: 'INVALID_OPTION',
          message: expect.stringContaining('"maxSocketsPerSession"'),
        }),
      )
    },
  )

  it("schedules the object's alarm at the expiry of a session that holds a socket, not at the next sweep", async () => {
    const clock = { now: Date.now() }
    const timed = liveApp({}, { now: () => clock.now })
    const user = newUser()
    const b = timed.browser()
    await logIn(b, user)
    await b.post('/expiry', { json: { seconds: 30 } })
    const { sessions } = (await (await b.get('/sessions')).json()) as {
      sessions: { handle: string }[]
    }
    const handle = sessions[0]!.handle
    const before = await expiryAndAlarm(user, handle)
    // Without a socket the alarm waits for the sweep (60 s at the soonest).
    expect(before.alarm).toBeGreaterThanOrEqual(before.expiresAt + 29_000)
    const live = await open(b)
    const after = await expiryAndAlarm(user, handle)
    expect(after.alarm).toBe(after.expiresAt)
    // Run early (before the expiry) it ends nothing and stays at the expiry.
    expect(await runDurableObjectAlarm(namedStub(`user:${user}`, OBJECTS))).toBe(true)
    expect((await expiryAndAlarm(user, handle)).alarm).toBe(after.expiresAt)
    await expectOpen(live)
    // A later expiry moves it with the session.
    clock.now += 1_000
    await b.post('/expiry', { json: { seconds: 20 } })
    const moved = await expiryAndAlarm(user, handle)
    expect(moved.expiresAt).toBeLessThan(after.expiresAt)
    expect(moved.alarm).toBe(moved.expiresAt)
  })

  it('closes a socket within a second of its session expiring, by the alarm (4401 "expired")', async () => {
    const user = newUser()
    const b = app.browser()
    await logIn(b, user)
    await b.post('/expiry', { json: { seconds: 3 } })
    const live = await open(b)
    const first = await live.next((f) => f['type'] === 'open')
    const { expiresAt, alarm } = await expiryAndAlarm(user, first['handle'] as string)
    expect(alarm).toBe(expiresAt)
    // Nothing is run by hand: the object's own alarm fires at the expiry.
    const end = live.next((f) => f['type'] === 'end', 5_000)
    const closed = await within(live.closed, 5_000, 'the close at expiry')
    const closedAt = Date.now()
    expect(closed).toEqual({ code: SESSION_ENDED_CLOSE_CODE, reason: 'expired' })
    expect(await end).toMatchObject({ reason: 'expired', user })
    expect(closedAt).toBeGreaterThanOrEqual(expiresAt)
    expect(closedAt - expiresAt).toBeLessThan(1_000)
  })

  it('sends nothing to the sockets of a session that expired and was not swept yet', async () => {
    const user = newUser()
    const a = await online(user)
    const b = await online(user)
    await runInDurableObject(
      namedStub(`user:${user}`, OBJECTS),
      (_o, state) =>
        void state.storage.sql.exec(
          'UPDATE sessions SET expires_at = ? WHERE handle = ?',
          Date.now() - 1,
          a.handle,
        ),
    )
    const admin = userSessions({ namespace: OBJECTS })
    const got = b.live.next((f) => f['type'] === 'pushed', 1_000)
    expect(await admin.send(user, JSON.stringify({ type: 'pushed' }))).toBe(1)
    expect(await got).toMatchObject({ type: 'pushed' })
    expect(a.live.frames.filter((f) => f['type'] === 'pushed')).toEqual([])
  })
})
