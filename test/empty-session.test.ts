/**
 * What an empty session keeps (issue 9, items 1 and 3): Django keeps `_session_expiry` in
 * the session's data, so a custom expiry makes a session non-empty and is saved even
 * with no data; `set_expiry(None)` without a custom expiry changes nothing. Run on both
 * stores, through the middleware, on real KV.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { cookieStore, type SessionOptions } from '../src/session'
import { harness, storedRecords, T0 } from './helpers/harness'
import { setCookie } from './helpers/http'
import { clearKV } from './helpers/kv'

const SECRET = 'edge-session test secret number one, 32+ bytes'

beforeEach(async () => {
  await clearKV(env.SESSIONS)
})

type Kind = 'kv' | 'cookie'

/** A harness on `kind`; the KV it counts is the one the KV store writes to. */
function on(kind: Kind, options: SessionOptions = {}): ReturnType<typeof harness> {
  if (kind === 'kv') return harness(options)
  return harness({ store: cookieStore({ secret: SECRET }), ...options })
}

/** How many sessions the store holds, as far as the test can see (the cookie store: none in KV, ever). */
const records = async (
  kind: Kind,
  h: ReturnType<typeof harness>,
): Promise<number | 'in the cookie'> =>
  kind === 'kv'
    ? (await storedRecords()).length
    : h.cookies.get('sessionid') !== undefined
      ? 'in the cookie'
      : 0

describe.each<[Kind]>([['kv'], ['cookie']])('an empty session on the %s store', (kind) => {
  it('keeps setExpiry(30) with no data, for the data stored on the next request', async () => {
    const h = on(kind)
    const { res, body } = await h.run(async (s) => {
      await s.setExpiry(30)
      return [await s.isEmpty(), await s.getExpiryAge()]
    })
    expect(body).toEqual([false, 30])
    expect(setCookie(res, 'sessionid')?.attrs['max-age']).toBe('30')
    expect(await records(kind, h)).toBe(kind === 'kv' ? 1 : 'in the cookie')
    if (kind === 'kv')
      expect((await storedRecords())[0]?.value).toEqual({
        v: 1,
        data: {},
        expiry: { age: 30 },
        expiresAt: T0 + 30_000,
        createdAt: T0,
        auth: null,
      })

    h.clock.now += 10_000
    const { res: later, body: age } = await h.run(async (s) => {
      await s.set('a', 1)
      return s.getExpiryAge()
    })
    expect(age).toBe(30)
    expect(setCookie(later, 'sessionid')?.attrs['max-age']).toBe('30')
  })

  it('keeps a browser-close expiry when the last key is deleted, and after it is filled again', async () => {
    const h = on(kind)
    await h.run(async (s) => {
      await s.set('a', 1)
      await s.setExpiry(0)
    })
    const { res: emptied, body } = await h.run(async (s) => {
      await s.delete('a')
      return [await s.keys(), await s.isEmpty(), await s.getExpireAtBrowserClose()]
    })
    expect(body).toEqual([[], false, true])
    // Saved, not deleted: a browser-close cookie (no Max-Age, no Expires).
    const cookie = setCookie(emptied, 'sessionid')
    expect(cookie?.value).not.toBe('')
    expect(cookie?.attrs).not.toHaveProperty('max-age')
    expect(cookie?.attrs).not.toHaveProperty('expires')

    const { res: refilled, body: close } = await h.run(async (s) => {
      await s.set('b', 2)
      return s.getExpireAtBrowserClose()
    })
    expect(close).toBe(true)
    expect(setCookie(refilled, 'sessionid')?.attrs).not.toHaveProperty('max-age')
  })

  it('clear() still resets the expiry, as Django: an expiry-only session is then empty and goes', async () => {
    const h = on(kind)
    await h.run(async (s) => s.setExpiry(30))
    const { res, body } = await h.run(async (s) => {
      const before = await s.isEmpty()
      await s.clear()
      return { before, after: await s.isEmpty(), age: await s.getExpiryAge() }
    })
    expect(body).toEqual({ before: false, after: true, age: 1209600 })
    expect(setCookie(res, 'sessionid')?.attrs['max-age']).toBe('0')
    expect(await records(kind, h)).toBe(0)
  })

  it('ends an expiry-only session on time, like any other', async () => {
    const h = on(kind)
    await h.run(async (s) => s.setExpiry(5))
    h.clock.now += 6_000
    const { res, body } = await h.run(async (s) => [await s.isEmpty(), await s.getExpiryAge()])
    expect(body).toEqual([true, 1209600])
    expect(setCookie(res, 'sessionid')?.attrs['max-age']).toBe('0')
  })

  it('setExpiry(null) without a custom expiry changes nothing on a new session', async () => {
    const h = on(kind)
    const { res } = await h.run(async (s) => s.setExpiry(null))
    expect(res.headers.getSetCookie()).toEqual([])
    expect(await records(kind, h)).toBe(0)
  })
})

describe('session.setExpiry(null) without a custom expiry (Django: del of a missing key)', () => {
  it('writes nothing and sends no cookie for a stored session', async () => {
    const h = harness()
    await h.run(async (s) => s.set('a', 1))
    h.kv.reset()
    const { res, body } = await h.run(async (s) => {
      await s.setExpiry(null)
      return s.modified
    })
    expect(body).toBe(false)
    expect(h.kv.counts).toEqual({ reads: 1, writes: 0, deletes: 0, lists: 0 })
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('still goes back to the default when a custom expiry is set', async () => {
    const h = harness()
    await h.run(async (s) => {
      await s.set('a', 1)
      await s.setExpiry(30)
    })
    h.kv.reset()
    const { res } = await h.run(async (s) => s.setExpiry(null))
    // The read, the write, and its revocation-marker check.
    expect(h.kv.counts).toMatchObject({ reads: 2, writes: 1 })
    expect(setCookie(res, 'sessionid')?.attrs['max-age']).toBe('1209600')
  })
})
