/**
 * The per-user cap of the Durable Object store (`maxSessionsPerUser`): a login beyond it
 * ends the user's least recently seen session, the oldest created among equals.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import type { SessionOptions } from '../src/session'
import { durableObjectStore } from '../src/session/durable-object'
import { logIn, sessionApp } from './helpers/app'
import { clearObjects } from './helpers/do'

let users = 0
const newUser = (): string => `cap-${++users}-${crypto.randomUUID().slice(0, 8)}`

/** The Durable Object store with at most `cap` sessions per user, and `options` for `session()`. */
const capped = (cap: number | null, options: SessionOptions = {}) =>
  sessionApp({
    ...options,
    store: durableObjectStore({ namespace: env.SESSION_OBJECTS, maxSessionsPerUser: cap }),
  })

beforeEach(async () => {
  await clearObjects()
})

describe('durableObjectStore({ maxSessionsPerUser })', () => {
  it.each([[0], [-1], [1.5], [Number.NaN], ['2' as unknown as number]])(
    'refuses %s with INVALID_OPTION naming the option',
    (cap) => {
      expect(() =>
        durableObjectStore({ namespace: env.SESSION_OBJECTS, maxSessionsPerUser: cap }),
      ).toThrow(/option "maxSessionsPerUser"/)
    },
  )

  it('ends the least recently seen session at a login beyond the cap', async () => {
    const clock = { now: Date.now() }
    const app = capped(2, { now: () => clock.now })
    const user = newUser()
    const [a, b, c] = [app.browser(), app.browser(), app.browser()]
    await logIn(a, user)
    clock.now += 1_000
    await logIn(b, user)
    clock.now += 400_000 // past lastSeenInterval: a's read marks it seen, so b is now the least recent
    await a.get('/session')
    await logIn(c, user)
    expect([await a.user(), await b.user(), await c.user()]).toEqual([user, null, user])
  })

  it('ends the oldest created among sessions seen at the same time', async () => {
    const clock = { now: Date.now() }
    const app = capped(2, { now: () => clock.now })
    const user = newUser()
    const [a, b, c] = [app.browser(), app.browser(), app.browser()]
    await logIn(b, user)
    clock.now += 1_000
    await logIn(a, user)
    clock.now += 400_000 // both read at this instant: the same last seen, b created first
    await a.get('/session')
    await b.get('/session')
    await logIn(c, user)
    expect([await a.user(), await b.user(), await c.user()]).toEqual([user, null, user])
  })

  it('counts a session once through cycleKey() and a re-login: the cap is reached by new devices only', async () => {
    const app = capped(2)
    const user = newUser()
    const [a, b] = [app.browser(), app.browser()]
    await logIn(a, user)
    await logIn(b, user)
    await a.post('/cycle')
    await logIn(a, user)
    expect([await a.user(), await b.user()]).toEqual([user, user])
    const res = await a.get('/sessions')
    expect(((await res.json()) as { sessions: unknown[] }).sessions).toHaveLength(2)
  })

  it('has no cap by default', async () => {
    const app = sessionApp({ store: durableObjectStore({ namespace: env.SESSION_OBJECTS }) })
    const user = newUser()
    const browsers = Array.from({ length: 6 }, () => app.browser())
    for (const b of browsers) await logIn(b, user)
    expect(await Promise.all(browsers.map((b) => b.user()))).toEqual(browsers.map(() => user))
  })
})
