/**
 * The demo's security activity on `SESSION_STORE=do` (src/routes/events.ts, the admin route,
 * the page's section), its failed and throttled logins (`POST /login` with `"password":
 * "wrong"`, `LOGIN_FAILURES`, `LOGIN_FAILURE_WINDOW_SECONDS`), `RECORD_LOCATION`, and the
 * event log its `onEvent` writes.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp } from '../src/app'
import type { EventsPage } from '../src/routes/events'
import type { SessionsPage } from '../src/routes/sessions'
import { BASE, device, type Device } from './helpers/demo'
import { captureConsole } from './helpers/console'
import { clearObjects } from './helpers/do'
import { json } from './helpers/http'

const TOKEN = 'an admin token for the event tests, long enough'
const DO = { ...env, SESSION_STORE: 'do', ADMIN_TOKEN: TOKEN, FRESH_AUTH_SECONDS: '600' }
const MAC_CHROME =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36'
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1'
const BERLIN = { country: 'DE', region: 'Berlin', city: 'Berlin' }

let users = 0
const newUser = (): string => `demo-events-${++users}-${crypto.randomUUID().slice(0, 8)}`

beforeEach(async () => {
  await clearObjects()
})

/** One attempt at `POST /login` from `d`: the right password (any) or `"wrong"`. */
const attempt = (d: Device, username: string, password?: string): Promise<Response> =>
  d.send('/login', json('POST', password === undefined ? { username } : { username, password }))

/** A request to the admin routes. */
const adminGet = (path: string, bindings: Record<string, unknown> = DO, token = TOKEN) =>
  createApp().request(
    new Request(BASE + path, { headers: { Authorization: `Bearer ${token}` } }),
    undefined,
    bindings,
  )

describe('GET /security-events', () => {
  it('answers the trail newest first: type, at, handle, device and location, by and actor where there are', async () => {
    const user = newUser()
    const bindings = { ...DO, RECORD_LOCATION: '1' }
    const phone = device(bindings, { userAgent: IPHONE, cf: BERLIN })
    const laptop = device(bindings, { userAgent: MAC_CHROME })
    const before = Date.now()
    await phone.login(user)
    await laptop.login(user)
    expect((await laptop.send('/sessions/revoke-others', { method: 'POST' })).status).toBe(200)

    const { res, body } = await laptop.call<EventsPage>('/security-events')
    expect(res.status).toBe(200)
    expect(body.next).toBeNull()
    const [revoked, second, first] = body.events
    expect(body.events.map((e) => e.type)).toEqual(['revoked', 'login', 'login'])
    expect(first).toEqual({
      id: expect.stringMatching(/^\d+$/),
      type: 'login',
      at: expect.any(Number),
      handle: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      device: { browser: 'Safari 18', os: 'iOS 18', label: 'Safari 18 on iOS 18' },
      location: { country: 'DE', region: 'Berlin', city: 'Berlin', label: 'Berlin, Germany' },
      newDevice: true,
    })
    expect(first!.at).toBeGreaterThanOrEqual(before)
    expect(second).toMatchObject({
      device: { label: 'Chrome 147 on macOS' },
      location: null,
      newDevice: true,
    })
    expect(revoked).toMatchObject({
      type: 'revoked',
      by: 'user',
      handle: first!.handle,
      device: { label: 'Safari 18 on iOS 18' },
      actor: { user, handle: second!.handle },
    })
    expect(first).not.toHaveProperty('by')
    expect(first).not.toHaveProperty('actor')
  })

  it('pages with ?limit= and ?after=, as GET /sessions', async () => {
    const user = newUser()
    const d = device(DO)
    for (let i = 0; i < 3; i++) {
      await d.login(user)
      expect((await d.send('/confirm', json('POST', { username: user }))).status).toBe(200)
    }
    const first = await d.call<EventsPage>('/security-events?limit=4')
    expect(first.body.events.map((e) => e.type)).toEqual([
      'reauthenticated',
      'login',
      'reauthenticated',
      'login',
    ])
    expect(first.body.next).toBe(first.body.events[3]!.id)
    const rest = await d.call<EventsPage>(`/security-events?limit=4&after=${first.body.next}`)
    expect(rest.body.events.map((e) => e.type)).toEqual(['reauthenticated', 'login'])
    expect(rest.body.next).toBeNull()
  })

  it.each([
    ['limit=0'],
    ['limit=1001'],
    ['limit=ten'],
    ['after=abc'],
    ['after=1;2'],
    [`after=${'9'.repeat(16)}`],
  ])('answers 400 to ?%s', async (query) => {
    const d = device(DO)
    await d.login(newUser())
    const { res, body } = await d.call(`/security-events?${query}`)
    expect(res.status).toBe(400)
    expect(body).toEqual({ error: expect.stringContaining('"limit" must be 1 to 1000') })
  })

  it('answers 401 NOT_LOGGED_IN to an anonymous caller, 501 NOT_SUPPORTED on the KV store', async () => {
    const anonymous = await device(DO).call('/security-events')
    expect([anonymous.res.status, anonymous.body.code]).toEqual([401, 'NOT_LOGGED_IN'])
    const kv = device({ ...env, SESSION_STORE: 'kv' })
    await kv.login(newUser())
    const onKv = await kv.call('/security-events')
    expect([onKv.res.status, onKv.body.code]).toEqual([501, 'NOT_SUPPORTED'])
  })
})

