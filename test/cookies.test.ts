import { Hono, type Context } from 'hono'
import { describe, expect, it } from 'vitest'
import {
  deleteCookie,
  getCookie,
  SessionError,
  setCookie,
  type CookieOptions,
} from '../src/session'
import { MAX_COOKIE_AGE, MAX_COOKIE_BYTES } from '../src/session/foundation/cookie-grammar'
import { readRawCookie } from '../src/session/cookies/helpers'
import { setCookie as readSetCookie, UNICODE_SPACES } from './helpers/http'

/**
 * Runs `handler` in a real Hono request and returns the response; a thrown error comes
 * back as a JSON body `{ error: { name, code, message } }` with status 599.
 */
async function run(
  handler: (c: Context) => void,
  init: { url?: string; cookie?: string } = {},
): Promise<Response> {
  const app = new Hono()
  app.get('/', (c) => {
    handler(c)
    return c.text('ok')
  })
  app.onError((err, c) =>
    c.json(
      {
        error: {
          name: err.name,
          code: err instanceof SessionError ? err.code : null,
          message: err.message,
        },
      },
      599 as 500,
    ),
  )
  const headers: Record<string, string> = init.cookie === undefined ? {} : { Cookie: init.cookie }
  return app.request(init.url ?? 'http://example.com/', { headers })
}

/** The Set-Cookie the plain wrapper emits for `options`. */
async function emitted(
  options: CookieOptions,
  name = 'c',
  value = 'v',
): Promise<ReturnType<typeof readSetCookie>> {
  const res = await run((c) => setCookie(c, name, value, options))
  expect(res.status, await res.clone().text()).toBe(200)
  return readSetCookie(res, name)
}

/** The error the wrapper throws for `options`. */
async function refused(
  options: CookieOptions,
  name = 'c',
  value = 'v',
): Promise<{ name: string; code: string; message: string }> {
  const res = await run((c) => setCookie(c, name, value, options))
  expect(res.status).toBe(599)
  expect(res.headers.getSetCookie()).toEqual([])
  return ((await res.json()) as { error: { name: string; code: string; message: string } }).error
}

describe('setCookie() defaults', () => {
  it('is HttpOnly, SameSite=Lax, Path=/ and temporary (no Max-Age, no Expires)', async () => {
    expect((await emitted({}))?.raw).toBe('c=v; Path=/; HttpOnly; SameSite=Lax')
  })

  it('adds Secure on https only', async () => {
    const res = await run((c) => setCookie(c, 'c', 'v'), { url: 'https://example.com/' })
    expect(readSetCookie(res, 'c')?.attrs).toHaveProperty('secure', '')
    expect((await emitted({}))?.attrs).not.toHaveProperty('secure')
  })

  it('percent-encodes the value', async () => {
    expect((await emitted({}, 'c', 'a b;c'))?.value).toBe('a%20b%3Bc')
  })
})

/** A fixed clock for `now`: 2026-01-01T00:00:00Z. */
const NOW = Date.parse('2026-01-01T00:00:00Z')
/** The Expires date `seconds` after {@link NOW}, in Django's `http_date` format. */
const at = (seconds: number): string => new Date(NOW + seconds * 1000).toUTCString()

