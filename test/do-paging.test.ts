/**
 * `listSessions()` bounded (issue 17, item 2): newest first, at most `limit` (default 100)
 * per call, paged with `after`; `countSessions()` counts them all; revoke-others and
 * revoke-all still end every session. On a small app of the library's own.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { SessionError, type SessionInfo } from '../src/session'
import { DEFAULT_SESSION_LIST_LIMIT } from '../src/session/stores/list-page'
import { durableObjectStore } from '../src/session/durable-object'
import type { TestClient } from '../src/session/testing'
import { sessionApp } from './helpers/app'
import { clearObjects, namedStub, rowsIn } from './helpers/do'
import { harness } from './helpers/harness'

const app = sessionApp({ store: durableObjectStore({ namespace: env.SESSION_OBJECTS }) })

let users = 0
const newUser = (): string => `page-${++users}-${crypto.randomUUID().slice(0, 8)}`

/** `n` browsers logged in as `user`, one after the other; resolves the last one. */
async function logins(user: string, n: number): Promise<TestClient> {
  let last!: TestClient
  for (let i = 0; i < n; i++) {
    last = app.browser({ userAgent: `device ${i}` })
    await last.forceLogin(user)
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
    const [sessions, total] = await me.withSession(
      async (s) => [await s.listSessions(), await s.countSessions()] as const,
    )
    expect(sessions).toHaveLength(DEFAULT_SESSION_LIST_LIMIT)
    expect(total).toBe(DEFAULT_SESSION_LIST_LIMIT + 5)
    const created = sessions.map((s) => s.createdAt)
    expect([...created].sort((a, b) => b - a)).toEqual(created)
  })

  it('pages with after: every session once, in order, the last page short', async () => {
    const user = newUser()
    const me = await logins(user, 7)
    const all = await me.withSession((s) => s.listSessions())
    const seen: SessionInfo[] = []
    let after: SessionInfo | null = null
    let pages = 0
    do {
      const page: SessionInfo[] = await me.withSession((s) => s.listSessions({ limit: 3, after }))
      seen.push(...page)
      after = page.length === 3 ? page.at(-1)! : null
      pages++
    } while (after !== null)
    expect(pages).toBe(3)
    expect(seen.map((s) => s.handle)).toEqual(all.map((s) => s.handle))
    expect(new Set(seen.map((s) => s.handle)).size).toBe(7)
    expect(seen.map((s) => s.handle).sort()).toEqual(
      (await rowsIn(namedStub(`user:${user}`))).map((r) => r.handle).sort(),
    )
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
    const res = await me.post(path)
    expect(res.status).toBe(200)
    expect(((await res.json()) as { revoked: number }).revoked).toBe(
      DEFAULT_SESSION_LIST_LIMIT + 3 - left,
    )
    expect(await rowsIn(namedStub(`user:${user}`))).toHaveLength(left)
  })
})
