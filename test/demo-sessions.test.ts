/**
 * The demo's "your sessions" and "change password" routes (`src/routes/sessions.ts`) on
 * every store it runs on. `POST /password` (a new verifier in USERS, then
 * `updateAuthHash()`): the other sessions of the user read as logged out from their next
 * request, the session that changed it stays logged in under a new key.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { device, deviceWith } from './helpers/demo'
import { setCookie } from './helpers/http'
import { storeUnderTest } from './helpers/stores'

let users = 0
const newUser = (): string => `pw-${++users}-${crypto.randomUUID().slice(0, 8)}`

describe.each(['kv', 'cookie', 'do'] as const)('POST /password on the %s store', (store) => {
  const bindings = { ...env, SESSION_STORE: store }
  const server = store === 'cookie' ? null : storeUnderTest(store)

  beforeEach(async () => {
    await server?.clear()
  })

  it('logs the other browser out on its next request and keeps the first logged in', async () => {
    const user = newUser()
    const first = device(bindings)
    const second = device(bindings)
    const firstBefore = await first.login(user)
    const secondToken = await second.login(user)
    expect(await second.whoami()).toBe(user)

    const { res, body } = await first.call('/password', { method: 'POST' })
    expect(res.status).toBe(200)
    expect(body).toEqual({ changed: true, user })
    // updateAuthHash(): a new key for the session that changed the password.
    expect(first.token).toBeDefined()
    expect(first.token).not.toBe(firstBefore)

    const next = await second.send('/whoami')
    expect(await next.json()).toEqual({ username: null })
    expect(setCookie(next, 'sessionid')?.attrs['max-age']).toBe('0')
    expect(await first.whoami()).toBe(user)
    expect(await first.whoami()).toBe(user)

    // Copies of the old cookies stay logged out, from anywhere, on every store.
    expect(await deviceWith(bindings, secondToken).whoami()).toBeNull()
    expect(await deviceWith(bindings, firstBefore).whoami()).toBeNull()
    // Server-side stores keep only the session that changed the password.
    if (server !== null) expect(await server.count()).toBe(1)
  })

  it('answers 401 NOT_LOGGED_IN to an anonymous caller and changes nothing', async () => {
    const res = await device(bindings).send('/password', { method: 'POST' })
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ code: 'NOT_LOGGED_IN' })
    expect(res.headers.getSetCookie()).toEqual([])
  })
})
