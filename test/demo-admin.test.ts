/**
 * The demo's admin routes (`src/routes/admin.ts`), on the Durable Object store:
 * `GET /admin/users/:user/sessions` and `POST /admin/users/:user/revoke`, behind
 * `Authorization: Bearer <ADMIN_TOKEN>`.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
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

  it('POST /admin/users/:user/revoke: no body ends every session, {"handle"} that one', async () => {
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
