/**
 * The demo's store from its bindings (`src/routes/store.ts`): `MAX_SESSIONS_PER_USER` as
 * the Durable Object store's cap.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../src/app'
import { sessionCap } from '../src/routes/store'
import { device } from './helpers/demo'
import { clearObjects } from './helpers/do'

beforeEach(async () => {
  await clearObjects()
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

  it("caps the demo's Durable Object store: a third login of a user ends the first", async () => {
    const capped = { ...env, SESSION_STORE: 'do', MAX_SESSIONS_PER_USER: '2' }
    const user = `cap-${crypto.randomUUID().slice(0, 8)}`
    const clock = { now: Date.now() }
    const app = createApp({ now: () => clock.now })
    const [a, b, c] = [device(capped, { app }), device(capped, { app }), device(capped, { app })]
    for (const d of [a, b, c]) {
      await d.login(user)
      clock.now += 1_000
    }
    expect([await a.whoami(), await b.whoami(), await c.whoami()]).toEqual([null, user, user])
  })
})
