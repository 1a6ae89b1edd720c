/**
 * Security events: the `onEvent` hook of `session()` and `userSessions()`, and the
 * Durable Object store's per-user trail (`session.securityEvents()`,
 * `userSessions().securityEvents()`), through a library app on the pool's real objects
 * and KV. Each event type, its fields, the trail's paging and retention, new-device
 * detection by the known-device cookie, and the hook's isolation.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import {
  kvStore,
  type SessionEnv,
  type SessionEvent,
  type SessionOptions,
  session,
} from '../src/session'
import { durableObjectStore, userSessions } from '../src/session/durable-object'
import { testClient } from '../src/session/testing'

const MAC_CHROME =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36'
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1'

let users = 0
/** A user no other test of this file logs in as. */
const newUser = (): string => `events-${++users}-${crypto.randomUUID().slice(0, 8)}`

/** An app on `store` whose hook collects every event, and a browser to drive it. */
function setup(
  options: SessionOptions = {},
  store: 'do' | 'kv' = 'do',
  trail?: { maxEvents?: number; maxAge?: number },
) {
  const events: SessionEvent[] = []
  const sessionOptions: SessionOptions = {
    store: (c) =>
      store === 'do'
        ? durableObjectStore({
            namespace: c.env.SESSION_OBJECTS,
            recordLocation: true,
            ...(trail === undefined ? {} : { trail }),
          })
        : kvStore({ namespace: c.env.SESSIONS }),
    onEvent: (event) => {
      events.push(event)
    },
    ...options,
  }
  const app = new Hono<SessionEnv>()
  app.use(session(sessionOptions))
  app.post('/login/:user', async (c) => {
    await c.get('session').login(c.req.param('user'))
    return c.text('in')
  })
  app.post('/logout', async (c) => {
    await c.get('session').flush()
    return c.text('out')
  })
  app.post('/confirm', async (c) => {
    await c.get('session').confirmAuthentication()
    return c.text('confirmed')
  })
  app.post('/revoke-others', async (c) => c.json(await c.get('session').revokeOtherSessions()))
  app.post('/revoke/:handle', async (c) =>
    c.json(await c.get('session').revokeSession(c.req.param('handle'))),
  )
  app.get('/sessions', async (c) => c.json(await c.get('session').listSessions()))
  app.get('/me', async (c) => c.json(await c.get('session').getUser()))
  app.get('/events', async (c) => {
    const after = c.req.query('after')
    const limit = c.req.query('limit')
    return c.json(
      await c.get('session').securityEvents({
        ...(limit === undefined ? {} : { limit: Number(limit) }),
        ...(after === undefined ? {} : { after: { id: after } }),
      }),
    )
  })
  /** A browser with its own cookie jar; every request's hook has run when it resolves. */
  const browser = (userAgent = MAC_CHROME, cf: Record<string, string> = {}) => {
    const client = testClient(app, {
      env,
      session: sessionOptions,
      url: 'https://example.com',
      headers: { 'User-Agent': userAgent },
    })
    const send = async (method: 'GET' | 'POST', path: string): Promise<Response> => {
      const ctx = createExecutionContext()
      const request = new Request(`https://example.com${path}`, {
        method,
        headers: {
          'User-Agent': userAgent,
          Origin: 'https://example.com',
          ...(client.cookies.header() === undefined ? {} : { Cookie: client.cookies.header()! }),
        },
        cf,
      } as RequestInit)
      const res = await app.request(request, undefined, env, ctx)
      client.cookies.update(res)
      await waitOnExecutionContext(ctx)
      return res
    }
    return { client, send }
  }
  return { app, events, browser, sessionOptions }
}

