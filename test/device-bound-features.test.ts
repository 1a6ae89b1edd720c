/**
 * A bound session with the rest of the library: the auth hash (a password change ends it,
 * updateAuthHash() keeps it bound), the Durable Object registry (listed, revoked), and the
 * cookie store's size limit (refused, the session left as it was).
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { cookieStore, deviceBound } from '../src/session'
import { durableObjectStore } from '../src/session/durable-object'
import { bindSession, boundHarness, refreshFully, SECRET } from './helpers/bound'
import { harness } from './helpers/harness'

describe('a bound session and the auth hash', () => {
  const verifiers = new Map([['alice', 'v1']])
  const make = (): ReturnType<typeof harness> =>
    harness({ authHash: (_c, user) => verifiers.get(user), deviceBound: deviceBound({ secret: SECRET }) }, { start: Date.now() })

  it('reads as logged out after a password change elsewhere, and its refresh answers {"continue": false}', async () => {
    verifiers.set('alice', 'v1')
    const h = make()
    const { key, id } = await bindSession(h)
    verifiers.set('alice', 'v2')
    expect((await h.run((s) => s.getUser())).body).toBeNull()
    h.clock.now += 1000
    expect((await refreshFully(h, key, id)).body).toEqual({ continue: false })
  })

  it('stays bound through updateAuthHash() in this session', async () => {
    verifiers.set('alice', 'v1')
    const h = make()
    await bindSession(h)
    await h.run(async (s) => {
      expect(await s.getUser()).toBe('alice')
      verifiers.set('alice', 'v3')
      await s.updateAuthHash()
    })
    expect((await h.run(async (s) => [await s.getUser(), await s.isDeviceBound()])).body).toEqual(['alice', true])
  })
})

describe('a bound session and the Durable Object registry', () => {
  it('is listed as the current session, and revoking all ends its refreshes', async () => {
    const h = boundHarness(durableObjectStore({ namespace: env.SESSION_OBJECTS }))
    const { key, id } = await bindSession(h)
    const listed = (await h.run((s) => s.listSessions())).body as { current: boolean }[]
    expect(listed.map((s) => s.current)).toEqual([true])
    await h.run((s) => s.revokeAllSessions())
    h.clock.now += 1000
    expect((await refreshFully(h, key, id)).body).toEqual({ continue: false })
  })
})

describe('a bound session on the cookie store', () => {
  it('refuses data past the cookie size limit and stays as it was, bound', async () => {
    const h = boundHarness(cookieStore({ secret: SECRET }))
    await bindSession(h, 'RS256')
    const { res } = await h.run((s) => s.set('big', 'x'.repeat(5000)))
    expect(res.status).toBe(413)
    expect((await h.run(async (s) => [await s.getUser(), await s.isDeviceBound(), await s.has('big')])).body).toEqual(['alice', true, false])
  })
})
