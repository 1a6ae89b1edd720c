/**
 * Impersonation (issue 26, item 1) on the Durable Object store, through a small app's JSON
 * routes and real objects: an operator acts as a user with a reason and a time limit, is
 * refused what must stay the user's own (IMPERSONATING), and goes back to their own
 * session (the same handle) when it ends: stopped, past its limit, the operator's session
 * ending (admin API, password change), or the user ending it. Both trails and onEvent
 * hear of it; the KV and cookie stores refuse it.
 */
import {
  createExecutionContext,
  env,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import {
  cookieStore,
  kvStore,
  type SessionEvent,
  type SessionInfo,
  type SessionOptions,
} from '../src/session'
import {
  durableObjectStore,
  type DurableObjectStoreOptions,
  userSessions,
} from '../src/session/durable-object'
import type { TestClient } from '../src/session/testing'
import { logIn, sessionApp, type SessionApp, users } from './helpers/app'
import { clearObjects, instrument, namedStub } from './helpers/do'
import { openLive } from './helpers/sockets'

let n = 0
const newUser = (what: string): string => `${what}-${++n}-${crypto.randomUUID().slice(0, 8)}`

const people = users()

/** An app on the Durable Object store with a clock of its own (a minute ahead of the real one: the alarm runs on the real one). */
function clockedApp(
  store: Partial<DurableObjectStoreOptions> = {},
  options: SessionOptions = {},
): { app: SessionApp; clock: { now: number } } {
  const clock = { now: Math.ceil(Date.now() / 1000) * 1000 + 60_000 }
  const app = sessionApp(
    {
      store: durableObjectStore({ namespace: env.SESSION_OBJECTS, ...store }),
      now: () => clock.now,
      ...options,
    },
    { users: people },
  )
  return { app, clock }
}

const json = async <T>(res: Response): Promise<T> => (await res.json()) as T

/** `GET /impersonator`: who the browser is, and who acts as them. */
const whoami = async (
  b: TestClient,
): Promise<{ user: string | null; impersonator: string | null }> =>
  json(await b.get('/impersonator'))

const list = async (b: TestClient): Promise<SessionInfo[]> => {
  const res = await b.get('/sessions')
  expect(res.status).toBe(200)
  return (await json<{ sessions: SessionInfo[] }>(res)).sessions
}

/** The handle of the browser's own session. */
const ownHandle = async (b: TestClient): Promise<string> =>
  (await list(b)).find((s) => s.current)?.handle ?? 'none'

const impersonate = (b: TestClient, user: string, extra: Record<string, unknown> = {}) =>
  b.post('/impersonate', { json: { user, reason: 'ticket #4521', ...extra } })

/** An operator and a user, each logged in on a browser of `app`. */
async function pair(app: SessionApp): Promise<{
  admin: TestClient
  target: TestClient
  adminName: string
  targetName: string
}> {
  const adminName = newUser('admin')
  const targetName = newUser('user')
  const admin = app.browser({ userAgent: 'Firefox on Linux' })
  const target = app.browser({ userAgent: 'Safari on iPhone' })
  await logIn(admin, adminName)
  await logIn(target, targetName)
  return { admin, target, adminName, targetName }
}

/** The user's trail, through userSessions(). */
const trail = (user: string): Promise<SessionEvent[]> =>
  userSessions({ namespace: env.SESSION_OBJECTS }).securityEvents(user)

beforeEach(async () => {
  await clearObjects()
})

describe('session.impersonate()', () => {
  it('acts as the user from the next request, and knows its impersonator', async () => {
    const { app } = clockedApp()
    const { admin, adminName, targetName } = await pair(app)
    const res = await impersonate(admin, targetName)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ user: targetName, impersonator: adminName })
    expect(await whoami(admin)).toEqual({ user: targetName, impersonator: adminName })
    expect(await admin.user()).toBe(targetName)
  })

  it("stopImpersonating() hands back the operator's own session: the same handle, a new key", async () => {
    const { app } = clockedApp()
    const { admin, adminName, targetName } = await pair(app)
    const handle = await ownHandle(admin)
    const before = admin.sessionCookie
    await impersonate(admin, targetName)
    const during = admin.sessionCookie
    expect(during).not.toBe(before)
    const res = await admin.post('/impersonate/stop')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ stopped: true })
    expect(await whoami(admin)).toEqual({ user: adminName, impersonator: null })
    expect(await ownHandle(admin)).toBe(handle)
    expect([before, during]).not.toContain(admin.sessionCookie)
    // Neither the impersonation's key nor the operator's old one works any more.
    expect(await app.browserWith(during as string).user()).toBeNull()
    expect(await app.browserWith(before as string).user()).toBeNull()
    // Stopping when not impersonating does nothing.
    expect(await json(await admin.post('/impersonate/stop'))).toEqual({ stopped: false })
  })

  it('needs a reason (INVALID_VALUE) and a fresh authentication (REAUTHENTICATION_REQUIRED, 403)', async () => {
    const { app, clock } = clockedApp()
    const { admin, adminName, targetName } = await pair(app)
    for (const reason of ['', '   ', 42, 'x'.repeat(501)]) {
      const res = await impersonate(admin, targetName, { reason })
      expect(res.status).toBe(500)
      expect((await json<{ code: string }>(res)).code).toBe('INVALID_VALUE')
    }
    expect((await json<{ code: string }>(await impersonate(admin, adminName))).code).toBe(
      'INVALID_VALUE',
    )
    clock.now += 601_000
    const stale = await impersonate(admin, targetName)
    expect(stale.status).toBe(403)
    expect((await json<{ code: string }>(stale)).code).toBe('REAUTHENTICATION_REQUIRED')
    expect(await whoami(admin)).toEqual({ user: adminName, impersonator: null })
    expect((await admin.post('/confirm')).status).toBe(200)
    expect((await impersonate(admin, targetName)).status).toBe(200)
  })

  it('answers NOT_LOGGED_IN without a user', async () => {
    const { app } = clockedApp()
    const res = await impersonate(app.browser(), newUser('user'))
    expect(res.status).toBe(401)
    expect((await json<{ code: string }>(res)).code).toBe('NOT_LOGGED_IN')
  })

  it.each([
    ['POST', '/confirm'],
    ['POST', '/fresh'],
    ['POST', '/password'],
    ['POST', '/sessions/revoke-others'],
    ['POST', '/sessions/revoke-all'],
    ['DELETE', '/sessions/HANDLE'],
    ['POST', '/impersonate'],
  ])(
    'refuses %s %s while impersonating with IMPERSONATING (403), ending nothing',
    async (method, path) => {
      const { app } = clockedApp()
      const { admin, target, adminName, targetName } = await pair(app)
      const targetHandle = await ownHandle(target)
      await impersonate(admin, targetName)
      const init: RequestInit =
        path === '/impersonate'
          ? {
              method,
              body: JSON.stringify({ user: newUser('user'), reason: 'again' }),
              headers: { 'Content-Type': 'application/json' },
            }
          : { method }
      const res = await admin.request(path.replace('HANDLE', targetHandle), init)
      expect(res.status).toBe(403)
      expect((await json<{ code: string }>(res)).code).toBe('IMPERSONATING')
      expect(await whoami(admin)).toEqual({ user: targetName, impersonator: adminName })
      expect(await target.user()).toBe(targetName)
      expect((await list(target)).length).toBe(2)
    },
  )

  it('refuses login() while impersonating', async () => {
    const { app } = clockedApp()
    const { admin, targetName } = await pair(app)
    await impersonate(admin, targetName)
    const res = await admin.post('/login', { json: { user: newUser('other') } })
    expect(res.status).toBe(403)
    expect((await json<{ code: string }>(res)).code).toBe('IMPERSONATING')
  })

  it('ends at its time limit (30 minutes by default): the next request is the operator again, on the same handle', async () => {
    const { app, clock } = clockedApp()
    const { admin, target, adminName, targetName } = await pair(app)
    const handle = await ownHandle(admin)
    await impersonate(admin, targetName)
    clock.now += 1_800_000 - 1
    expect(await whoami(admin)).toEqual({ user: targetName, impersonator: adminName })
    clock.now += 1
    expect(await whoami(admin)).toEqual({ user: adminName, impersonator: null })
    expect(await ownHandle(admin)).toBe(handle)
    expect((await list(target)).map((s) => s.impersonator)).toEqual([undefined])
    const ended = (await trail(targetName)).find((e) => e.type === 'impersonation-ended')
    expect(ended).toMatchObject({ how: 'expired', impersonator: adminName, target: targetName })
  })

  it('takes its limit from maxAge; past it, the target no longer lists it', async () => {
    const { app, clock } = clockedApp()
    const { admin, target, adminName, targetName } = await pair(app)
    await impersonate(admin, targetName, { maxAge: 60 })
    expect((await list(target)).length).toBe(2)
    clock.now += 60_000
    expect((await list(target)).length).toBe(1)
    expect(await whoami(admin)).toEqual({ user: adminName, impersonator: null })
  })

  it("is listed in the target's sessions naming the operator, outside the cap, evicting none of the target's devices", async () => {
    const { app } = clockedApp({ maxSessionsPerUser: 1 })
    const { admin, target, adminName, targetName } = await pair(app)
    await impersonate(admin, targetName)
    const rows = await list(target)
    expect(rows.length).toBe(2)
    const row = rows.find((s) => s.impersonator !== undefined)
    expect(row).toMatchObject({ impersonator: adminName, current: false })
    expect(rows.find((s) => s.current)?.impersonator).toBeUndefined()
    // The target's own device is still logged in, and a new login of theirs replaces it, not the impersonation.
    expect(await target.user()).toBe(targetName)
    const phone = app.browser()
    await logIn(phone, targetName)
    expect(await target.user()).toBeNull()
    expect(await whoami(admin)).toEqual({ user: targetName, impersonator: adminName })
    // cycleKey() keeps it an impersonation, still outside the cap.
    expect((await admin.post('/cycle')).status).toBe(200)
    expect(await whoami(admin)).toEqual({ user: targetName, impersonator: adminName })
    expect(await phone.user()).toBe(targetName)
  })

  it('the target ends it with revokeSession(handle): the operator is back on their own session', async () => {
    const { app } = clockedApp()
    const { admin, target, adminName, targetName } = await pair(app)
    const handle = await ownHandle(admin)
    await impersonate(admin, targetName)
    const row = (await list(target)).find((s) => s.impersonator === adminName)
    const res = await target.delete(`/sessions/${row?.handle}`)
    expect(await res.json()).toEqual({ revoked: true })
    expect(await whoami(admin)).toEqual({ user: adminName, impersonator: null })
    expect(await ownHandle(admin)).toBe(handle)
    const ended = (await trail(adminName)).find((e) => e.type === 'impersonation-ended')
    expect(ended).toMatchObject({ how: 'revoked', user: adminName, handle })
  })

  it("the target's revoke-all ends it", async () => {
    const { app } = clockedApp()
    const { admin, target, adminName, targetName } = await pair(app)
    await impersonate(admin, targetName)
    expect(await json(await target.post('/sessions/revoke-all'))).toEqual({ revoked: 2 })
    expect(await whoami(admin)).toEqual({ user: adminName, impersonator: null })
  })

  it("an operator's session revoked by the admin API ends it: the next request is logged out", async () => {
    const { app, clock } = clockedApp()
    const { admin, target, adminName, targetName } = await pair(app)
    await impersonate(admin, targetName)
    const ops = userSessions({ namespace: env.SESSION_OBJECTS, now: () => clock.now })
    expect(await ops.revokeAllSessions(adminName, { actor: 'root' })).toBe(1)
    const res = await admin.get('/impersonator')
    expect(await res.json()).toEqual({ user: null, impersonator: null })
    expect(res.headers.get('Set-Cookie')).toMatch(/^sessionid=;/)
    expect((await list(target)).length).toBe(1)
    const ended = (await trail(targetName)).find((e) => e.type === 'impersonation-ended')
    expect(ended).toMatchObject({ how: 'admin-session-ended', impersonator: adminName })
    expect((await trail(adminName)).find((e) => e.type === 'impersonation-ended')).toMatchObject({
      how: 'admin-session-ended',
    })
  })

  it("the operator's password change, from another of their sessions, ends it", async () => {
    const { app } = clockedApp()
    const { admin, target, adminName, targetName } = await pair(app)
    const laptop = app.browser()
    await logIn(laptop, adminName)
    await impersonate(admin, targetName)
    expect((await laptop.post('/password')).status).toBe(200)
    expect(await whoami(admin)).toEqual({ user: null, impersonator: null })
    expect(await laptop.user()).toBe(adminName)
    expect((await list(target)).length).toBe(1)
  })

  it("a user's password change ends an impersonation of them", async () => {
    const { app } = clockedApp()
    const { admin, target, adminName, targetName } = await pair(app)
    await impersonate(admin, targetName)
    expect((await target.post('/password')).status).toBe(200)
    expect(await whoami(admin)).toEqual({ user: adminName, impersonator: null })
  })

  it('flush() while impersonating ends it, then logs the operator out', async () => {
    const { app } = clockedApp()
    const { admin, target, adminName, targetName } = await pair(app)
    await impersonate(admin, targetName)
    expect((await admin.post('/logout')).status).toBe(200)
    expect(await whoami(admin)).toEqual({ user: null, impersonator: null })
    expect((await list(target)).length).toBe(1)
    const types = (await trail(adminName)).map((e) => e.type)
    expect(types.slice(0, 2)).toEqual(['logout', 'impersonation-ended'])
  })

  it("records the start and the end in both users' trails (reason, actor, how) and hands them to onEvent", async () => {
    const events: SessionEvent[] = []
    const { app } = clockedApp({}, { onEvent: (event) => void events.push(event) })
    const { admin, target, adminName, targetName } = await pair(app)
    const adminHandle = await ownHandle(admin)
    const ctx = createExecutionContext()
    const res = await app.browser({ executionCtx: ctx }).request('/whoami')
    await waitOnExecutionContext(ctx)
    expect(res.status).toBe(200)
    await impersonate(admin, targetName, { reason: 'ticket #9' })
    const impersonation = (await list(target)).find((s) => s.impersonator)?.handle
    await admin.post('/impersonate/stop')
    const mine = (await trail(adminName)).filter((e) => e.type.startsWith('impersonation'))
    const theirs = (await trail(targetName)).filter((e) => e.type.startsWith('impersonation'))
    const common = { impersonator: adminName, target: targetName, reason: 'ticket #9' }
    expect(mine).toMatchObject([
      { type: 'impersonation-ended', how: 'stopped', user: adminName, handle: adminHandle },
      {
        type: 'impersonation-started',
        user: adminName,
        handle: adminHandle,
        actor: { user: adminName, handle: adminHandle },
        ...common,
      },
    ])
    expect(theirs).toMatchObject([
      { type: 'impersonation-ended', how: 'stopped', user: targetName, handle: impersonation },
      {
        type: 'impersonation-started',
        user: targetName,
        handle: impersonation,
        actor: { user: adminName, handle: adminHandle },
        ...common,
      },
    ])
    const heard = events.filter((e) => e.type.startsWith('impersonation'))
    expect(heard.map((e) => [e.type, e.user])).toEqual([
      ['impersonation-started', adminName],
      ['impersonation-started', targetName],
      ['impersonation-ended', targetName],
      ['impersonation-ended', adminName],
    ])
  })

  it('a request in flight with the ended key reads as moved: no deletion cookie', async () => {
    const { app, clock } = clockedApp()
    const { admin, adminName, targetName } = await pair(app)
    await impersonate(admin, targetName)
    const during = admin.sessionCookie as string
    clock.now += 1_800_000
    expect(await whoami(admin)).toEqual({ user: adminName, impersonator: null })
    const late = app.browserWith(during)
    const res = await late.get('/impersonator')
    expect(await res.json()).toEqual({ user: null, impersonator: null })
    expect(res.headers.get('Set-Cookie')).toBeNull()
  })

  it.each([
    ['kv', () => kvStore({ namespace: env.SESSIONS })],
    ['cookie', () => cookieStore({ secret: 'edge-session impersonation test secret, 32+ bytes' })],
  ])('is NOT_SUPPORTED (501) on the %s store', async (_name, store) => {
    const app = sessionApp({ store: store() })
    const admin = app.browser()
    await logIn(admin, newUser('admin'))
    const res = await impersonate(admin, newUser('user'))
    expect(res.status).toBe(501)
    expect((await json<{ code: string }>(res)).code).toBe('NOT_SUPPORTED')
    expect(await admin.post('/impersonate/stop').then((r) => r.json())).toEqual({ stopped: false })
  })

  it('costs two object calls per request while it lasts; four to start, five to stop', async () => {
    const objects = instrument()
    const { app } = clockedApp({ namespace: objects.namespace })
    const { admin, targetName } = await pair(app)
    objects.reset()
    await impersonate(admin, targetName)
    // The operator's session read, their object (check and trail), the target's (the session),
    // and the commit's save, which sets the cookie.
    expect(objects.calls.byMethod).toEqual({
      load: 1,
      beginImpersonating: 1,
      startImpersonation: 1,
      update: 1,
    })
    objects.reset()
    expect((await admin.get('/whoami')).status).toBe(200)
    // The impersonation's load, and the operator's session's.
    expect(objects.calls.byMethod).toEqual({ load: 2 })
    objects.reset()
    await admin.post('/impersonate/stop')
    expect(objects.calls.byMethod).toEqual({
      load: 2,
      endImpersonation: 1,
      endImpersonating: 1,
      update: 1,
    })
  })

  it("closes the impersonation's sockets (4401) when the user ends it, and at the stop", async () => {
    const { app } = clockedApp()
    const { admin, target, targetName } = await pair(app)
    const live = async () =>
      openLive((path, init) => admin.request(path, init), { Origin: 'http://localhost' })
    await impersonate(admin, targetName)
    const first = await live()
    const row = (await list(target)).find((s) => s.impersonator !== undefined)
    await target.delete(`/sessions/${row?.handle}`)
    expect(await first.closed).toEqual({ code: 4401, reason: 'revoked' })
    await impersonate(admin, targetName)
    const second = await live()
    await admin.post('/impersonate/stop')
    expect(await second.closed).toEqual({ code: 4401, reason: 'logged out' })
  })

  it("the target's object's alarm ends it past its limit; the operator's next request is theirs again", async () => {
    const { app } = clockedApp()
    const { admin, adminName, targetName } = await pair(app)
    await impersonate(admin, targetName)
    const stub = namedStub(`user:${targetName}`)
    // Past its limit by the real clock, which the alarm reads.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec('UPDATE impersonations SET ends_at = ?', Date.now() - 1)
    })
    expect(await runDurableObjectAlarm(stub)).toBe(true)
    expect(await stub.count()).toBe(1)
    const ended = (await trail(targetName)).find((e) => e.type === 'impersonation-ended')
    expect(ended).toMatchObject({ how: 'expired', impersonator: adminName })
    expect(await whoami(admin)).toEqual({ user: adminName, impersonator: null })
  })

  it('keeps its rows in the target object only while they matter', async () => {
    const { app } = clockedApp()
    const { admin, targetName } = await pair(app)
    await impersonate(admin, targetName)
    const rows = async (): Promise<number> => namedStub(`user:${targetName}`).count()
    expect(await rows()).toBe(2)
    await admin.post('/impersonate/stop')
    expect(await rows()).toBe(1)
  })
})
