/**
 * A bound session with the rest of the library: the auth hash (a password change ends it,
 * updateAuthHash() keeps it bound), the Durable Object registry (listed, revoked), and the
 * cookie store's size limit (refused, the session left as it was).
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { cookieStore, deviceBound } from '../src/session'
import { kvKeyFor } from '../src/session/stores/kv'
import { durableObjectStore } from '../src/session/durable-object'
import {
  bindSession,
  boundHarness,
  logIn,
  refreshFully,
  register,
  SECRET,
  withoutBoundCookie,
} from './helpers/bound'
import { deviceKey, proof, type DeviceKeyPair } from './helpers/dbsc'
import { harness } from './helpers/harness'

describe('a bound session and the auth hash', () => {
  const verifiers = new Map([['alice', 'v1']])
  const make = (): ReturnType<typeof harness> =>
    harness(
      { authHash: (_c, user) => verifiers.get(user), deviceBound: deviceBound({ secret: SECRET }) },
      { start: Date.now() },
    )

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
    expect((await h.run(async (s) => [await s.getUser(), await s.isDeviceBound()])).body).toEqual([
      'alice',
      true,
    ])
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
    expect(
      (await h.run(async (s) => [await s.getUser(), await s.isDeviceBound(), await s.has('big')]))
        .body,
    ).toEqual(['alice', true, false])
  })
})

describe('a registration a concurrent write dropped (KV and the cookie store keep whole records)', () => {
  /** Logs in, keeps the record as the page that loaded it before registration would save it, registers, and puts that copy back. */
  async function registerThenLose(
    store: 'KV' | 'cookie',
  ): Promise<{ h: ReturnType<typeof boundHarness>; key: DeviceKeyPair; id: string }> {
    const h = boundHarness(store === 'cookie' ? cookieStore({ secret: SECRET }) : undefined)
    const key = await deviceKey('ES256')
    const challenge = await logIn(h)
    const token = h.cookies.get('sessionid') as string
    const before = store === 'KV' ? await env.SESSIONS.get(await kvKeyFor(token)) : null
    const { body } = await register(h, await proof(key, challenge, { withJwk: true }))
    if (store === 'KV') await env.SESSIONS.put(await kvKeyFor(token), before as string)
    else h.cookies.set('sessionid', token)
    return { h, key, id: (body as { session_identifier: string }).session_identifier }
  }

  it.each(['KV', 'cookie'] as const)(
    'on %s: the next proven refresh puts the key back from the key cookie, and binding holds again',
    async (store) => {
      const { h, key, id } = await registerThenLose(store)
      expect((await h.run((s) => s.isDeviceBound())).body).toBe(false)
      h.clock.now += 1000
      const { res } = await refreshFully(h, key, id)
      expect(res.status).toBe(200)
      expect((await h.run((s) => s.isDeviceBound())).body).toBe(true)
      expect((await withoutBoundCookie(h, (s) => s.getUser())).body).toBeNull()
    },
  )

  it('does not take the key from a key cookie made for another session', async () => {
    const { h, key, id } = await registerThenLose('KV')
    const foreign = boundHarness()
    await bindSession(foreign)
    h.cookies.set('sessionid_bound_key', foreign.cookies.get('sessionid_bound_key') as string)
    h.clock.now += 1000
    expect((await refreshFully(h, key, id)).body).toEqual({ continue: false })
  })
})
