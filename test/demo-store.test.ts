/**
 * The demo's store from its bindings (`src/routes/store.ts`): `MAX_SESSIONS_PER_USER` as
 * the Durable Object store's cap, and the switch from `SESSION_STORE=kv` to `do`, which
 * moves KV sessions over.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../src/app'
import { sessionCap } from '../src/routes/store'
import { kvKeyFor } from '../src/session'
import { device, deviceWith } from './helpers/demo'
import { clearObjects, namedStub, rowOf } from './helpers/do'
import { json } from './helpers/http'

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

describe('the demo switched from SESSION_STORE=kv to do', () => {
  it('keeps a logged-in user logged in, with the same data', async () => {
    const onKv = device({ ...env, SESSION_STORE: 'kv' })
    await onKv.login('raju')
    await onKv.call('/session', json('POST', { color: 'green' }))
    const onDo = deviceWith({ ...env, SESSION_STORE: 'do' }, onKv.token!)
    expect(await onDo.whoami()).toBe('raju')
    const { body } = await onDo.call<{ data: Record<string, unknown> }>('/session')
    expect(body.data).toEqual({ username: 'raju', color: 'green' })
    expect(onDo.token).not.toBe(onKv.token)
    expect((await rowOf(onDo.token!))?.user).toBe('raju')
    expect(await namedStub('user:raju').count()).toBe(1)
    expect(await env.SESSIONS.get(await kvKeyFor(onKv.token!))).toBeNull()
  })
})
