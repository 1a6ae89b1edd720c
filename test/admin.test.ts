/**
 * Admin revocation outside a request: userSessions() over the namespace (list, revoke,
 * revokeAll, as a cron job would), and the demo's ADMIN_TOKEN routes
 * (GET /admin/users/:user/sessions, POST /admin/users/:user/revoke).
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { SessionError } from '../src/session'
import { userSessions } from '../src/session/durable-object'
import { BASE, device } from './helpers/demo'
import { clearObjects } from './helpers/do'
import { createApp } from '../src/app'

const TOKEN = 'an admin token for the tests, long enough'
const DO = { ...env, SESSION_STORE: 'do', ADMIN_TOKEN: TOKEN }
let users = 0
const newUser = (): string => `admin-${++users}-${crypto.randomUUID().slice(0, 8)}`

beforeEach(async () => {
  await clearObjects()
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

describe('userSessions({ namespace })', () => {
  it("lists, revokes one and revokes all of a user's sessions with only the namespace, as a cron job does", async () => {
    const user = newUser()
    const [a, b, c] = [device(DO), device(DO), device(DO)]
    for (const d of [a, b, c]) await d.login(user)
    await device(DO).login(newUser()) // someone else, untouched
    const admin = userSessions({ namespace: env.SESSION_OBJECTS })
    const listed = await admin.list(user)
    expect(listed).toHaveLength(3)
    expect(listed.every((s) => !s.current)).toBe(true)
    expect(await admin.revoke(user, listed[0]!.handle)).toBe(true)
    expect(await admin.revoke(user, listed[0]!.handle)).toBe(false)
    expect(await c.whoami()).toBeNull() // the newest, listed first
    // A scheduled handler: every session of a disabled account ends.
    const scheduled = async (): Promise<void> =>
      void (await userSessions({ namespace: env.SESSION_OBJECTS }).revokeAll(user))
    await scheduled()
    expect([await a.whoami(), await b.whoami()]).toEqual([null, null])
    expect(await admin.list(user)).toEqual([])
  })

  it("pages a user's sessions like listSessions(): limit, after the last of a page, newest first, and count() counts them all", async () => {
    const user = newUser()
    for (let i = 0; i < 5; i++) await device(DO, { userAgent: `device ${i}` }).login(user)
    const admin = userSessions({ namespace: env.SESSION_OBJECTS })
    const all = await admin.list(user)
    expect(all).toHaveLength(5)
    expect(all.map((s) => s.createdAt)).toEqual(all.map((s) => s.createdAt).sort((x, y) => y - x))
    const first = await admin.list(user, { limit: 2 })
    const second = await admin.list(user, { limit: 2, after: first.at(-1)! })
    const third = await admin.list(user, { limit: 2, after: second.at(-1)! })
    expect([...first, ...second, ...third].map((s) => s.handle)).toEqual(all.map((s) => s.handle))
    expect(third).toHaveLength(1)
    expect(await admin.count(user)).toBe(5)
    await expect(admin.list(user, { limit: 0 })).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    await expect(admin.list(user, { limit: 1001 })).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    await expect(
      admin.list(user, { after: { createdAt: Number.NaN, handle: 'x' } }),
    ).rejects.toMatchObject({ code: 'INVALID_VALUE' })
  })

  it('throws INVALID_OPTION for a namespace that is not one, INVALID_VALUE for a user id that is not a non-empty string', async () => {
    expect(() => userSessions({ namespace: {} as never })).toThrow(SessionError)
    const admin = userSessions({ namespace: env.SESSION_OBJECTS })
    await expect(admin.list('')).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    await expect(admin.revokeAll(42 as unknown as string)).rejects.toMatchObject({
      code: 'INVALID_VALUE',
    })
  })
})

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

  it('POST /admin/users/:user/revoke: no body ends every session, {"handle"} that one', async () => {
    const user = newUser()
    const [a, b] = [device(DO), device(DO)]
    await a.login(user)
    await b.login(user)
    const [newest] = await userSessions({ namespace: env.SESSION_OBJECTS }).list(user)
    const one = await adminCall(DO, 'POST', `/admin/users/${user}/revoke`, {
      body: JSON.stringify({ handle: newest!.handle }),
    })
    expect(await one.json()).toEqual({ revoked: 1 })
    expect([await a.whoami(), await b.whoami()]).toEqual([user, null])
    const all = await adminCall(DO, 'POST', `/admin/users/${user}/revoke`)
    expect(await all.json()).toEqual({ revoked: 1 })
    expect(await a.whoami()).toBeNull()
  })

  it.each([
    ['not JSON', '{'],
    ['no handle', '{"x":1}'],
    ['a handle that is not a string', '{"handle":1}'],
  ])(
    'POST /admin/users/:user/revoke with a body of %s is a 400 and ends nothing',
    async (_what, body) => {
      const user = newUser()
      const a = device(DO)
      await a.login(user)
      expect((await adminCall(DO, 'POST', `/admin/users/${user}/revoke`, { body })).status).toBe(
        400,
      )
      expect(await a.whoami()).toBe(user)
    },
  )

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
    ] as const) {
      const res = await adminCall(DO, method, path, { token })
      expect(res.status).toBe(401)
    }
    expect(await a.whoami()).toBe(user)
  })

  it.each([
    ['unset', undefined],
    ['empty', ''],
  ])('with ADMIN_TOKEN %s both routes are 404, whatever the token', async (_what, value) => {
    const bindings = { ...DO, ADMIN_TOKEN: value }
    for (const [method, path] of [
      ['GET', '/admin/users/u/sessions'],
      ['POST', '/admin/users/u/revoke'],
    ] as const) {
      expect((await adminCall(bindings, method, path, { token: '' })).status).toBe(404)
      expect((await adminCall(bindings, method, path)).status).toBe(404)
    }
  })

  it('answers 501 on a store without a registry', async () => {
    const res = await adminCall({ ...DO, SESSION_STORE: 'kv' }, 'GET', '/admin/users/u/sessions')
    expect(res.status).toBe(501)
    expect(await res.json()).toMatchObject({ code: 'NOT_SUPPORTED' })
  })
})
