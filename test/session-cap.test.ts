/**
 * The per-user cap of the Durable Object store (maxSessionsPerUser, the demo's
 * MAX_SESSIONS_PER_USER): a login beyond it ends the user's least recently seen session,
 * the oldest created among equals.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../src/app'
import { durableObjectStore } from '../src/session/durable-object'
import { sessionCap } from '../src/routes/store'
import { device } from './helpers/demo'
import { clearObjects } from './helpers/do'
import { json } from './helpers/http'

const capped = (cap: string): Record<string, unknown> => ({
  ...env,
  SESSION_STORE: 'do',
  MAX_SESSIONS_PER_USER: cap,
})
let users = 0
const newUser = (): string => `cap-${++users}-${crypto.randomUUID().slice(0, 8)}`

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
    const app = createApp({ now: () => clock.now })
    const user = newUser()
    const [a, b, c] = [
      device(capped('2'), { app }),
      device(capped('2'), { app }),
      device(capped('2'), { app }),
    ]
    await a.login(user)
    clock.now += 1_000
    await b.login(user)
    clock.now += 400_000 // past lastSeenInterval: a's read marks it seen, so b is now the least recent
    await a.call('/session')
    await c.login(user)
    expect([await a.whoami(), await b.whoami(), await c.whoami()]).toEqual([user, null, user])
  })

  it('ends the oldest created among sessions seen at the same time', async () => {
    const clock = { now: Date.now() }
    const app = createApp({ now: () => clock.now })
    const user = newUser()
    const [a, b, c] = [
      device(capped('2'), { app }),
      device(capped('2'), { app }),
      device(capped('2'), { app }),
    ]
    await b.login(user)
    clock.now += 1_000
    await a.login(user)
    clock.now += 400_000 // both read at this instant: the same last seen, b created first
    await a.call('/session')
    await b.call('/session')
    await c.login(user)
    expect([await a.whoami(), await b.whoami(), await c.whoami()]).toEqual([user, null, user])
  })

  it('counts a session once through cycleKey() and a re-login: the cap is reached by new devices only', async () => {
    const user = newUser()
    const [a, b] = [device(capped('2')), device(capped('2'))]
    await a.login(user)
    await b.login(user)
    await a.call('/session/cycle', json('POST', {}))
    await a.login(user)
    expect([await a.whoami(), await b.whoami()]).toEqual([user, user])
    const { body } = await a.call<{ sessions: unknown[] }>('/sessions')
    expect(body.sessions).toHaveLength(2)
  })

  it('has no cap by default', async () => {
    const user = newUser()
    const ds = Array.from({ length: 6 }, () => device({ ...env, SESSION_STORE: 'do' }))
    for (const d of ds) await d.login(user)
    expect(await Promise.all(ds.map((d) => d.whoami()))).toEqual(ds.map(() => user))
  })
})

describe('MAX_SESSIONS_PER_USER (the demo)', () => {
  it.each([
    [undefined, null],
    ['', null],
    ['5', 5],
    [' 2 ', 2],
  ])('%j is the cap %j', (value, cap) => {
    expect(sessionCap(value)).toBe(cap)
  })

  it.each([['0'], ['-1'], ['two'], ['1.5']])(
    '%j is refused with INVALID_OPTION naming the variable',
    (value) => {
      expect(() => sessionCap(value)).toThrow(/MAX_SESSIONS_PER_USER/)
    },
  )
})
