/**
 * Session-bound WebSockets (Durable Object store): `GET /live` through the demo app in
 * workerd, a real socket held by the user's real object with the Hibernation API; the
 * refusals in order (501, 403 Origin, 401); messages to the app's handler with the user
 * and handle; sending from any request; and every revocation path closing exactly the
 * ended sessions' sockets with 4401 before the revoking call resolves.
 */
import { env, runDurableObjectAlarm, runInDurableObject, SELF } from 'cloudflare:test'
import { Hono } from 'hono'
import { beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../src/app'
import { session, SESSION_ENDED_CLOSE_CODE, type SessionEnv } from '../src/session'
import { durableObjectStore, userSessions } from '../src/session/durable-object'
import { BASE, device, type Device } from './helpers/demo'
import { clearObjects, instrument, namedStub } from './helpers/do'
import { Jar, json } from './helpers/http'
import { openLive, within, type LiveSocket } from './helpers/sockets'

const DO = { ...env, SESSION_STORE: 'do' }
let users = 0
const newUser = (): string => `live-${++users}-${crypto.randomUUID().slice(0, 8)}`

/** A logged-in device of `user` with its socket open (the hello received). */
async function online(
  user: string,
  bindings: Record<string, unknown> = DO,
  app = createApp(),
): Promise<{ d: Device; live: LiveSocket; handle: string }> {
  const d = device(bindings, { app })
  await d.login(user)
  const live = await openLive(d)
  const hello = await live.next((f) => f['type'] === 'hello')
  return { d, live, handle: hello['handle'] as string }
}

/** Asserts the socket was closed as ended, and that a message sent now reaches no handler. */
async function expectEnded(live: LiveSocket, reason: string): Promise<void> {
  expect(await within(live.closed, 1_000, 'the 4401 close')).toEqual({
    code: SESSION_ENDED_CLOSE_CODE,
    reason,
  })
  expect(await live.pongs()).toBe(false)
}

/** Asserts the socket is still open and served. */
async function expectOpen(live: LiveSocket): Promise<void> {
  expect(await live.pongs(1_000)).toBe(true)
}

beforeEach(async () => {
  await clearObjects()
})

describe('GET /live: refusals, in order', () => {
  it.each([['kv'], ['cookie']])(
    'answers 501 NOT_SUPPORTED on the %s store, even from another origin',
    async (store) => {
      const bindings = { ...env, SESSION_STORE: store }
      const d = device(bindings)
      await d.login(newUser())
      for (const headers of [{}, { Origin: 'https://evil.example' }] as Record<string, string>[]) {
        const res = await d.send('/live', { headers: { Upgrade: 'websocket', ...headers } })
        expect(res.status).toBe(501)
        expect(await res.json()).toMatchObject({ code: 'NOT_SUPPORTED' })
      }
    },
  )

  it('answers 501 through the deployed worker (SELF, the KV store)', async () => {
    const res = await SELF.fetch(`${BASE}/live`, { headers: { Upgrade: 'websocket' } })
    expect(res.status).toBe(501)
    expect(res.webSocket).toBeNull()
  })

  it.each([
    ['https://evil.example'],
    ['http://localhost:9999'],
    ['https://localhost:8787'],
    ['null'],
  ])(
    'answers 403 FORBIDDEN_ORIGIN for Origin %s, before looking at the session',
    async (origin) => {
      const d = device(DO)
      for (const round of ['anonymous', 'logged in']) {
        const res = await d.send('/live', { headers: { Upgrade: 'websocket', Origin: origin } })
        expect(res.status, round).toBe(403)
        expect(await res.json()).toMatchObject({ code: 'FORBIDDEN_ORIGIN' })
        await d.login(newUser())
      }
    },
  )

  it('answers 401 for an anonymous, an unknown, and a logged-out session; no Origin or the own origin may proceed', async () => {
    const anonymous = device(DO)
    await anonymous.call('/session', json('POST', { a: 1 }))
    const unknown = device(DO)
    unknown.cookies.set(
      'sessionid',
      `${'A'.repeat(43)}.${env.SESSION_OBJECTS.idFromName('user:nobody').toString()}`,
    )
    const loggedOut = device(DO)
    const token = await loggedOut.login(newUser())
    await loggedOut.call('/logout', json('POST', {}))
    loggedOut.cookies.set('sessionid', token)
    for (const d of [device(DO), anonymous, unknown, loggedOut]) {
      const res = await d.send('/live', { headers: { Upgrade: 'websocket', Origin: BASE } })
      expect(res.status).toBe(401)
      expect(await res.json()).toMatchObject({ code: 'NOT_LOGGED_IN' })
    }
    const ok = device(DO)
    await ok.login(newUser())
    for (const headers of [{}, { Origin: BASE }] as Record<string, string>[])
      (await openLive(ok, headers)).ws.close(1000)
  })

  it('answers 426 to a request that is not an upgrade', async () => {
    const d = device(DO)
    await d.login(newUser())
    expect((await d.send('/live')).status).toBe(426)
  })
})

describe('a session socket', () => {
  it("is greeted with its session's handle, the one GET /sessions lists as current", async () => {
    const { d, handle } = await online(newUser())
    const { body } = await d.call<{ sessions: { handle: string; current: boolean }[] }>('/sessions')
    expect(body.sessions).toEqual([expect.objectContaining({ handle, current: true })])
  })

  it("costs two calls to objects to open: the session's load, and the upgrade sent to the user's object", async () => {
    const objects = instrument()
    const d = device(DO, {
      app: createApp({ store: durableObjectStore({ namespace: objects.namespace }) }),
    })
    await d.login(newUser())
    objects.reset()
    const live = await openLive(d)
    expect(objects.calls.byMethod).toEqual({ load: 1, fetch: 1 })
    live.ws.close(1000)
  })

  it("hands messages to the app's handler with the session's user and handle", async () => {
    const user = newUser()
    const { live, handle } = await online(user)
    const pong = live.next((f) => f['type'] === 'pong')
    live.ws.send('ping')
    expect(await pong).toEqual({
      type: 'pong',
      user,
      handle,
      instance: expect.stringMatching(/^[0-9a-f-]{36}$/),
    })
  })

  it("is held by the user's object, tagged with the session: userSessions().send() reaches all or one", async () => {
    const user = newUser()
    const a = await online(user)
    const b = await online(user)
    const admin = userSessions({ namespace: env.SESSION_OBJECTS })
    expect(await namedStub(`user:${user}`).sockets()).toBe(2)
    expect(await admin.send(user, JSON.stringify({ type: 'note', n: 1 }))).toBe(2)
    await Promise.all([a, b].map((x) => x.live.next((f) => f['n'] === 1)))
    const onlyB = b.live.next((f) => f['n'] === 2)
    expect(
      await admin.send(user, JSON.stringify({ type: 'note', n: 2 }), { handle: b.handle }),
    ).toBe(1)
    await onlyB
    expect(a.live.frames.some((f) => f['n'] === 2)).toBe(false)
  })

  it("receives the app's last frame (onSocketEnd) before the 4401 close", async () => {
    const { d, live } = await online(newUser())
    const ended = live.next((f) => f['type'] === 'ended')
    await d.call('/logout', json('POST', {}))
    expect(await ended).toEqual({ type: 'ended', reason: 'logged out' })
    expect((await live.closed).code).toBe(4401)
  })

  it('stays open through cycleKey(): the session keeps its handle', async () => {
    const { d, live } = await online(newUser())
    expect((await d.call('/session/cycle', json('POST', {}))).res.status).toBe(200)
    await expectOpen(live)
  })

  it('drops a message whose session ended without its sockets being closed, and closes it', async () => {
    const user = newUser()
    const { live } = await online(user)
    // The row goes behind the object's back (no revocation path): the message must still not be handed on.
    await runInDurableObject(
      namedStub(`user:${user}`),
      (_o, state) => void state.storage.sql.exec('DELETE FROM sessions'),
    )
    expect(await live.pongs()).toBe(false)
    expect(await live.closed).toEqual({ code: 4401, reason: 'session ended' })
  })
})

describe("every revocation closes the ended sessions' sockets with 4401, before it resolves", () => {
  it("logout (POST /logout, flush()): this session's socket, not the user's others", async () => {
    const user = newUser()
    const mine = await online(user)
    const other = await online(user)
    await mine.d.call('/logout', json('POST', {}))
    await expectEnded(mine.live, 'logged out')
    await expectOpen(other.live)
  })

  it('flush() (POST /session/flush)', async () => {
    const { d, live } = await online(newUser())
    await d.call('/session/flush', json('POST', {}))
    await expectEnded(live, 'logged out')
  })

  it('a session emptied of its data (clear())', async () => {
    const app = new Hono<SessionEnv & { Bindings: typeof env }>()
    app.use(session({ store: (c) => durableObjectStore({ namespace: c.env.SESSION_OBJECTS }) }))
    app.post('/login', async (c) => {
      await c.get('session').login(newUser())
      return c.text('in')
    })
    app.post('/clear', async (c) => {
      await c.get('session').clear()
      return c.text('cleared')
    })
    app.get('/live', (c) => c.get('session').acceptWebSocket())
    const jar = new Jar()
    const send = async (path: string, init: RequestInit = {}): Promise<Response> => {
      const res = await app.request(new Request(BASE + path, jar.init(init)), undefined, env)
      jar.update(res)
      return res
    }
    await send('/login', { method: 'POST' })
    const live = await openLive({ send } as Device)
    await send('/clear', { method: 'POST' })
    await expectEnded(live, 'logged out')
  })

  it("revokeSession() (DELETE /sessions/:handle): that session's sockets only", async () => {
    const user = newUser()
    const a = await online(user)
    const b = await online(user)
    expect((await a.d.call(`/sessions/${b.handle}`, { method: 'DELETE' })).body).toEqual({
      revoked: true,
    })
    await expectEnded(b.live, 'revoked')
    await expectOpen(a.live)
  })

  it('revokeOtherSessions() (POST /sessions/revoke-others)', async () => {
    const user = newUser()
    const [a, b, c] = [await online(user), await online(user), await online(user)]
    expect((await a.d.call('/sessions/revoke-others', json('POST', {}))).body).toEqual({
      revoked: 2,
    })
    await expectEnded(b.live, 'revoked')
    await expectEnded(c.live, 'revoked')
    await expectOpen(a.live)
  })

  it('revokeAllSessions() (POST /sessions/revoke-all)', async () => {
    const user = newUser()
    const a = await online(user)
    const b = await online(user)
    await a.d.call('/sessions/revoke-all', json('POST', {}))
    await expectEnded(a.live, 'revoked')
    await expectEnded(b.live, 'revoked')
  })

  it("updateAuthHash() (POST /password): the user's other sessions, not this one", async () => {
    const user = newUser()
    const a = await online(user)
    const b = await online(user)
    expect((await a.d.call('/password', json('POST', {}))).res.status).toBe(200)
    await expectEnded(b.live, 'credentials changed')
    await expectOpen(a.live)
  })

  it('an auth-hash mismatch found on a load (the verifier changed elsewhere)', async () => {
    const user = newUser()
    const a = await online(user)
    await env.USERS.put(`user:${user}`, 'a verifier set by another system')
    expect(await a.d.whoami()).toBeNull()
    await expectEnded(a.live, 'logged out')
  })

  it('the alarm removing an expired session', async () => {
    const user = newUser()
    const a = await online(user)
    const stub = namedStub(`user:${user}`)
    await runInDurableObject(
      stub,
      (_o, state) =>
        void state.storage.sql.exec('UPDATE sessions SET expires_at = ?', Date.now() - 1),
    )
    expect(await runDurableObjectAlarm(stub)).toBe(true)
    await expectEnded(a.live, 'expired')
  })

  it("the per-user cap (MAX_SESSIONS_PER_USER): the least recently seen session's sockets", async () => {
    const capped = { ...DO, MAX_SESSIONS_PER_USER: '2' }
    const user = newUser()
    const first = await online(user, capped)
    const second = await online(user, capped)
    await second.d.call('/session') // seen after the first: the first is the least recently seen
    await device(capped).login(user)
    await expectEnded(first.live, 'session limit')
    await expectOpen(second.live)
  })

  it('the admin calls (userSessions().revoke() and revokeAll())', async () => {
    const user = newUser()
    const a = await online(user)
    const b = await online(user)
    const admin = userSessions({ namespace: env.SESSION_OBJECTS })
    expect(await admin.revoke(user, a.handle)).toBe(true)
    await expectEnded(a.live, 'revoked')
    await expectOpen(b.live)
    expect(await admin.revokeAll(user)).toBe(1)
    await expectEnded(b.live, 'revoked')
  })
})

describe('the user\'s sockets hear {"type":"sessions"} when the list changes', () => {
  it("on a login and on a revocation, the revoking device's own socket included", async () => {
    const user = newUser()
    const a = await online(user)
    const changed = a.live.next((f) => f['type'] === 'sessions')
    const b = await online(user)
    await changed
    const again = a.live.next((f) => f['type'] === 'sessions')
    await a.d.call(`/sessions/${b.handle}`, { method: 'DELETE' })
    await within(again, 1_000, 'the sessions frame')
  })
})