describe('setCookie() maxAge', () => {
  it.each([
    // Expires beside Max-Age, as Django's set_cookie(max_age=…): http_date(now + max_age).
    [120, { 'max-age': '120', expires: at(120) }],
    [1.9, { 'max-age': '1', expires: at(1) }], // fractions truncated, as Django's int(max_age)
    [0.5, { 'max-age': '0', expires: at(0) }],
    [0, { 'max-age': '0', expires: at(0) }],
    [MAX_COOKIE_AGE, { 'max-age': '34560000', expires: at(MAX_COOKIE_AGE) }],
    [MAX_COOKIE_AGE + 1, { 'max-age': '34560000', expires: at(MAX_COOKIE_AGE) }], // clamped where hono/cookie would throw
    [1e12, { 'max-age': '34560000', expires: at(MAX_COOKIE_AGE) }],
    [-1, { 'max-age': '0', expires: 'Thu, 01 Jan 1970 00:00:00 GMT' }], // negative: a deletion
    [-86400.7, { 'max-age': '0', expires: 'Thu, 01 Jan 1970 00:00:00 GMT' }],
  ])('maxAge %d gives %j', async (maxAge, attrs) => {
    expect((await emitted({ maxAge, now: NOW }))?.attrs).toEqual({
      path: '/',
      httponly: '',
      samesite: 'Lax',
      ...attrs,
    })
  })

  it("writes Expires in the order hono/cookie serialises attributes, in Django's date format", async () => {
    expect((await emitted({ maxAge: 120, now: NOW }))?.raw).toBe(
      'c=v; Max-Age=120; Path=/; Expires=Thu, 01 Jan 2026 00:02:00 GMT; HttpOnly; SameSite=Lax',
    )
  })

  it('counts Expires from the real clock when no `now` is given', async () => {
    const before = Math.floor(Date.now() / 1000) * 1000
    const attrs = (await emitted({ maxAge: 120 }))?.attrs
    const after = Date.now()
    const written = Date.parse(attrs?.expires ?? '')
    expect(written).toBeGreaterThanOrEqual(before + 120_000)
    expect(written).toBeLessThanOrEqual(after + 120_000)
  })

  it('keeps Expires within 400 days of the real clock when `now` runs ahead of it', async () => {
    const before = Date.now()
    const attrs = (await emitted({ maxAge: MAX_COOKIE_AGE, now: before + 86400_000 }))?.attrs
    expect(attrs?.['max-age']).toBe('34560000')
    expect(Date.parse(attrs?.expires ?? '')).toBeLessThanOrEqual(Date.now() + MAX_COOKIE_AGE * 1000)
    expect(Date.parse(attrs?.expires ?? '')).toBeGreaterThan(before + MAX_COOKIE_AGE * 1000 - 2000)
  })

  it.each([Number.NaN, Infinity, -Infinity])('refuses maxAge %d', async (maxAge) => {
    expect(await refused({ maxAge })).toMatchObject({
      name: 'SessionError',
      code: 'INVALID_COOKIE',
      message: 'Cookie "c": "maxAge" must be a finite number of seconds',
    })
  })
})

describe('setCookie() expires', () => {
  it('writes an absolute expiry, and Max-Age beside it as Django turns expires into max_age', async () => {
    const expires = new Date(NOW + 3600_000)
    expect((await emitted({ expires, now: NOW }))?.attrs).toEqual({
      path: '/',
      httponly: '',
      samesite: 'Lax',
      'max-age': '3600',
      expires: expires.toUTCString(),
    })
  })

  it.each([
    [3600_400, '3601'], // rounded up: the cookie never ends before its Expires
    [0, '0'],
    [-60_000, '0'], // already passed: Django's max(0, delta)
  ])('gives an expiry %d ms ahead Max-Age %s', async (ahead, maxAge) => {
    expect((await emitted({ expires: new Date(NOW + ahead), now: NOW }))?.attrs['max-age']).toBe(
      maxAge,
    )
  })

  it('clamps an expiry past 400 days to 400 days', async () => {
    const before = Date.now()
    const attrs = (await emitted({ expires: new Date(before + 5 * 365 * 86400_000) }))?.attrs
    const written = Date.parse(attrs?.expires ?? '')
    // Expires has second precision.
    expect(Math.abs(written - (before + MAX_COOKIE_AGE * 1000))).toBeLessThan(2000)
    expect(attrs?.['max-age']).toBe('34560000')
  })

  it.each([
    [
      { maxAge: 60, expires: new Date(Date.now() + 60_000) },
      '"expires" and "maxAge" cannot both be set',
    ], // Django's ValueError
    [{ maxAge: 0, expires: new Date(0) }, '"expires" and "maxAge" cannot both be set'],
    [{ expires: new Date(Number.NaN) }, '"expires" is an invalid Date'],
    [{ maxAge: 60, now: Number.NaN }, '"now" must be a finite number of milliseconds'],
  ])('refuses %j', async (options, message) => {
    expect(await refused(options)).toMatchObject({
      code: 'INVALID_COOKIE',
      message: `Cookie "c": ${message}`,
    })
  })
})

