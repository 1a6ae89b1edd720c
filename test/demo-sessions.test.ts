/**
 * The demo's "your sessions" and "change password" routes (`src/routes/sessions.ts`) on
 * every store it runs on. `POST /password` (a new verifier in USERS, then
 * `updateAuthHash()`): the other sessions of the user read as logged out from their next
 * request, the session that changed it stays logged in under a new key. The sensitive
 * routes need an authentication within `FRESH_AUTH_SECONDS`, renewed by `POST /confirm`.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../src/app'
import { DEFAULT_SESSION_LIST_LIMIT } from '../src/session/stores/list-page'
import { device, deviceWith, type Device } from './helpers/demo'
import { clearObjects, namedStub, rowsIn } from './helpers/do'
import { json, setCookie } from './helpers/http'
import { storeUnderTest } from './helpers/stores'

let users = 0
const newUser = (): string => `demo-${++users}-${crypto.randomUUID().slice(0, 8)}`

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

const DO = { ...env, SESSION_STORE: 'do' }

/** What `GET /sessions` answers. */
interface Page {
  sessions: { handle: string; current: boolean; createdAt: string }[]
  total: number
  limit: number
  next: string | null
}

/** `n` devices logged in as `user`, one after the other; resolves the last one. */
async function logins(user: string, n: number): Promise<Device> {
  let last!: Device
  for (let i = 0; i < n; i++) {
    last = device(DO, { userAgent: `device ${i}` })
    await last.login(user)
  }
  return last
}

describe('GET /sessions (a page of listSessions())', () => {
  beforeEach(async () => {
    await clearObjects()
  })

  it(`lists at most ${DEFAULT_SESSION_LIST_LIMIT} sessions by default, newest first, with the total and the next page's cursor`, async () => {
    const user = newUser()
    const me = await logins(user, DEFAULT_SESSION_LIST_LIMIT + 5)
    const { res, body } = await me.call<Page>('/sessions')
    expect(res.status).toBe(200)
    expect(body.sessions).toHaveLength(DEFAULT_SESSION_LIST_LIMIT)
    expect(body.total).toBe(DEFAULT_SESSION_LIST_LIMIT + 5)
    expect(body.limit).toBe(DEFAULT_SESSION_LIST_LIMIT)
    const created = body.sessions.map((s) => s.createdAt)
    expect([...created].sort().reverse()).toEqual(created)
    expect(body.next).not.toBeNull()
  })

  it('pages with after: every session once, in order, the last page with no next', async () => {
    const user = newUser()
    const me = await logins(user, 7)
    const seen: string[] = []
    let next: string | null = null
    let pages = 0
    do {
      const { res, body }: { res: Response; body: Page } = await me.call<Page>(
        `/sessions?limit=3${next === null ? '' : `&after=${next}`}`,
      )
      expect(res.status).toBe(200)
      expect(body.total).toBe(7)
      seen.push(...body.sessions.map((s) => s.handle))
      next = body.next
      pages++
    } while (next !== null)
    expect(pages).toBe(3)
    expect(new Set(seen).size).toBe(7)
    expect(seen.sort()).toEqual(
      (await rowsIn(namedStub(`user:${user}`))).map((r) => r.handle).sort(),
    )
  })

  it.each(['0', '1001', '-1', 'ten', '1.5'])('GET /sessions?limit=%s is a 400', async (limit) => {
    const me = await logins(newUser(), 1)
    expect((await me.send(`/sessions?limit=${limit}`)).status).toBe(400)
  })
})

describe('GET / (the page)', () => {
  beforeEach(async () => {
    await clearObjects()
  })

  it('shows the limit and the count of the sessions', async () => {
    const user = newUser()
    const me = await logins(user, 4)
    const html = await (await me.send('/')).text()
    expect(html).toContain('4 sessions (the page lists at most 100).')
  })
})

