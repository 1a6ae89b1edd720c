import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { Hono } from 'hono'
import {
  cookieStore,
  kvStore,
  session,
  SessionError,
  type Session,
  type SessionEnv,
} from '../src/session'
import { kvKeyFor } from '../src/session/stores/kv'
import { MAX_DEPTH } from '../src/session/stores/record'
import { harness, storedRecords, T0 } from './helpers/harness'
import { setCookie } from './helpers/http'
import { clearKV, faultyKV } from './helpers/kv'

beforeEach(async () => {
  await clearKV(env.SESSIONS)
})

/** The Expires of a session cookie saved at T0 with the default two weeks (Django's http_date). */
const TWO_WEEKS = new Date(T0 + 1209600_000).toUTCString()

/** The id the jar holds for the session cookie. */
const idOf = (h: ReturnType<typeof harness>, name = 'sessionid'): string => {
  const id = h.cookies.get(name)
  if (!id) throw new Error('no session cookie in the jar')
  return id
}

describe('session.set() and session.get()', () => {
  it('keeps data across requests through the cookie', async () => {
    const h = harness()
    await h.run(async (s) => s.set('color', 'blue'))
    const { body } = await h.run(async (s) => s.get('color'))
    expect(body).toBe('blue')
  })

  it('answers the default for a missing key', async () => {
    const h = harness()
    const { body } = await h.run(async (s) => [await s.get('nope'), await s.get('nope', 7)])
    expect(body).toEqual([null, 7]) // undefined becomes null in JSON
  })

  it('sets the cookie with the default attributes', async () => {
    const h = harness()
    const { res } = await h.run(async (s) => s.set('a', 1))
    const cookie = setCookie(res, 'sessionid')
    expect(cookie?.value).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(cookie?.attrs).toEqual({
      'max-age': '1209600',
      expires: TWO_WEEKS,
      path: '/',
      httponly: '',
      samesite: 'Lax',
    })
    expect(res.headers.get('Cache-Control')).toBe('private')
    expect(res.headers.get('Vary')).toBe('Cookie')
  })

  it('adds Secure on https', async () => {
    const h = harness()
    const { res } = await h.run(async (s) => s.set('a', 1), { url: 'https://example.com/' })
    expect(setCookie(res, 'sessionid')?.attrs).toHaveProperty('secure', '')
  })

  it.each([
    [
      { cookieName: 'sid' },
      'sid',
      { 'max-age': '1209600', expires: TWO_WEEKS, path: '/', httponly: '', samesite: 'Lax' },
    ],
    [
      { maxAge: 60 },
      'sessionid',
      {
        'max-age': '60',
        expires: new Date(T0 + 60_000).toUTCString(),
        path: '/',
        httponly: '',
        samesite: 'Lax',
      },
    ],
    [
      { path: '/app', domain: 'example.com' },
      'sessionid',
      {
        'max-age': '1209600',
        expires: TWO_WEEKS,
        path: '/app',
        domain: 'example.com',
        httponly: '',
        samesite: 'Lax',
      },
    ],
    [
      { httpOnly: false, sameSite: 'Strict' as const },
      'sessionid',
      { 'max-age': '1209600', expires: TWO_WEEKS, path: '/', samesite: 'Strict' },
    ],
    [
      { secure: true },
      'sessionid',
      {
        'max-age': '1209600',
        expires: TWO_WEEKS,
        path: '/',
        httponly: '',
        secure: '',
        samesite: 'Lax',
      },
    ],
    [
      { sameSite: 'None' as const, secure: true },
      'sessionid',
      {
        'max-age': '1209600',
        expires: TWO_WEEKS,
        path: '/',
        httponly: '',
        secure: '',
        samesite: 'None',
      },
    ],
    [
      { cookieName: '__Host-sid' },
      '__Host-sid',
      {
        'max-age': '1209600',
        expires: TWO_WEEKS,
        path: '/',
        httponly: '',
        secure: '',
        samesite: 'Lax',
      },
    ],
  ])('honours options %j in the cookie', async (options, name, attrs) => {
    const h = harness(options)
    const { res } = await h.run(async (s) => s.set('a', 1))
    expect(setCookie(res, name)?.attrs).toEqual(attrs)
  })

  it('does not write or set a cookie when nothing changed', async () => {
    const h = harness()
    await h.run(async (s) => s.set('a', 1))
    h.kv.reset()
    const { res, body } = await h.run(async (s) => s.get('a'))
    expect(body).toBe(1)
    expect(res.headers.getSetCookie()).toEqual([])
    expect(h.kv.counts).toMatchObject({ reads: 1, writes: 0, deletes: 0 })
  })

  it('keeps the same id when an existing session is modified', async () => {
    const h = harness()
    await h.run(async (s) => s.set('a', 1))
    const id = idOf(h)
    const { res } = await h.run(async (s) => s.set('a', 2))
    expect(setCookie(res, 'sessionid')?.value).toBe(id)
  })

  it('refuses values JSON cannot carry', async () => {
    const h = harness()
    const { body } = await h.run(async (s) => {
      const codes: string[] = []
      for (const value of [() => 1, 10n, undefined, NaN, new Date(), new Map()]) {
        await s.set('x', value).catch((e: SessionError) => codes.push(e.code))
      }
      return codes
    })
    expect(body).toEqual(Array(6).fill('INVALID_VALUE'))
  })

  it('refuses nesting deeper than 100 levels instead of exhausting the stack', async () => {
    const h = harness()
    const deep = (n: number): unknown => JSON.parse('['.repeat(n) + ']'.repeat(n))
    const { res, body } = await h.run(async (s) => {
      await s.set('ok', deep(100))
      return s.set('deep', deep(10_000)).then(
        () => 'accepted',
        (e: SessionError) => e.code,
      )
    })
    expect(res.status).toBe(200)
    expect(body).toBe('INVALID_VALUE')
  })
})