describe('GET /admin/users/:user/events', () => {
  it("answers the user's trail with the bearer token, paged", async () => {
    const user = newUser()
    const d = device(DO)
    await d.login(user)
    await d.send('/logout', { method: 'POST' })
    const res = await adminGet(`/admin/users/${user}/events?limit=1`)
    expect(res.status).toBe(200)
    const page = (await res.json()) as EventsPage
    expect(page.events.map((e) => e.type)).toEqual(['logout'])
    const next = (await (
      await adminGet(`/admin/users/${user}/events?after=${page.next}`)
    ).json()) as EventsPage
    expect(next.events.map((e) => e.type)).toEqual(['login'])
  })

  it('answers 401 without the token, 404 without ADMIN_TOKEN, 400 to a bad query', async () => {
    expect((await adminGet('/admin/users/ada/events', DO, 'not the token')).status).toBe(401)
    expect((await adminGet('/admin/users/ada/events', { ...DO, ADMIN_TOKEN: '' })).status).toBe(404)
    expect((await adminGet('/admin/users/ada/events?limit=0')).status).toBe(400)
  })
})

describe('POST /login with "password": "wrong", and the throttle', () => {
  it('records login-failed and answers 401, setting no cookie', async () => {
    const user = newUser()
    const res = await attempt(device(DO, { userAgent: IPHONE }), user, 'wrong')
    expect(res.status).toBe(401)
    expect(await res.json()).toEqual({ error: 'Wrong user name or password.' })
    expect(res.headers.getSetCookie()).toEqual([])
    const trail = (await (await adminGet(`/admin/users/${user}/events`)).json()) as EventsPage
    expect(trail.events).toEqual([
      expect.objectContaining({ type: 'login-failed', handle: null, device: expect.any(Object) }),
    ])
    expect(trail.events[0]?.device?.label).toBe('Safari 18 on iOS 18')
  })

  it('locks after LOGIN_FAILURES within LOGIN_FAILURE_WINDOW_SECONDS: 429, Retry-After, LOGIN_THROTTLED, for any password', async () => {
    const bindings = { ...DO, LOGIN_FAILURES: '2', LOGIN_FAILURE_WINDOW_SECONDS: '60' }
    const user = newUser()
    expect((await attempt(device(bindings), user, 'wrong')).status).toBe(401)
    expect((await attempt(device(bindings), user, 'wrong')).status).toBe(401)
    for (const password of ['wrong', 'right', undefined]) {
      const res = await attempt(device(bindings), user, password)
      expect(res.status).toBe(429)
      expect(res.headers.get('Retry-After')).toBe('60')
      expect(await res.json()).toMatchObject({ code: 'LOGIN_THROTTLED' })
      expect(res.headers.getSetCookie()).toEqual([])
    }
    const trail = (await (await adminGet(`/admin/users/${user}/events`)).json()) as EventsPage
    expect(trail.events.map((e) => [e.type, e.retryAfter])).toEqual([
      ['login-throttled', 60],
      ['login-failed', undefined],
      ['login-failed', undefined],
    ])
  })

  it('locks after 5 failures by default; LOGIN_FAILURES=0 locks nothing', async () => {
    const user = newUser()
    for (let i = 0; i < 5; i++) await attempt(device(DO), user, 'wrong')
    const locked = await attempt(device(DO), user)
    expect([locked.status, locked.headers.get('Retry-After')]).toEqual([429, '900'])
    const off = { ...DO, LOGIN_FAILURES: '0' }
    const other = newUser()
    for (let i = 0; i < 6; i++)
      expect((await attempt(device(off), other, 'wrong')).status).toBe(401)
    expect((await attempt(device(off), other)).status).toBe(200)
  })

  it('answers the page form a 429 page with Retry-After while the user is locked', async () => {
    const bindings = { ...DO, LOGIN_FAILURES: '1' }
    const user = newUser()
    await attempt(device(bindings), user, 'wrong')
    const res = await device(bindings).send('/form/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: user }).toString(),
    })
    expect(res.status).toBe(429)
    expect(res.headers.get('Retry-After')).toBe('900')
    expect(await res.text()).toContain('Too many failed logins')
  })

  it('answers 400 to a password that is not a string', async () => {
    const res = await device(DO).send('/login', json('POST', { username: 'ada', password: 1 }))
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ error: '"password" must be a string.' })
  })

  it.each([
    ['LOGIN_FAILURES', '-1'],
    ['LOGIN_FAILURES', '1001'],
    ['LOGIN_FAILURE_WINDOW_SECONDS', '0'],
    ['LOGIN_FAILURE_WINDOW_SECONDS', '15m'],
  ])('refuses %s=%s: a 500 whose log names the variable', async (name, value) => {
    const errors = captureConsole('error')
    const res = await attempt(device({ ...DO, [name]: value }), 'ada')
    expect(res.status).toBe(500)
    expect(await res.json()).toEqual({ error: 'Internal Server Error' })
    expect(String(errors[0]?.[0])).toContain(name)
  })
})