describe.each([['kv'], ['cookie'], ['do']])(
  'the demo on the %s store: FRESH_AUTH_SECONDS and POST /confirm',
  (store) => {
    const bindings = { ...env, SESSION_STORE: store }
    const clocked = (
      extra: Record<string, unknown> = {},
    ): { d: Device; clock: { now: number } } => {
      const clock = { now: Date.now() }
      return {
        d: device({ ...bindings, ...extra }, { app: createApp({ now: () => clock.now }) }),
        clock,
      }
    }

    it('POST /password needs an authentication within 600 s by default: 403 JSON REAUTHENTICATION_REQUIRED after', async () => {
      const { d, clock } = clocked()
      await d.login(`fresh-${store}`)
      clock.now += 601_000
      const { res, body } = await d.call('/password', json('POST', {}))
      expect(res.status).toBe(403)
      expect(body).toEqual({
        error: expect.stringContaining('600 s'),
        code: 'REAUTHENTICATION_REQUIRED',
      })
      expect(await d.whoami()).toBe(`fresh-${store}`)
    })

    it('POST /confirm with the logged-in user re-authenticates; another name is 403; nobody logged in is 401; it logs nobody in', async () => {
      const { d, clock } = clocked({ FRESH_AUTH_SECONDS: '60' })
      const nobody = await d.call('/confirm', json('POST', { username: 'mallory' }))
      expect(nobody.res.status).toBe(401)
      expect(await d.whoami()).toBeNull()
      await d.login(`confirm-${store}`)
      clock.now += 61_000
      expect((await d.call('/password', json('POST', {}))).res.status).toBe(403)
      const wrong = await d.call('/confirm', json('POST', { username: 'mallory' }))
      expect(wrong.res.status).toBe(403)
      expect(wrong.body).toMatchObject({ code: 'REAUTHENTICATION_REQUIRED' })
      expect(await d.whoami()).toBe(`confirm-${store}`)
      expect(
        (await d.call('/confirm', json('POST', { username: `confirm-${store}` }))).body,
      ).toEqual({ confirmed: true, user: `confirm-${store}` })
      expect((await d.call('/password', json('POST', {}))).res.status).toBe(200)
    })
  },
)

describe('the demo on the do store: the revocations need a fresh authentication', () => {
  it.each([
    [
      'DELETE /sessions/:handle',
      (d: Device) => d.call('/sessions/no-such-handle', { method: 'DELETE' }),
    ],
    [
      'POST /sessions/revoke-others',
      (d: Device) => d.call('/sessions/revoke-others', json('POST', {})),
    ],
    ['POST /sessions/revoke-all', (d: Device) => d.call('/sessions/revoke-all', json('POST', {}))],
  ])('%s: 403 past FRESH_AUTH_SECONDS, allowed within', async (_route, call) => {
    const clock = { now: Date.now() }
    const d = device(
      { ...env, SESSION_STORE: 'do', FRESH_AUTH_SECONDS: '30' },
      { app: createApp({ now: () => clock.now }) },
    )
    await d.login(`gate-${crypto.randomUUID().slice(0, 8)}`)
    clock.now += 31_000
    const stale = await call(d)
    expect(stale.res.status).toBe(403)
    expect(stale.body).toMatchObject({ code: 'REAUTHENTICATION_REQUIRED' })
    const user = await d.whoami()
    await d.call('/confirm', json('POST', { username: user }))
    expect((await call(d)).res.status).toBe(200)
  })

  it('the page offers the confirmation when a form action needs it, and the action works after it', async () => {
    const clock = { now: Date.now() }
    const d = device(
      { ...env, SESSION_STORE: 'do', FRESH_AUTH_SECONDS: '30' },
      { app: createApp({ now: () => clock.now }) },
    )
    const user = `page-${crypto.randomUUID().slice(0, 8)}`
    await d.login(user)
    clock.now += 31_000
    const form = (body: Record<string, string>): RequestInit => ({
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body).toString(),
    })
    const stale = await d.send('/form/sessions/revoke-others', form({}))
    expect(stale.status).toBe(403)
    expect(await stale.text()).toContain('id="form-confirm"')
    expect((await d.send('/form/confirm', form({ username: 'someone else' }))).status).toBe(403)
    expect((await d.send('/form/confirm', form({ username: user }))).status).toBe(303)
    expect((await d.send('/form/sessions/revoke-others', form({}))).status).toBe(303)
  })
})