describe('setCookie() sameSite', () => {
  it.each([
    [{ sameSite: 'Lax' as const }, 'Lax'],
    [{ sameSite: 'Strict' as const }, 'Strict'],
    [{ sameSite: 'None' as const, secure: true }, 'None'],
  ])('accepts %j', async (options, written) => {
    expect((await emitted(options))?.attrs.samesite).toBe(written)
  })

  it.each(['', 'Bogus', 'Lax; Secure', 'Lax\r\nSet-Cookie: x=y'])(
    'refuses sameSite %j',
    async (sameSite) => {
      expect(await refused({ sameSite: sameSite as 'Lax' })).toMatchObject({
        code: 'INVALID_COOKIE',
        message: 'Cookie "c": "sameSite" must be "Lax", "Strict" or "None"',
      })
    },
  )
})

describe('setCookie() partitioned (CHIPS)', () => {
  it('adds Partitioned with Secure on https', async () => {
    const res = await run((c) => setCookie(c, 'c', 'v', { partitioned: true }), {
      url: 'https://example.com/',
    })
    expect(readSetCookie(res, 'c')?.raw).toBe(
      'c=v; Path=/; HttpOnly; Secure; SameSite=Lax; Partitioned',
    )
  })

  it.each([
    [
      { partitioned: true },
      'http: secure "auto" is off, so an ordinary cookie',
      'c=v; Path=/; HttpOnly; SameSite=Lax',
    ],
    [
      { partitioned: true, secure: true },
      'http with secure: true',
      'c=v; Path=/; HttpOnly; Secure; SameSite=Lax; Partitioned',
    ],
    [
      { partitioned: true, sameSite: 'None' as const, secure: true },
      'the third-party case',
      'c=v; Path=/; HttpOnly; Secure; SameSite=None; Partitioned',
    ],
    [{ partitioned: false, secure: true }, 'off', 'c=v; Path=/; HttpOnly; Secure; SameSite=Lax'],
  ])('%j (%s)', async (options, _what, raw) => {
    expect((await emitted(options))?.raw).toBe(raw)
  })

  it('is Secure and Partitioned for a __Host- name, whatever the scheme', async () => {
    expect((await emitted({ partitioned: true }, '__Host-c'))?.raw).toBe(
      '__Host-c=v; Path=/; HttpOnly; Secure; SameSite=Lax; Partitioned',
    )
  })

  it.each([
    [{ partitioned: true, secure: false }, '"partitioned" requires Secure, but "secure" is false'],
    [{ partitioned: 'yes' as unknown as boolean }, '"partitioned" must be a boolean'],
  ])('refuses %j', async (options, message) => {
    expect(await refused(options)).toMatchObject({
      code: 'INVALID_COOKIE',
      message: `Cookie "c": ${message}`,
    })
  })

  it('lets deleteCookie() delete a partitioned cookie (the deletion must be partitioned too)', async () => {
    const res = await run((c) => deleteCookie(c, 'c', { partitioned: true }), {
      url: 'https://example.com/',
    })
    expect(readSetCookie(res, 'c')?.raw).toBe(
      'c=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax; Partitioned',
    )
  })
})