describe.each([
  ['KV', () => ({})],
  [
    'cookie',
    () => ({ store: cookieStore({ secret: 'edge-session test secret number one, 32+ bytes' }) }),
  ],
] as const)('session.set() at the nesting limit, on the %s store', (_store, options) => {
  /** `levels` arrays around the innermost value, as JSON. */
  const arrays = (levels: number, inner = '1'): string =>
    `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`
  const objects = (levels: number): string => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`

  it.each([
    [`${MAX_DEPTH} arrays around a number`, arrays(MAX_DEPTH)],
    [`${MAX_DEPTH + 1} empty arrays (${MAX_DEPTH} around the innermost)`, arrays(MAX_DEPTH, '[]')],
    [`${MAX_DEPTH} objects around a number`, objects(MAX_DEPTH)],
  ])('stores %s, saves it, and reads it back', async (_label, text) => {
    const h = harness(options())
    const value = JSON.parse(text) as unknown
    const { res } = await h.run((s) => s.set('deep', value as never))
    expect(res.status).toBe(200)
    expect(setCookie(res, 'sessionid')?.value).toBeTruthy()
    const { body } = await h.run(async (s) => JSON.stringify(await s.get('deep')))
    expect(body).toBe(text)
  })

  it.each([
    [`${MAX_DEPTH + 1} arrays around a number`, arrays(MAX_DEPTH + 1)],
    [`${MAX_DEPTH + 2} empty arrays`, arrays(MAX_DEPTH + 1, '[]')],
    [`${MAX_DEPTH + 1} objects around a number`, objects(MAX_DEPTH + 1)],
  ])('refuses %s at set(), before anything is saved', async (_label, text) => {
    const h = harness(options())
    const { res, body } = await h.run((s) =>
      s.set('deep', JSON.parse(text) as never).then(
        () => 'accepted',
        (e: SessionError) => e.code,
      ),
    )
    expect(body).toBe('INVALID_VALUE')
    expect(res.status).toBe(200)
    expect(setCookie(res, 'sessionid')).toBeUndefined()
  })
})

describe('session.set() size tracking', () => {
  it('does work linear in the number of keys: no walk over the other keys per set()', async () => {
    // Counts steps of every Map iterator while one request sets 500 keys. Summing the
    // other keys' sizes at each set() took about n²/2 = 125,000 steps; a running total
    // takes none. (A step count, not a timing: CPU is measured in npm run bench.)
    const mapIterator = Object.getPrototypeOf(new Map().entries()) as { next(): unknown }
    const h = harness()
    const spy = vi.spyOn(mapIterator, 'next')
    let steps: number
    try {
      await h.run(async (s) => {
        for (let i = 0; i < 500; i++) await s.set(`k${i}`, i)
      })
    } finally {
      steps = spy.mock.calls.length
      spy.mockRestore()
    }
    expect(steps).toBeLessThan(500)
    const { body } = await h.run(async (s) => (await s.keys()).length)
    expect(body).toBe(500)
  })

  it('keeps the running total right through replace, delete, pop and clear', async () => {
    // Each entry {"kN":"x…"} counts key + JSON value + 4 bytes; 100 bytes a key here.
    const h = harness({ maxPayloadBytes: 300 })
    const value = (n: number): string => 'x'.repeat(n)
    const tryAll = (s: Session, steps: [string, string][]) =>
      steps.reduce<Promise<string[]>>(async (done, [key, v]) => {
        const codes = await done
        await s.set(key, v).then(
          () => codes.push('ok'),
          (e: SessionError) => codes.push(e.code),
        )
        return codes
      }, Promise.resolve([]))
    const { body } = await h.run(async (s) => {
      const out = await tryAll(s, [
        ['k1', value(92)],
        ['k2', value(92)],
        ['k3', value(92)],
        ['k4', value(1)],
      ])
      // Replacing a key counts its new size only; a removed key frees its size.
      out.push(
        ...(await tryAll(s, [
          ['k3', value(92)],
          ['k3', value(1)],
          ['k4', value(82)],
          ['k5', value(1)],
        ])),
      )
      await s.delete('k4')
      out.push(...(await tryAll(s, [['k5', value(83)]])))
      await s.pop('k5')
      out.push(...(await tryAll(s, [['k6', value(83)]])))
      await s.clear()
      out.push(
        ...(await tryAll(s, [
          ['a', value(150)],
          ['b', value(150)],
        ])),
      )
      return out
    })
    expect(body).toEqual([
      'ok',
      'ok',
      'ok',
      'PAYLOAD_TOO_LARGE',
      'ok',
      'ok',
      'ok',
      'PAYLOAD_TOO_LARGE',
      'ok',
      'ok',
      'ok',
      'PAYLOAD_TOO_LARGE',
    ])
  })
})

describe('session.has(), keys(), values(), entries(), delete(), pop(), clear(), isEmpty()', () => {
  it('behaves like a dict', async () => {
    const h = harness()
    await h.run(async (s) => {
      await s.set('a', 1)
      await s.set('b', 'two')
    })
    const { body } = await h.run(async (s) => ({
      has: [await s.has('a'), await s.has('zz')],
      keys: await s.keys(),
      values: await s.values(),
      entries: await s.entries(),
      popped: await s.pop('a'),
      poppedMissing: await s.pop('zz', 'dflt'),
      deletedMissing: await s.delete('zz'),
      after: await s.keys(),
      empty: await s.isEmpty(),
    }))
    expect(body).toEqual({
      has: [true, false],
      keys: ['a', 'b'],
      values: [1, 'two'],
      entries: [
        ['a', 1],
        ['b', 'two'],
      ],
      popped: 1,
      poppedMissing: 'dflt',
      deletedMissing: false,
      after: ['b'],
      empty: false,
    })
    const { body: later } = await h.run(async (s) => s.keys())
    expect(later).toEqual(['b'])
  })

  it('is empty for a visitor without a cookie, at no KV cost', async () => {
    const h = harness()
    const { res, body } = await h.run(async (s) => [await s.isEmpty(), await s.keys()])
    expect(body).toEqual([true, []])
    expect(h.kv.counts).toMatchObject({ reads: 0, writes: 0, deletes: 0 })
    expect(res.headers.getSetCookie()).toEqual([])
    expect(res.headers.get('Vary')).toBe('Cookie')
  })

  it('deletes the record and the cookie when the last key is deleted', async () => {
    const h = harness()
    await h.run(async (s) => s.set('only', 1))
    expect(await storedRecords()).toHaveLength(1)
    const { res } = await h.run(async (s) => s.delete('only'))
    const cookie = setCookie(res, 'sessionid')
    expect(cookie?.value).toBe('')
    expect(cookie?.attrs).toMatchObject({ 'max-age': '0', path: '/' })
    expect(await storedRecords()).toHaveLength(0)
  })

  it('clear() empties the session and removes it', async () => {
    const h = harness()
    await h.run(async (s) => {
      await s.set('a', 1)
      await s.setExpiry(30)
    })
    const { res, body } = await h.run(async (s) => {
      await s.clear()
      return [await s.isEmpty(), await s.getExpiryAge()]
    })
    expect(body).toEqual([true, 1209600])
    expect(setCookie(res, 'sessionid')?.attrs['max-age']).toBe('0')
    expect(await storedRecords()).toHaveLength(0)
  })
})

describe('session.flush()', () => {
  it('deletes the record at once, drops the cookie, and starts an empty session', async () => {
    const h = harness({ path: '/', domain: 'example.com' })
    await h.run(async (s) => s.set('user', 'ann'))
    const oldId = idOf(h)
    const key = await kvKeyFor(oldId)
    expect(await env.SESSIONS.get(key)).not.toBeNull()

    const { res, body } = await h.run(async (s) => {
      await s.flush()
      return { keys: await s.keys(), inKV: await env.SESSIONS.get(key) }
    })
    expect(body).toEqual({ keys: [], inKV: null })
    expect(setCookie(res, 'sessionid')?.attrs).toMatchObject({
      'max-age': '0',
      path: '/',
      domain: 'example.com',
    })

    // The old cookie, replayed, gets nothing.
    h.cookies.set('sessionid', oldId)
    const { body: replay } = await h.run(async (s) => s.get('user'))
    expect(replay).toBeNull()
  })

  it('lets the handler store new data under a new key after flushing', async () => {
    const h = harness()
    await h.run(async (s) => s.set('user', 'ann'))
    const oldId = idOf(h)
    const { res } = await h.run(async (s) => {
      await s.flush()
      await s.set('fresh', true)
    })
    const cookie = setCookie(res, 'sessionid')
    expect(cookie?.value).not.toBe(oldId)
    expect(cookie?.attrs['max-age']).toBe('1209600')
    expect(await storedRecords()).toHaveLength(1)
  })
})

describe('session.flush() and clear() on an id that is not stored', () => {
  it.each([['flush'], ['clear']] as const)(
    '%s() reads once and deletes nothing',
    async (method) => {
      const h = harness()
      h.cookies.set('sessionid', 'B'.repeat(43))
      const { res } = await h.run(async (s) => s[method]())
      expect(h.kv.counts).toMatchObject({ reads: 1, writes: 0, deletes: 0 })
      expect(setCookie(res, 'sessionid')?.attrs['max-age']).toBe('0')
    },
  )
})

describe('session.cycleKey()', () => {
  it('keeps the data under a new key and the old key stops working', async () => {
    const h = harness()
    await h.run(async (s) => s.set('cart', [1, 2]))
    const oldId = idOf(h)
    h.kv.reset()
    const { res } = await h.run(async (s) => s.cycleKey())
    // Read the old, write the new, check the old's revocation marker; then mark and delete the old.
    expect(h.kv.counts).toMatchObject({ reads: 2, writes: 2, deletes: 1 })
    const newId = setCookie(res, 'sessionid')?.value
    expect(newId).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(newId).not.toBe(oldId)

    const { body } = await h.run(async (s) => s.get('cart'))
    expect(body).toEqual([1, 2])

    h.cookies.set('sessionid', oldId)
    const { body: replay, res: replayRes } = await h.run(async (s) => s.get('cart'))
    expect(replay).toBeNull()
    expect(setCookie(replayRes, 'sessionid')?.attrs['max-age']).toBe('0')
    expect(await storedRecords()).toHaveLength(1)
  })

  it('keeps the old session when the response is a 5xx', async () => {
    const h = harness()
    await h.run(async (s) => s.set('a', 1))
    const oldId = idOf(h)
    const { res } = await h.run(async (s) => s.cycleKey(), { status: 500 })
    expect(res.headers.getSetCookie()).toEqual([])
    expect(await env.SESSIONS.get(await kvKeyFor(oldId))).not.toBeNull()
  })
})

describe('session.setExpiry() and the expiry getters', () => {
  it('uses the defaults when nothing is set', async () => {
    const h = harness()
    const { body } = await h.run(async (s) => ({
      age: await s.getExpiryAge(),
      date: (await s.getExpiryDate()).toISOString(),
      close: await s.getExpireAtBrowserClose(),
    }))
    expect(body).toEqual({
      age: 1209600,
      date: new Date(T0 + 1209600_000).toISOString(),
      close: false,
    })
  })

  it('takes seconds (fractions truncated)', async () => {
    const h = harness()
    const { res, body } = await h.run(async (s) => {
      await s.set('a', 1)
      await s.setExpiry(300.9)
      return [
        await s.getExpiryAge(),
        (await s.getExpiryDate()).toISOString(),
        await s.getExpireAtBrowserClose(),
      ]
    })
    expect(body).toEqual([300, new Date(T0 + 300_000).toISOString(), false])
    expect(setCookie(res, 'sessionid')?.attrs['max-age']).toBe('300')
  })

  it('takes 0 for a browser-close cookie and keeps the KV record for the default max age', async () => {
    const h = harness({ now: Date.now })
    const { res, body } = await h.run(async (s) => {
      await s.set('a', 1)
      await s.setExpiry(0)
      return [await s.getExpireAtBrowserClose(), await s.getExpiryAge()]
    })
    expect(body).toEqual([true, 1209600])
    const cookie = setCookie(res, 'sessionid')
    expect(cookie?.attrs).not.toHaveProperty('max-age')
    expect(cookie?.attrs).not.toHaveProperty('expires')
    const [record] = await storedRecords()
    expect(record?.expiration).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 1209600 - 5)
    expect(record?.expiration).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 1209600 + 5)
  })

  it('takes a Date', async () => {
    const h = harness()
    const at = new Date(T0 + 3600_000)
    const { res, body } = await h.run(async (s) => {
      await s.set('a', 1)
      await s.setExpiry(at)
      return [await s.getExpiryAge(), (await s.getExpiryDate()).toISOString()]
    })
    expect(body).toEqual([3600, at.toISOString()])
    expect(setCookie(res, 'sessionid')?.attrs['max-age']).toBe('3600')
    h.clock.now += 1800_000
    const { body: later } = await h.run(async (s) => s.getExpiryAge())
    expect(later).toBe(1800)
  })

  it('goes back to the default with null', async () => {
    const h = harness()
    await h.run(async (s) => {
      await s.set('a', 1)
      await s.setExpiry(10)
    })
    const { res, body } = await h.run(async (s) => {
      await s.setExpiry(null)
      return s.getExpiryAge()
    })
    expect(body).toBe(1209600)
    expect(setCookie(res, 'sessionid')?.attrs['max-age']).toBe('1209600')
  })

  it.each([
    [-1],
    [Infinity],
    [NaN],
    ['10'],
    [new Date('nope')],
    [400 * 86400 + 1],
    [1e15],
    [new Date(T0 + 401 * 86400_000)],
  ])('refuses %s with INVALID_EXPIRY', async (value) => {
    const h = harness()
    const { body } = await h.run(async (s) =>
      s.setExpiry(value as number).then(
        () => 'accepted',
        (e: SessionError) => e.code,
      ),
    )
    expect(body).toBe('INVALID_EXPIRY')
  })

  it('honours expireAtBrowserClose', async () => {
    const h = harness({ expireAtBrowserClose: true })
    const { res, body } = await h.run(async (s) => {
      await s.set('a', 1)
      return s.getExpireAtBrowserClose()
    })
    expect(body).toBe(true)
    expect(setCookie(res, 'sessionid')?.attrs).not.toHaveProperty('max-age')
  })

  it('keeps expiry metadata beside the data, never inside it', async () => {
    const h = harness()
    await h.run(async (s) => {
      await s.set('a', 1)
      await s.setExpiry(120)
    })
    const [record] = await storedRecords()
    expect(record?.value).toEqual({
      v: 1,
      data: { a: 1 },
      expiry: { age: 120 },
      expiresAt: T0 + 120_000,
      createdAt: T0,
      auth: null,
    })
    const { body } = await h.run(async (s) => s.keys())
    expect(body).toEqual(['a'])
  })
})

describe('expiry against KV', () => {
  it('ends a 5-second session on time although KV keeps the record 60 s', async () => {
    const h = harness()
    // Read KV's clock window before the write: a slow machine may cross a second boundary.
    const before = Math.floor(Date.now() / 1000)
    await h.run(async (s) => {
      await s.set('a', 1)
      await s.setExpiry(5)
    })
    const id = idOf(h)
    const [record] = await storedRecords()
    // KV's floor: the record outlives the session.
    expect(record?.expiration).toBeGreaterThanOrEqual(before + 60)

    h.clock.now = T0 + 4_000
    expect((await h.run(async (s) => s.get('a'))).body).toBe(1)

    h.clock.now = T0 + 5_000
    const { res, body } = await h.run(async (s) => s.get('a'))
    expect(body).toBeNull()
    expect(setCookie(res, 'sessionid')?.attrs['max-age']).toBe('0')
    // Still in KV, yet unusable.
    expect(await env.SESSIONS.get(await kvKeyFor(id))).not.toBeNull()
  })

  it('writes the KV record with an expiration equal to the session expiry', async () => {
    const h = harness({ now: Date.now })
    const before = Math.floor(Date.now() / 1000)
    await h.run(async (s) => {
      await s.set('a', 1)
      await s.setExpiry(3600)
    })
    const after = Math.ceil(Date.now() / 1000)
    const [record] = await storedRecords()
    expect(record?.expiration).toBeGreaterThanOrEqual(before + 3600)
    expect(record?.expiration).toBeLessThanOrEqual(after + 3600)
  })

  it('writes the default max age as the KV expiration', async () => {
    const h = harness({ now: Date.now, maxAge: 7200 })
    const before = Math.floor(Date.now() / 1000)
    const { res } = await h.run(async (s) => s.set('a', 1))
    expect(setCookie(res, 'sessionid')?.attrs['max-age']).toBe('7200')
    const [record] = await storedRecords()
    expect(record?.expiration).toBeGreaterThanOrEqual(before + 7200)
    expect(record?.expiration).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 7200)
  })

  it('expires a default session after maxAge', async () => {
    const h = harness({ maxAge: 120 })
    await h.run(async (s) => s.set('a', 1))
    h.clock.now = T0 + 119_000
    expect((await h.run(async (s) => s.get('a'))).body).toBe(1)
    h.clock.now = T0 + 120_000
    expect((await h.run(async (s) => s.get('a'))).body).toBeNull()
  })

  it('deletes an already-expired Date expiry instead of saving it', async () => {
    const h = harness()
    await h.run(async (s) => s.set('a', 1))
    const { res } = await h.run(async (s) => s.setExpiry(new Date(T0 - 1000)))
    expect(setCookie(res, 'sessionid')?.attrs['max-age']).toBe('0')
    expect(await storedRecords()).toHaveLength(0)
  })
})

describe('test cookie', () => {
  it('round-trips without touching KV', async () => {
    const h = harness()
    const { res } = await h.run(async (s) => s.setTestCookie())
    expect(setCookie(res, 'testcookie')).toMatchObject({
      value: 'worked',
      attrs: { path: '/', httponly: '', samesite: 'Lax' },
    })
    expect(setCookie(res, 'testcookie')?.attrs).not.toHaveProperty('max-age')
    const { res: check, body } = await h.run(async (s) => {
      const worked = s.testCookieWorked()
      s.deleteTestCookie()
      return worked
    })
    expect(body).toBe(true)
    expect(setCookie(check, 'testcookie')?.attrs['max-age']).toBe('0')
    expect(check.headers.get('Vary')).toBe('Cookie')
    expect(h.kv.counts).toEqual({ reads: 0, writes: 0, deletes: 0, lists: 0 })
    expect((await h.run(async (s) => s.testCookieWorked())).body).toBe(false)
  })

  it('does not read the session even when a session cookie is present', async () => {
    const h = harness()
    await h.run(async (s) => s.set('a', 1))
    h.kv.reset()
    await h.run(async (s) => s.testCookieWorked())
    expect(h.kv.counts).toMatchObject({ reads: 0, writes: 0, deletes: 0 })
  })
})

describe('session() middleware', () => {
  it('costs no KV operation and adds no header when the handler ignores the session', async () => {
    const h = harness()
    await h.run(async (s) => s.set('a', 1))
    h.kv.reset()
    const { res } = await h.run(() => 'hello')
    expect(h.kv.counts).toEqual({ reads: 0, writes: 0, deletes: 0, lists: 0 })
    expect(res.headers.getSetCookie()).toEqual([])
    expect(res.headers.get('Vary')).toBeNull()
  })

  it('never adopts a forged id: a read deletes the stale cookie, a write gets a fresh id', async () => {
    const h = harness()
    const forged = 'A'.repeat(43)
    h.cookies.set('sessionid', forged)
    const { res } = await h.run(async (s) => s.get('a'))
    expect(setCookie(res, 'sessionid')?.attrs['max-age']).toBe('0')
    expect(h.kv.counts).toMatchObject({ reads: 1, writes: 0, deletes: 0 })

    h.cookies.set('sessionid', forged)
    const { res: w } = await h.run(async (s) => s.set('a', 1))
    const fresh = setCookie(w, 'sessionid')?.value
    expect(fresh).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(fresh).not.toBe(forged)
    expect(await env.SESSIONS.get(await kvKeyFor(forged))).toBeNull()
  })

  it.each([
    ['a path', '../../etc'],
    ['a dot', '.'],
    ['empty', ''],
    ['percent-encoded', '%41%41'],
    ['non-ASCII', 'é'.repeat(43)],
    ['one character too long', 'A'.repeat(44)],
    ['4000 characters', 'A'.repeat(4000)],
  ])('ignores a malformed id (%s) without any KV call', async (_label, value) => {
    const h = harness()
    const { res, body } = await h.run(async (s) => s.get('a'), {
      headers: { Cookie: `sessionid=${encodeURIComponent(value)}` },
    })
    expect(res.status).toBe(200)
    expect(body).toBeNull()
    expect(h.kv.counts).toEqual({ reads: 0, writes: 0, deletes: 0, lists: 0 })
  })

  it('never saves on a 5xx response', async () => {
    const h = harness()
    const { res } = await h.run(async (s) => s.set('a', 1), { status: 500 })
    expect(res.status).toBe(500)
    expect(res.headers.getSetCookie()).toEqual([])
    expect(h.kv.counts.writes).toBe(0)
  })

  it('saves every request with saveEveryRequest', async () => {
    const h = harness({ saveEveryRequest: true })
    await h.run(async (s) => s.set('a', 1))
    h.kv.reset()
    h.clock.now += 10_000
    const { res } = await h.run(() => 'untouched')
    expect(h.kv.counts).toMatchObject({ reads: 2, writes: 1 })
    expect(setCookie(res, 'sessionid')?.attrs['max-age']).toBe('1209600')
    const [record] = await storedRecords()
    expect((record!.value as { expiresAt: number }).expiresAt).toBe(T0 + 10_000 + 1209600_000)
  })

  it('keeps an existing Vary header and adds Cookie once', async () => {
    const h = harness()
    const { res } = await h.run(async (s, c) => {
      c.header('Vary', 'Accept-Encoding')
      return s.get('a')
    })
    expect(res.headers.get('Vary')).toBe('Accept-Encoding, Cookie')
  })
})

describe("headers on the handler's own response", () => {
  type Env = SessionEnv<{ a: number }> & { Bindings: { SESSIONS: KVNamespace } }
  const appReturning = (response: () => Response, write: boolean): Hono<Env> => {
    const app = new Hono<Env>()
    app.use(session<Env>())
    app.get('/', async (c) => {
      const s = c.get('session')
      if (write) await s.set('a', 1)
      else await s.get('a')
      return response()
    })
    return app
  }

  it('adds Vary, Cache-Control and the cookie to a response whose headers are immutable', async () => {
    // Response.redirect()'s headers are immutable, as a fetch() passed through: set in
    // place they would throw, so they are set on a copy.
    const redirect = (): Response => Response.redirect('https://example.com/next', 302)
    expect(() => redirect().headers.set('X-Probe', '1')).toThrow(TypeError)
    for (const write of [false, true]) {
      const res = await appReturning(redirect, write).request('/', {}, env)
      expect(res.status).toBe(302)
      expect(res.headers.get('Location')).toBe('https://example.com/next')
      expect(res.headers.get('Vary')).toBe('Cookie')
      expect(res.headers.get('Cache-Control')).toBe(write ? 'private' : null)
      expect(setCookie(res, 'sessionid') !== undefined).toBe(write)
    }
  })

  it('keeps the body, status and headers of a response it adds its headers to in place', async () => {
    const res = await appReturning(
      () =>
        new Response('made by hand', {
          status: 201,
          headers: { 'Cache-Control': 'public, max-age=60', 'X-Own': 'yes' },
        }),
      true,
    ).request('/', {}, env)
    expect(res.status).toBe(201)
    expect(await res.text()).toBe('made by hand')
    expect(res.headers.get('X-Own')).toBe('yes')
    expect(res.headers.get('Vary')).toBe('Cookie')
    expect(res.headers.get('Cache-Control')).toBe('private, max-age=60')
    expect(setCookie(res, 'sessionid')).toBeDefined()
  })
})

describe('session({ partitioned: true })', () => {
  it('partitions the session cookie, its deletion and the test cookie on https', async () => {
    const h = harness({ partitioned: true })
    const https = { url: 'https://example.com/' }
    const { res } = await h.run(async (s) => {
      s.setTestCookie()
      await s.set('a', 1)
    }, https)
    expect(setCookie(res, 'sessionid')?.attrs).toMatchObject({ secure: '', partitioned: '' })
    expect(setCookie(res, 'testcookie')?.attrs).toMatchObject({ secure: '', partitioned: '' })
    const { res: flushed } = await h.run(async (s) => s.flush(), https)
    expect(setCookie(flushed, 'sessionid')?.attrs).toMatchObject({
      'max-age': '0',
      secure: '',
      partitioned: '',
    })
  })

  it('sends an ordinary cookie on http with secure "auto": a Partitioned cookie must be Secure', async () => {
    const h = harness({ partitioned: true })
    const { res } = await h.run(async (s) => s.set('a', 1))
    expect(setCookie(res, 'sessionid')?.attrs).not.toHaveProperty('partitioned')
    expect(setCookie(res, 'sessionid')?.attrs).not.toHaveProperty('secure')
  })

  it('partitions on http too with secure: true', async () => {
    const h = harness({ partitioned: true, secure: true })
    const { res } = await h.run(async (s) => s.set('a', 1))
    expect(setCookie(res, 'sessionid')?.raw).toMatch(/; Secure; SameSite=Lax; Partitioned$/)
  })
})

describe('session() options', () => {
  it.each([
    [{ cookieName: 'bad name' }, 'cookieName'],
    [{ maxAge: 0 }, 'maxAge'],
    [{ maxAge: 400 * 86400 + 1 }, 'maxAge'],
    [{ path: 'nope' }, 'path'],
    [{ domain: 'a;b' }, 'domain'],
    [{ sameSite: 'lax' as 'Lax' }, 'sameSite'],
    [{ sameSite: 'None' as const, secure: false }, 'sameSite'],
    [{ cookieName: '__Host-sid', path: '/app' }, 'path'],
    [{ cookieName: '__Host-sid', domain: 'example.com' }, 'domain'],
    [{ cookieName: '__Secure-sid', secure: false }, 'secure'],
    [{ partitioned: true, secure: false }, 'partitioned'],
    [{ partitioned: 'yes' as unknown as boolean }, 'partitioned'],
    [{ maxPayloadBytes: 0 }, 'maxPayloadBytes'],
    [{ rolling: { threshold: 2 } }, 'rolling.threshold'],
  ])('refuses %j naming the option', async (options, option) => {
    expect(() => harness(options)).toThrowError(SessionError)
    expect(() => harness(options)).toThrowError(`"${option}"`)
  })
})

describe('session() when the store fails after the handler', () => {
  it("hands app.onError a clean response it can add headers to, without the handler's cookies", async () => {
    const kv = faultyKV(env.SESSIONS, { write: true })
    const app = new Hono<SessionEnv>()
    app.use(session({ store: kvStore({ namespace: kv.namespace }) }))
    app.get('/', async (c) => {
      c.header('Set-Cookie', 'other=1')
      await c.get('session').set('a', 1)
      return c.text('saved?')
    })
    app.onError((err, c) => {
      c.header('X-Handled', (err as SessionError).code)
      return c.text('later', 503)
    })
    const res = await app.request('http://example.com/', {}, env)
    expect(res.status).toBe(503)
    expect(res.headers.get('X-Handled')).toBe('STORE_UNAVAILABLE')
    expect(res.headers.getSetCookie()).toEqual([])
    expect(await res.text()).toBe('later')
  })
})
