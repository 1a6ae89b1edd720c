/**
 * What device binding costs in store operations (KV reads and writes, Durable Object
 * calls), through counting wrappers around the real bindings: nothing beyond the
 * session's own load on an ordinary request, and one load and one save per refresh.
 */
import { describe, expect, it } from 'vitest'
import { durableObjectStore } from '../src/session/durable-object'
import { bindSession, boundHarness, logIn, refresh, register } from './helpers/bound'
import { deviceKey, proof, refreshChallenge } from './helpers/dbsc'
import { instrument } from './helpers/do'

describe('deviceBound on the KV store: operations', () => {
  it('reads a bound session with its bound cookie in one read, and without it in one read too', async () => {
    const h = boundHarness()
    await bindSession(h)
    h.kv.reset()
    expect((await h.run((s) => s.getUser())).body).toBe('alice')
    expect(h.kv.counts).toMatchObject({ reads: 1, writes: 0, deletes: 0 })
  })

  it('answers the refresh challenge with no operation, and the proven refresh with one load and one save', async () => {
    const h = boundHarness()
    const { key, id } = await bindSession(h)
    h.clock.now += 1000
    h.kv.reset()
    const first = await refresh(h, id)
    expect(h.kv.counts).toMatchObject({ reads: 0, writes: 0, deletes: 0 })
    await refresh(h, id, await proof(key, refreshChallenge(first.res).challenge))
    // The save reads its revocation marker after writing (docs/security.md).
    expect(h.kv.counts).toMatchObject({ reads: 2, writes: 1, deletes: 0 })
  })

  it('registers with one load and one save', async () => {
    const h = boundHarness()
    const key = await deviceKey('ES256')
    const challenge = await logIn(h)
    h.kv.reset()
    expect((await register(h, await proof(key, challenge, { withJwk: true }))).res.status).toBe(200)
    expect(h.kv.counts).toMatchObject({ reads: 2, writes: 1, deletes: 0 })
  })
})

describe('deviceBound on the Durable Object store: calls', () => {
  it('refreshes with two calls (load, update) and one row, after a challenge that calls nothing', async () => {
    const objects = instrument()
    const h = boundHarness(durableObjectStore({ namespace: objects.namespace }))
    const { key, id } = await bindSession(h)
    h.clock.now += 1000
    objects.reset()
    const first = await refresh(h, id)
    expect(objects.total).toBe(0)
    expect(
      (await refresh(h, id, await proof(key, refreshChallenge(first.res).challenge))).res.status,
    ).toBe(200)
    expect(objects.calls.byMethod).toEqual({ load: 1, update: 1 })
  })

  it('keeps the registration when a page that loaded the session before it saves after it', async () => {
    const objects = instrument()
    const h = boundHarness(durableObjectStore({ namespace: objects.namespace }))
    const key = await deviceKey('ES256')
    const challenge = await logIn(h)
    const held = objects.hold('update')
    const page = h.run((s) => s.set('seen', true))
    await held.reached
    expect((await register(h, await proof(key, challenge, { withJwk: true }))).res.status).toBe(200)
    held.release()
    await page
    expect(
      (await h.run(async (s) => ({ bound: await s.isDeviceBound(), seen: await s.get('seen') })))
        .body,
    ).toEqual({ bound: true, seen: true })
  })
})