describe('setCookie() size guard', () => {
  // "c=" is 2 bytes, so a value of n bytes makes a pair of n + 2.
  it.each([
    ['an ASCII pair of exactly 4096 bytes', 'c', 'x'.repeat(MAX_COOKIE_BYTES - 2), true],
    ['an ASCII pair of 4097 bytes', 'c', 'x'.repeat(MAX_COOKIE_BYTES - 1), false],
    ['a long name counted too', 'n'.repeat(100), 'x'.repeat(MAX_COOKIE_BYTES - 101), true],
    ['a long name one byte over', 'n'.repeat(100), 'x'.repeat(MAX_COOKIE_BYTES - 100), false],
    // Counted as sent: "é" is percent-encoded to "%C3%A9", 6 bytes.
    ['682 "é" (4092 bytes encoded + 2)', 'c', 'é'.repeat(682), true],
    ['683 "é" (4098 bytes encoded + 2)', 'c', 'é'.repeat(683), false],
  ])('%s: emitted %s', async (_what, name, value, ok) => {
    if (ok) {
      const cookie = await emitted({}, name, value)
      expect(
        new TextEncoder().encode(`${cookie?.name}=${cookie?.value}`).byteLength,
      ).toBeLessThanOrEqual(MAX_COOKIE_BYTES)
    } else {
      expect(await refused({}, name, value)).toMatchObject({
        code: 'INVALID_COOKIE',
        message: `Cookie "${name}" is over 4096 bytes; browsers would silently drop it`,
      })
    }
  })

  it('checks the pair only: long attributes do not count', async () => {
    expect(
      await emitted({ path: `/${'p'.repeat(300)}` }, 'c', 'x'.repeat(MAX_COOKIE_BYTES - 2)),
    ).toBeDefined()
  })
})

describe('setCookie() header safety', () => {
  it.each([
    [{ domain: 'example.com; Secure' }, 'c'],
    [{ path: '/\r\nX: y' }, 'c'],
    [{ path: '/a\x00b' }, 'c'],
    [{ path: '/a\x01b' }, 'c'],
    [{ path: '/é' }, 'c'],
    [{ path: '/a b' }, 'c'],
    [{ domain: 'exa\x7fmple.com' }, 'c'],
    [{}, 'bad name'],
    [{}, 'a;b'],
  ])('refuses %j for cookie %j', async (options, name) => {
    expect(await refused(options, name)).toMatchObject({ code: 'INVALID_COOKIE' })
  })
})

describe('deleteCookie()', () => {
  it('expires the cookie now, on the same path and domain', async () => {
    const res = await run((c) => deleteCookie(c, 'user', { path: '/app', domain: 'example.com' }))
    expect(readSetCookie(res, 'user')?.raw).toBe(
      'user=; Max-Age=0; Domain=example.com; Path=/app; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax',
    )
  })
})

describe('getCookie()', () => {
  it.each([
    ['user=Raju', 'Raju'],
    ['a=1; user=Ra%20ju', 'Ra ju'],
    ['user=first; user=second', 'first'],
    ['other=1', 'fallback'],
  ])('reads %j as %j', async (cookie, expected) => {
    let read: string | undefined
    await run(
      (c) => {
        read = getCookie(c, 'user', 'fallback')
      },
      { cookie },
    )
    expect(read).toBe(expected)
  })
})

describe('readRawCookie()', () => {
  it('trims SP and HTAB around names and values (RFC 6265 §5.2), and one pair of quotes', () => {
    expect(readRawCookie(' \tsessionid \t= \tabc\t ', 'sessionid')).toBe('abc')
    expect(readRawCookie('sessionid="abc"', 'sessionid')).toBe('abc')
  })

  it.each(UNICODE_SPACES)(
    'does not trim %s: a name with it around is another name, and the value keeps it',
    (_label, ch) => {
      expect(readRawCookie(`${ch}sessionid=abc`, 'sessionid')).toBeUndefined()
      expect(readRawCookie(`sessionid${ch}=abc`, 'sessionid')).toBeUndefined()
      expect(readRawCookie(` ${ch} __Host-sessionid=abc`, '__Host-sessionid')).toBeUndefined()
      expect(readRawCookie(`${ch}sessionid=evil; sessionid=abc`, 'sessionid')).toBe('abc')
      expect(readRawCookie(`sessionid=${ch}abc${ch}`, 'sessionid')).toBe(`${ch}abc${ch}`)
    },
  )
})
