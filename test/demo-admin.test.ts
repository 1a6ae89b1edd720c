/**
 * The demo's admin routes (`src/routes/admin.ts`), on the Durable Object store:
 * `GET /admin/users/:user/sessions` and `POST /admin/users/:user/revoke` (and their forms
 * taking the user in the query or body, for ids such as `.` and `..`), behind
 * `Authorization: Bearer <ADMIN_TOKEN>` (issue 26, item 3).
 */
import { env } from 'cloudflare:test'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp } from '../src/app'
import { userSessions } from '../src/session/durable-object'
import { BASE, device } from './helpers/demo'
import { clearObjects } from './helpers/do'

const TOKEN = 'an admin token for the tests, long enough'
const DO = { ...env, SESSION_STORE: 'do', ADMIN_TOKEN: TOKEN }
let users = 0
const newUser = (): string => `admin-${++users}-${crypto.randomUUID().slice(0, 8)}`

beforeEach(async () => {
  await clearObjects()
})

afterEach(() => {
  vi.restoreAllMocks()
})

/** A request to the demo's admin routes with `bindings`. */
async function adminCall(
  bindings: Record<string, unknown>,
  method: string,
  path: string,
  { token = TOKEN as string | null, body }: { token?: string | null; body?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = token === null ? {} : { Authorization: `Bearer ${token}` }
  return createApp().request(
    new Request(BASE + path, { method, headers, body }),
    undefined,
    bindings,
  )
}

describe("the demo's admin routes", () => {
  it("GET /admin/users/:user/sessions lists the user's sessions with the bearer token", async () => {
    const user = newUser()
    await device(DO, { userAgent: 'Firefox on Linux' }).login(user)
    const res = await adminCall(DO, 'GET', `/admin/users/${user}/sessions`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      sessions: [expect.objectContaining({ current: false, userAgent: 'Firefox on Linux' })],
    })
  })

  it('POST /admin/users/:user/revoke: {"handle"} ends that session, {"all": true} every one', async () => {
    const user = newUser()
    const [a, b] = [device(DO), device(DO)]
    await a.login(user)
    await b.login(user)
    const [newest] = await userSessions({ namespace: env.SESSION_OBJECTS }).listSessions(user)
    const one = await adminCall(DO, 'POST', `/admin/users/${user}/revoke`, {
      body: JSON.stringify({ handle: newest!.handle }),
    })
    expect(await one.json()).toEqual({ revoked: 1 })
    expect([await a.whoami(), await b.whoami()]).toEqual([user, null])
    const all = await adminCall(DO, 'POST', `/admin/users/${user}/revoke`, {
      body: JSON.stringify({ all: true }),
    })
    expect(await all.json()).toEqual({ revoked: 1 })
    expect(await a.whoami()).toBeNull()
  })

  it.each([
    ['nothing', undefined],
    ['the empty string', ''],
    ['blank spaces', '   '],
    ['blank lines', '\n\t\r\n'],
    ['not JSON', '{'],
    ['JSON null', 'null'],
    ['an array', '[]'],
    ['no handle', '{"x":1}'],
    ['an empty object', '{}'],
    ['"all" not true', '{"all":false}'],
    ['"all" as a string', '{"all":"true"}'],
    ['a handle that is not a string', '{"handle":1}'],
    ['both a handle and "all"', '{"handle":"h","all":true}'],
  ])(
    'POST /admin/users/:user/revoke and POST /admin/revoke with %s as body are a 400 and end nothing',
    async (_what, body) => {
      const user = newUser()
      const a = device(DO)
      await a.login(user)
      const res = await adminCall(DO, 'POST', `/admin/users/${user}/revoke`, { body })
      expect(res.status).toBe(400)
      expect(await res.json()).toEqual({ error: expect.any(String) })
      const viaBody = body?.startsWith('{"')
        ? `{"user":${JSON.stringify(user)},${body.slice(1)}`
        : body
      expect((await adminCall(DO, 'POST', '/admin/revoke', { body: viaBody })).status).toBe(400)
      expect(await a.whoami()).toBe(user)
      expect(await userSessions({ namespace: env.SESSION_OBJECTS }).countSessions(user)).toBe(1)
    },
  )

  it.each([
    ['.', '.'],
    ['..', '..'],
    ['a dot segment with a slash', '../admin'],
    ['%2E', '%2E'],
  ])(
    'reaches the user %s by the query and body forms: lists, reads the trail, revokes',
    async (_what, user) => {
      const [a, b] = [device(DO), device(DO)]
      await a.login(user)
      await b.login(user)
      const query = `?user=${encodeURIComponent(user)}`
      const listed = await adminCall(DO, 'GET', `/admin/sessions${query}`)
      expect(listed.status).toBe(200)
      const { sessions } = (await listed.json()) as { sessions: { handle: string }[] }
      expect(sessions).toHaveLength(2)
      const events = await adminCall(DO, 'GET', `/admin/events${query}`)
      expect(await events.json()).toMatchObject({
        events: [{ type: 'login' }, { type: 'login' }],
      })
      const one = await adminCall(DO, 'POST', '/admin/revoke', {
        body: JSON.stringify({ user, handle: sessions[0]!.handle }),
      })
      expect(await one.json()).toEqual({ revoked: 1 })
      expect([await a.whoami(), await b.whoami()]).toEqual([user, null])
      const all = await adminCall(DO, 'POST', '/admin/revoke', {
        body: JSON.stringify({ user, all: true }),
      })
      expect(await all.json()).toEqual({ revoked: 1 })
      expect(await a.whoami()).toBeNull()
      const trail = await userSessions({ namespace: env.SESSION_OBJECTS }).securityEvents(user)
      expect(trail.filter((e) => e.type === 'revoked')).toEqual([
        expect.objectContaining({ by: 'admin' }),
        expect.objectContaining({ by: 'admin' }),
      ])
    },
  )

  it('the path form cannot name "..": URL parsing removes the segment, so the body form is the way', async () => {
    const a = device(DO)
    await a.login('..')
    // `/admin/users/../revoke` is `/admin/revoke` once parsed: a body without a user is a 400.
    const res = await adminCall(DO, 'POST', '/admin/users/../revoke', {
      body: JSON.stringify({ all: true }),
    })
    expect(res.status).toBe(400)
    expect(await a.whoami()).toBe('..')
  })

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['blank', '   '],
    ['too long', 'x'.repeat(151)],
  ])('the query and body forms answer 400 to a user %s', async (_what, user) => {
    const query = user === undefined ? '' : `?user=${encodeURIComponent(user)}`
    expect((await adminCall(DO, 'GET', `/admin/sessions${query}`)).status).toBe(400)
    expect((await adminCall(DO, 'GET', `/admin/events${query}`)).status).toBe(400)
    const body = JSON.stringify({ user, all: true })
    expect((await adminCall(DO, 'POST', '/admin/revoke', { body })).status).toBe(400)
  })

  it.each([
    ['missing', null],
    ['wrong', 'not the token'],
    ['a prefix of it', TOKEN.slice(0, -1)],
  ])('a %s token is a 401 on both routes', async (_what, token) => {
    const user = newUser()
    const a = device(DO)
    await a.login(user)
    for (const [method, path] of [
      ['GET', `/admin/users/${user}/sessions`],
      ['POST', `/admin/users/${user}/revoke`],
      ['GET', `/admin/sessions?user=${user}`],
      ['POST', '/admin/revoke'],
    ] as const) {
      const body = JSON.stringify({ user, all: true })
      const res = await adminCall(DO, method, path, {
        token,
        body: method === 'POST' ? body : undefined,
      })
      expect(res.status).toBe(401)
    }
    expect(await a.whoami()).toBe(user)
  })

  it.each([
    ['unset', undefined, false],
    ['empty', '', false],
    ['blank', ' '.repeat(40), true],
    ['blank lines and tabs', '\t\n'.repeat(20), true],
    ['short (31 characters)', 'x'.repeat(31), true],
    ['short once trimmed', `  ${'x'.repeat(30)}  `, true],
  ])(
    'with ADMIN_TOKEN %s every admin route is 404, whatever the token, and a weak one is logged',
    async (_what, value, logged) => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
      const user = newUser()
      const a = device(DO)
      await a.login(user)
      warn.mockClear()
      const bindings = { ...DO, ADMIN_TOKEN: value }
      const body = JSON.stringify({ user, all: true })
      for (const [method, path] of [
        ['GET', `/admin/users/${user}/sessions`],
        ['POST', `/admin/users/${user}/revoke`],
        ['GET', `/admin/sessions?user=${user}`],
        ['POST', '/admin/revoke'],
        ['GET', `/admin/events?user=${user}`],
      ] as const) {
        const init = { body: method === 'POST' ? body : undefined }
        expect((await adminCall(bindings, method, path, { ...init, token: '' })).status).toBe(404)
        expect((await adminCall(bindings, method, path, init)).status).toBe(404)
        // The weak token itself, sent as the bearer: still 404.
        if (value !== undefined && value !== '')
          expect((await adminCall(bindings, method, path, { ...init, token: value })).status).toBe(
            404,
          )
      }
      expect(await a.whoami()).toBe(user)
      const lines = warn.mock.calls.map((call) => JSON.parse(String(call[0])) as { event: string })
      if (logged) {
        expect(lines.length).toBeGreaterThan(0)
        expect(lines).toContainEqual(expect.objectContaining({ event: 'demo.admin_token_weak' }))
        // Never the token itself.
        for (const call of warn.mock.calls) expect(String(call[0])).not.toContain('x'.repeat(30))
      } else {
        expect(lines.filter((l) => l.event === 'demo.admin_token_weak')).toEqual([])
      }
    },
  )

  it('opens with a token of 32 characters', async () => {
    const token = 'k'.repeat(32)
    const res = await adminCall({ ...DO, ADMIN_TOKEN: token }, 'GET', '/admin/sessions?user=u', {
      token,
    })
    expect(res.status).toBe(200)
  })

  it('answers 501 on a store without a registry', async () => {
    const res = await adminCall({ ...DO, SESSION_STORE: 'kv' }, 'GET', '/admin/users/u/sessions')
    expect(res.status).toBe(501)
    expect(await res.json()).toMatchObject({ code: 'NOT_SUPPORTED' })
  })
})