describe('onEvent and the trail: login and logout', () => {
  it('records a login with the device and location, then a logout, newest first', async () => {
    const { events, browser } = setup()
    const user = newUser()
    const b = browser(MAC_CHROME, { country: 'DE', city: 'Berlin', region: 'Berlin' })
    await b.send('POST', `/login/${user}`)
    expect(events).toHaveLength(1)
    const login = events[0]!
    expect(login).toMatchObject({
      type: 'login',
      user,
      newDevice: true,
      actor: null,
      device: { label: 'Chrome 147 on macOS', browser: 'Chrome 147', os: 'macOS' },
      location: { country: 'DE', city: 'Berlin' },
    })
    expect(login.handle).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(login.id).toMatch(/^\d+$/)
    const trail = (await (await b.send('GET', '/events')).json()) as SessionEvent[]
    expect(trail).toEqual([login])

    await b.send('POST', '/logout')
    expect(events.map((e) => e.type)).toEqual(['login', 'logout'])
    expect(events[1]).toMatchObject({ type: 'logout', user, handle: login.handle })
    const admin = userSessions({ namespace: env.SESSION_OBJECTS })
    const kept = await admin.securityEvents(user)
    expect(kept.map((e) => e.type)).toEqual(['logout', 'login'])
  })

  it('calls a second login from the same browser a known device, and one from another browser new', async () => {
    const { events, browser } = setup()
    const user = newUser()
    const laptop = browser()
    await laptop.send('POST', `/login/${user}`)
    await laptop.send('POST', '/logout') // the known-device cookie survives logout
    await laptop.send('POST', `/login/${user}`)
    const phone = browser(IPHONE)
    await phone.send('POST', `/login/${user}`)
    const logins = events.filter((e) => e.type === 'login')
    expect(logins.map((e) => (e.type === 'login' ? e.newDevice : null))).toEqual([
      true,
      false,
      true,
    ])
    expect(logins[2]?.device?.label).toBe('Safari 18 on iOS 18')
  })

  it('calls the same browser new for another user it never logged in as', async () => {
    const { events, browser } = setup()
    const b = browser()
    await b.send('POST', `/login/${newUser()}`)
    await b.send('POST', `/login/${newUser()}`)
    expect(
      events
        .filter((e) => e.type === 'login')
        .map((e) => (e.type === 'login' ? e.newDevice : null)),
    ).toEqual([true, true])
  })

  it('records a re-authentication', async () => {
    const { events, browser } = setup()
    const user = newUser()
    const b = browser()
    await b.send('POST', `/login/${user}`)
    await b.send('POST', '/confirm')
    expect(events.map((e) => e.type)).toEqual(['login', 'reauthenticated'])
    expect(events[1]?.handle).toBe(events[0]?.handle)
  })
})

describe('onEvent and the trail: revocations say who', () => {
  it('records "revoked by user" with the acting session, and the ended session\'s own device', async () => {
    const { events, browser } = setup()
    const user = newUser()
    const phone = browser(IPHONE)
    await phone.send('POST', `/login/${user}`)
    const laptop = browser()
    await laptop.send('POST', `/login/${user}`)
    const [phoneLogin, laptopLogin] = events
    await laptop.send('POST', '/revoke-others')
    const revoked = events.at(-1)!
    expect(revoked).toMatchObject({
      type: 'revoked',
      by: 'user',
      user,
      handle: phoneLogin?.handle,
      device: { label: 'Safari 18 on iOS 18' },
      actor: { user, handle: laptopLogin?.handle },
    })
  })

  it('records "revoked by admin" with the operator named, and tells userSessions()\'s hook', async () => {
    const { browser } = setup()
    const user = newUser()
    await browser().send('POST', `/login/${user}`)
    const told: SessionEvent[] = []
    const admin = userSessions({
      namespace: env.SESSION_OBJECTS,
      onEvent: (e) => void told.push(e),
    })
    expect(await admin.revokeAllSessions(user, { actor: 'ops-ada' })).toBe(1)
    expect(told).toHaveLength(1)
    expect(told[0]).toMatchObject({
      type: 'revoked',
      by: 'admin',
      actor: { user: 'ops-ada', handle: null },
    })
    expect((await admin.securityEvents(user))[0]).toEqual(told[0])
  })

  it('records "revoked by cap" for the session a login beyond the cap ended', async () => {
    const events: SessionEvent[] = []
    const app = new Hono<SessionEnv>()
    const options: SessionOptions = {
      store: (c) => durableObjectStore({ namespace: c.env.SESSION_OBJECTS, maxSessionsPerUser: 1 }),
      onEvent: (e) => void events.push(e),
    }
    app.use(session(options))
    app.post('/login/:user', async (c) => {
      await c.get('session').login(c.req.param('user'))
      return c.text('in')
    })
    const user = newUser()
    for (const _ of [1, 2]) {
      const ctx = createExecutionContext()
      await app.request(`/login/${user}`, { method: 'POST' }, env, ctx)
      await waitOnExecutionContext(ctx)
    }
    const [first, second, capped] = events
    expect(capped).toMatchObject({ type: 'revoked', by: 'cap', handle: first?.handle })
    expect(second?.type).toBe('login')
  })

  it('records "revoked by password" for every other session when the verifier changes', async () => {
    const verifiers = new Map<string, string>()
    const { events, browser } = setup({ authHash: (_c, user) => verifiers.get(user) ?? null })
    const user = newUser()
    verifiers.set(user, 'v1')
    const a = browser()
    const b = browser(IPHONE)
    await a.send('POST', `/login/${user}`)
    await b.send('POST', `/login/${user}`)
    verifiers.set(user, 'v2')
    // a's next request reads as logged out (its verifier no longer holds); its record ends.
    expect(await (await a.send('GET', '/me')).json()).toBeNull()
    expect(events.at(-1)).toMatchObject({
      type: 'revoked',
      by: 'password',
      handle: events[0]?.handle,
    })
  })
})

