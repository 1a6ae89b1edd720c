/**
 * Admin revocation outside a request: userSessions() over the namespace (list, revoke,
 * revokeAll, count), as a cron job would, on sessions a small app logged in.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { SessionError } from '../src/session'
import { durableObjectStore, userSessions } from '../src/session/durable-object'
import { logIn, sessionApp } from './helpers/app'
import { clearObjects } from './helpers/do'

const app = sessionApp({ store: durableObjectStore({ namespace: env.SESSION_OBJECTS }) })
let users = 0
const newUser = (): string => `admin-${++users}-${crypto.randomUUID().slice(0, 8)}`

beforeEach(async () => {
  await clearObjects()
})

describe('userSessions({ namespace })', () => {
  it("lists, revokes one and revokes all of a user's sessions with only the namespace, as a cron job does", async () => {
    const user = newUser()
    const [a, b, c] = [app.browser(), app.browser(), app.browser()]
    for (const d of [a, b, c]) await logIn(d, user)
    await logIn(app.browser(), newUser()) // someone else, untouched
    const admin = userSessions({ namespace: env.SESSION_OBJECTS })
    const listed = await admin.listSessions(user)
    expect(listed).toHaveLength(3)
    expect(listed.every((s) => !s.current)).toBe(true)
    expect(await admin.revokeSession(user, listed[0]!.handle)).toBe(true)
    expect(await admin.revokeSession(user, listed[0]!.handle)).toBe(false)
    expect(await c.user()).toBeNull() // the newest, listed first
    // A scheduled handler: every session of a disabled account ends.
    const scheduled = async (): Promise<void> =>
      void (await userSessions({ namespace: env.SESSION_OBJECTS }).revokeAllSessions(user))
    await scheduled()
    expect([await a.user(), await b.user()]).toEqual([null, null])
    expect(await admin.listSessions(user)).toEqual([])
  })

  it("pages a user's sessions like listSessions(): limit, after the last of a page, newest first, and count() counts them all", async () => {
    const user = newUser()
    for (let i = 0; i < 5; i++) await logIn(app.browser({ userAgent: `device ${i}` }), user)
    const admin = userSessions({ namespace: env.SESSION_OBJECTS })
    const all = await admin.listSessions(user)
    expect(all).toHaveLength(5)
    expect(all.map((s) => s.createdAt)).toEqual(all.map((s) => s.createdAt).sort((x, y) => y - x))
    const first = await admin.listSessions(user, { limit: 2 })
    const second = await admin.listSessions(user, { limit: 2, after: first.at(-1)! })
    const third = await admin.listSessions(user, { limit: 2, after: second.at(-1)! })
    expect([...first, ...second, ...third].map((s) => s.handle)).toEqual(all.map((s) => s.handle))
    expect(third).toHaveLength(1)
    expect(await admin.countSessions(user)).toBe(5)
    await expect(admin.listSessions(user, { limit: 0 })).rejects.toMatchObject({
      code: 'INVALID_VALUE',
    })
    await expect(admin.listSessions(user, { limit: 1001 })).rejects.toMatchObject({
      code: 'INVALID_VALUE',
    })
    await expect(
      admin.listSessions(user, { after: { createdAt: Number.NaN, handle: 'x' } }),
    ).rejects.toMatchObject({ code: 'INVALID_VALUE' })
  })

  it('throws INVALID_OPTION for a namespace that is not one, INVALID_VALUE for a user id that is not a non-empty string', async () => {
    expect(() => userSessions({ namespace: {} as never })).toThrow(SessionError)
    const admin = userSessions({ namespace: env.SESSION_OBJECTS })
    await expect(admin.listSessions('')).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    await expect(admin.revokeAllSessions(42 as unknown as string)).rejects.toMatchObject({
      code: 'INVALID_VALUE',
    })
  })
})