describe('RECORD_LOCATION and GET /sessions', () => {
  it.each([
    ['1', { country: 'DE', region: 'Berlin', city: 'Berlin', label: 'Berlin, Germany' }],
    ['0', null],
    [undefined, null],
  ])('RECORD_LOCATION=%s: rows carry device, location %j and lastSeenAt', async (value, where) => {
    const bindings = value === undefined ? DO : { ...DO, RECORD_LOCATION: value }
    const d = device(bindings, { userAgent: MAC_CHROME, cf: { ...BERLIN, colo: 'FRA' } })
    await d.login(newUser())
    const { body } = await d.call<SessionsPage>('/sessions')
    expect(body.sessions).toHaveLength(1)
    const [row] = body.sessions
    expect(row).toMatchObject({
      device: { browser: 'Chrome 147', os: 'macOS', label: 'Chrome 147 on macOS' },
      location: where,
      country: where === null ? null : 'DE',
      colo: where === null ? null : 'FRA',
    })
    expect(Date.parse(row!.lastSeenAt)).toBeGreaterThan(Date.now() - 60_000)
  })
})

describe("the demo's event log", () => {
  /** The events `console.log` is given until the test ends (silenced), parsed. */
  const loggedEvents = (): (() => Record<string, unknown>[]) => {
    const calls = captureConsole('log')
    return () => calls.map((call) => JSON.parse(String(call[0])) as Record<string, unknown>)
  }

  it('writes each event the hook receives as one JSON line', async () => {
    const lines = loggedEvents()
    const user = newUser()
    const d = device(DO)
    await d.login(user)
    await attempt(device(DO), user, 'wrong')
    await d.send('/logout', { method: 'POST' })
    await vi.waitFor(() => expect(lines()).toHaveLength(3))
    const logged = lines()
    expect(logged.map((e) => [e.type, e.user])).toEqual([
      ['login', user],
      ['login-failed', user],
      ['logout', user],
    ])
    // Exactly what the trail keeps.
    const trail = (await (await adminGet(`/admin/users/${user}/events`)).json()) as EventsPage
    expect(trail.events.map((e) => e.id)).toEqual(logged.map((e) => e.id).reverse())
  })

  it("writes the admin route's revocations too", async () => {
    const user = newUser()
    await device(DO).login(user)
    const lines = loggedEvents()
    const res = await createApp().request(
      new Request(`${BASE}/admin/users/${user}/revoke`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ all: true }),
      }),
      undefined,
      DO,
    )
    expect(res.status).toBe(200)
    expect(lines()).toEqual([expect.objectContaining({ type: 'revoked', by: 'admin', user })])
  })
})

describe('the page: Security activity', () => {
  it('lists the newest events in words, a login from another browser as a new device', async () => {
    const user = newUser()
    const laptop = device(DO, { userAgent: MAC_CHROME })
    await laptop.login(user)
    await laptop.send('/logout', { method: 'POST' })
    await laptop.login(user)
    await device(DO, { userAgent: IPHONE }).login(user)
    const html = await (await laptop.send('/', { headers: { Accept: 'text/html' } })).text()
    const section = html.slice(html.indexOf('id="security-activity"'))
    const items = [
      ...section.matchAll(/<li data-type="([^"]+)"( class="new-device")?>(.*?)<\/li>/g),
    ]
    expect(items.map((m) => [m[1], m[2] !== undefined])).toEqual([
      ['login', true],
      ['login', false],
      ['logout', false],
      ['login', true],
    ])
    expect(items[0]?.[3]).toContain('Signed in from a new device')
    expect(items[0]?.[3]).toContain('Safari 18 on iOS 18')
    expect(items[1]?.[3]).toContain('<strong>Signed in</strong>')
  })

  it('says the KV store keeps no trail', async () => {
    const d = device({ ...env, SESSION_STORE: 'kv' })
    await d.login(newUser())
    const html = await (await d.send('/')).text()
    expect(html).toContain('id="security-unsupported"')
    expect(html).not.toContain('id="security-activity"')
  })
})