describe('the trail: paging and retention', () => {
  it('pages newest first with limit and after', async () => {
    const { browser } = setup()
    const user = newUser()
    const b = browser()
    for (const _ of [1, 2, 3]) {
      await b.send('POST', `/login/${user}`)
      await b.send('POST', '/confirm')
    }
    const first = (await (await b.send('GET', '/events?limit=4')).json()) as SessionEvent[]
    expect(first.map((e) => e.type)).toEqual([
      'reauthenticated',
      'login',
      'reauthenticated',
      'login',
    ])
    const next = (await (
      await b.send('GET', `/events?limit=4&after=${first.at(-1)!.id}`)
    ).json()) as SessionEvent[]
    expect(next.map((e) => e.type)).toEqual(['reauthenticated', 'login'])
    expect(Number(next[0]!.id)).toBeLessThan(Number(first.at(-1)!.id))
  })

  it('keeps at most maxEvents, dropping the oldest', async () => {
    const { browser } = setup({}, 'do', { maxEvents: 3 })
    const user = newUser()
    const b = browser()
    for (const _ of [1, 2, 3]) {
      await b.send('POST', `/login/${user}`)
      await b.send('POST', '/confirm')
    }
    const kept = (await (await b.send('GET', '/events')).json()) as SessionEvent[]
    expect(kept.map((e) => e.type)).toEqual(['reauthenticated', 'login', 'reauthenticated'])
  })

  it('reads nothing older than maxAge', async () => {
    let now = Date.now()
    const { browser } = setup({ now: () => now }, 'do', { maxAge: 60 })
    const user = newUser()
    const b = browser()
    await b.send('POST', `/login/${user}`)
    now += 61_000
    await b.send('POST', '/confirm')
    const kept = (await (await b.send('GET', '/events')).json()) as SessionEvent[]
    expect(kept.map((e) => e.type)).toEqual(['reauthenticated'])
  })

  it('refuses an after that is not an event id, with INVALID_VALUE', async () => {
    const { browser } = setup()
    const b = browser()
    await b.send('POST', `/login/${newUser()}`)
    const res = await b.send('GET', '/events?after=1%3B%20DROP')
    expect(res.status).toBe(500)
  })
})

describe('the hook is isolated', () => {
  it('a hook that throws changes nothing: the response, the cookie and the trail stand', async () => {
    const app = new Hono<SessionEnv>()
    const options: SessionOptions = {
      store: (c) => durableObjectStore({ namespace: c.env.SESSION_OBJECTS }),
      onEvent: () => {
        throw new Error('the hook broke')
      },
    }
    app.use(session(options))
    app.post('/login/:user', async (c) => {
      await c.get('session').login(c.req.param('user'))
      return c.text('in')
    })
    const user = newUser()
    const ctx = createExecutionContext()
    const res = await app.request(`/login/${user}`, { method: 'POST' }, env, ctx)
    await waitOnExecutionContext(ctx)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('in')
    expect(res.headers.get('Set-Cookie')).toContain('sessionid=')
    const trail = await userSessions({ namespace: env.SESSION_OBJECTS }).securityEvents(user)
    expect(trail.map((e) => e.type)).toEqual(['login'])
  })
})

describe('KV store: the hook, no trail', () => {
  it('calls the hook with a login and a logout, without handles or ids', async () => {
    const { events, browser } = setup({}, 'kv')
    const user = newUser()
    const b = browser()
    await b.send('POST', `/login/${user}`)
    await b.send('POST', '/logout')
    expect(events.map((e) => [e.type, e.handle, e.id])).toEqual([
      ['login', null, null],
      ['logout', null, null],
    ])
    expect(events[0]).toMatchObject({ newDevice: true, device: { label: 'Chrome 147 on macOS' } })
    const res = await b.send('GET', '/events')
    expect(res.status).toBe(501) // securityEvents() is NOT_SUPPORTED on KV
  })
})
