/**
 * `listSessions()` bounded (issue 17, item 2): newest first, at most `limit` (default 100)
 * per call, paged with `after`; `countSessions()` counts them all; the demo's `GET /sessions`
 * and page show the limit and the count; revoke-others and revoke-all still end every session.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_SESSION_LIST_LIMIT, SessionError } from '../src/session'
import { durableObjectStore } from '../src/session/durable-object'
import { device, type Device } from './helpers/demo'
import { clearObjects, namedStub, rowsIn } from './helpers/do'
import { harness } from './helpers/harness'

const DO = { ...env, SESSION_STORE: 'do' }

let users = 0
const newUser = (): string => `page-${++users}-${crypto.randomUUID().slice(0, 8)}`

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

beforeEach(async () => {
  await clearObjects()
})

describe('session.listSessions()', () => {
  it(`lists at most ${DEFAULT_SESSION_LIST_LIMIT} sessions by default, newest first, and countSessions() counts them all`, async () => {
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

  it('refuses a limit out of range with SessionError INVALID_VALUE', async () => {
    const h = harness(
      { store: durableObjectStore({ namespace: env.SESSION_OBJECTS }) },
      { start: Date.now() },
    )
    await h.run(async (s) => s.login(newUser()))
    const { body } = await h.run(async (s) => {
      const errors: unknown[] = []
      for (const limit of [0, 1001, 2.5, Number.NaN])
        await s
          .listSessions({ limit })
          .catch((e: unknown) => errors.push(e instanceof SessionError ? e.code : e))
      return errors
    })
    expect(body).toEqual(['INVALID_VALUE', 'INVALID_VALUE', 'INVALID_VALUE', 'INVALID_VALUE'])
  })
})

describe('revoke-others and revoke-all beyond one page', () => {
  it.each([
    ['/sessions/revoke-others', 1],
    ['/sessions/revoke-all', 0],
  ])('%s ends every session, not only those of the first page', async (path, left) => {
    const user = newUser()
    const me = await logins(user, DEFAULT_SESSION_LIST_LIMIT + 3)
    const { res, body } = await me.call<{ revoked: number }>(path, { method: 'POST' })
    expect(res.status).toBe(200)
    expect(body.revoked).toBe(DEFAULT_SESSION_LIST_LIMIT + 3 - left)
    expect(await rowsIn(namedStub(`user:${user}`))).toHaveLength(left)
  })
})

describe('GET / (the page)', () => {
  it('shows the limit and the count of the sessions', async () => {
    const user = newUser()
    const me = await logins(user, 4)
    const html = await (await me.send('/')).text()
    expect(html).toContain('4 sessions (the page lists at most 100).')
  })
})
