import { env } from 'cloudflare:test'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import {
  loginRequired,
  safeRedirectPath,
  session,
  SessionError,
  type SessionEnv,
} from '../src/session'
import { testClient, type TestClient } from '../src/session/testing'

const BASE = 'http://example.com'

/** An app with a login route, a protected area and a JSON API behind loginRequired(). */
function app(options: Parameters<typeof loginRequired>[0] = {}): {
  request: (path: string, init?: RequestInit) => Promise<Response>
  client: TestClient
} {
  const a = new Hono<SessionEnv>()
  a.use(session())
  a.post('/login', async (c) => {
    await c.get('session').login('raju')
    return c.body(null, 204)
  })
  a.post('/logout', async (c) => {
    await c.get('session').flush()
    return c.body(null, 204)
  })
  a.use('/account/*', loginRequired(options))
  a.get('/account/*', async (c) => c.text(`hello ${await c.get('session').getUser()}`))
  const client = testClient(a, { env, url: BASE })
  return { client, request: (path, init = {}) => client.request(path, init) }
}

describe('loginRequired()', () => {
  it('redirects a logged-out page request to the login URL with the path and query as next', async () => {
    const { request } = app()
    const res = await request('/account/profile?tab=2')
    expect(res.status).toBe(302)
    expect(res.headers.get('Location')).toBe('/login?next=%2Faccount%2Fprofile%3Ftab%3D2')
  })

  it('lets a logged-in session through, and redirects again after logout', async () => {
    const { request } = app()
    await request('/login', { method: 'POST' })
    const res = await request('/account/profile')
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('hello raju')
    await request('/logout', { method: 'POST' })
    expect((await request('/account/profile')).status).toBe(302)
  })

  it('answers 401 JSON to a JSON request', async () => {
    const { request } = app()
    for (const headers of [
      { Accept: 'application/json' },
      { 'Content-Type': 'application/json' },
    ] as Record<string, string>[]) {
      const res = await request('/account/data', { headers })
      expect(res.status).toBe(401)
      expect(await res.json()).toEqual({ error: 'Authentication required', code: 'NOT_LOGGED_IN' })
    }
    // A browser's Accept names text/html: a page request.
    expect(
      (await request('/account/data', { headers: { Accept: 'text/html,application/json;q=0.9' } }))
        .status,
    ).toBe(302)
  })

  it('uses a configured login URL (keeping its query) and field name', async () => {
    const { request } = app({ loginUrl: '/accounts/login/?lang=en', redirectFieldName: 'to' })
    const res = await request('/account/x')
    expect(res.headers.get('Location')).toBe('/accounts/login/?lang=en&to=%2Faccount%2Fx')
  })

  it('puts no next for a path a browser would read as another host', async () => {
    const a = new Hono<SessionEnv>()
    a.use(session())
    a.use('*', loginRequired())
    a.get('*', (c) => c.text('secret'))
    const res = await a.request('http://example.com//evil.example/x', {}, env)
    expect(res.status).toBe(302)
    expect(res.headers.get('Location')).toBe('/login')
  })

  it.each([
    ['loginUrl', { loginUrl: 'https://evil.example/login' }],
    ['loginUrl', { loginUrl: '//evil.example/login' }],
    ['loginUrl', { loginUrl: 'login' }],
    ['redirectFieldName', { redirectFieldName: '' }],
  ])('refuses a bad %s at construction', (option, options) => {
    expect(() => loginRequired(options)).toThrowError(
      expect.objectContaining({
        code: 'INVALID_OPTION',
        message: expect.stringContaining(`"${option}"`),
      }),
    )
  })

  it('throws MISSING_STORE without the session middleware', async () => {
    const a = new Hono()
    a.use(loginRequired())
    a.get('/', (c) => c.text('x'))
    let seen: unknown
    a.onError((err, c) => {
      seen = err
      return c.text('error', 500)
    })
    await a.request('/')
    expect(seen).toBeInstanceOf(SessionError)
    expect((seen as SessionError).code).toBe('MISSING_STORE')
  })
})

describe('safeRedirectPath()', () => {
  it.each([
    ['/account?tab=2', '/account?tab=2'],
    ['/', '/'],
    ['//evil.example', '/'],
    ['/\\evil.example', '/'],
    ['/\tevil.example', '/'],
    ['https://evil.example/', '/'],
    ['javascript:alert(1)', '/'],
    ['', '/'],
    [undefined, '/'],
    [null, '/'],
  ])('turns %j into %j', (next, expected) => {
    expect(safeRedirectPath(next)).toBe(expected)
    expect(safeRedirectPath(expected, null)).toBe(expected)
  })

  it('falls back to the given path', () => {
    expect(safeRedirectPath('//x', '/home')).toBe('/home')
  })

  it('falls back for a path with a lone surrogate, which c.redirect() cannot send (a 500 otherwise)', async () => {
    // Compared as JSON, which escapes a lone surrogate: the runner cannot report one raw.
    expect(JSON.stringify(safeRedirectPath('/account\uD800', '/home'))).toBe('"/home"')
    expect(JSON.stringify(safeRedirectPath('/account\uDC00x', '/home'))).toBe('"/home"')
    expect(safeRedirectPath('/caf\u00e9/\u{1F600}', '/home')).toBe('/caf\u00e9/\u{1F600}')
    const a = new Hono()
    a.post('/login', async (c) =>
      c.redirect(safeRedirectPath(((await c.req.json()) as { next?: string }).next), 303),
    )
    const res = await a.request(`${BASE}/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"next": "/account\\ud800"}',
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('Location')).toBe('/')
  })
})
