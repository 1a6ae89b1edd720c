import { Hono, type Context } from 'hono'
import { describe, expect, it } from 'vitest'
import {
  BadSignatureError,
  timestampSigner,
  getSignedCookie,
  SessionError,
  setSignedCookie,
  SignatureExpiredError,
  type GetSignedCookieOptions,
  type Signer,
} from '../src/session'
import { MAX_COOKIE_BYTES } from '../src/session/foundation/cookie-grammar'
import { setCookie as readSetCookie } from './helpers/http'

const SECRET = 'edge-session test secret number one, 32+ bytes'
const SECRET_2 = 'edge-session test secret number two, 32+ bytes'
/** 2026-01-01T00:00:00Z in seconds. */
const T0 = 1767225600

const clock = { s: T0 }
const signerOf = (secret: string, fallbacks: string[] = []): Signer =>
  timestampSigner({ secret, fallbacks, now: () => clock.s * 1000 })
const current = signerOf(SECRET)

/** Outcome of a handler, as JSON: its result, or the error it threw. */
type Outcome =
  | { value: unknown }
  | { error: { name: string; code: string | null; reason: string | null } }

/** Runs `handler` in a real Hono request with `cookie` sent; answers its outcome and the response. */
async function run(
  handler: (c: Context) => Promise<unknown>,
  cookie?: string,
): Promise<{ outcome: Outcome; res: Response }> {
  const app = new Hono()
  app.get('/', async (c) => {
    try {
      const value = await handler(c)
      return c.json({ value: value === undefined ? '(undefined)' : value })
    } catch (err) {
      const e = err as Error & { code?: string; reason?: string }
      return c.json({ error: { name: e.name, code: e.code ?? null, reason: e.reason ?? null } })
    }
  })
  const res = await app.request('http://example.com/', {
    headers: cookie === undefined ? {} : { Cookie: cookie },
  })
  return { outcome: (await res.json()) as Outcome, res }
}

/** The `name=value` pair `setSignedCookie` emits, ready to send back. */
async function signedPair(
  name: string,
  value: string,
  signer: Signer = current,
  salt = '',
): Promise<string> {
  const { res } = await run(async (c) => setSignedCookie(c, name, value, { signer, salt }))
  const cookie = readSetCookie(res, name)
  if (!cookie) throw new Error('no cookie set')
  return `${name}=${cookie.value}`
}

const read =
  (name: string, options: Partial<GetSignedCookieOptions> & { default?: unknown } = {}) =>
  (c: Context) =>
    getSignedCookie(c, name, { signer: current, ...options })

describe('setSignedCookie()', () => {
  it('sets value:timestamp:signature, percent-encoded, with the safe defaults', async () => {
    clock.s = T0
    const { res } = await run(async (c) =>
      setSignedCookie(c, 'signed', 'hello', { signer: current, salt: 'demo' }),
    )
    // The known answer of test/signing.test.ts, purpose "cookie:signed".
    expect(readSetCookie(res, 'signed')?.raw).toBe(
      `signed=${encodeURIComponent('hello:1vb66i:-OUa-Z3kDn46gHPVnIaZVTQam7FU1PIUwvBKDjmfoQA')}; Path=/; HttpOnly; SameSite=Lax`,
    )
  })

  it('passes cookie options through to setCookie', async () => {
    const { res } = await run(async (c) =>
      setSignedCookie(c, 'signed', 'v', {
        signer: current,
        maxAge: 90.9,
        path: '/app',
        sameSite: 'Strict',
        secure: true,
        now: T0 * 1000,
      }),
    )
    expect(readSetCookie(res, 'signed')?.attrs).toEqual({
      'max-age': '90',
      expires: new Date((T0 + 90) * 1000).toUTCString(),
      path: '/app',
      httponly: '',
      secure: '',
      samesite: 'Strict',
    })
  })

  it('passes partitioned through to setCookie', async () => {
    const { res } = await run(async (c) =>
      setSignedCookie(c, 'signed', 'v', { signer: current, partitioned: true, secure: true }),
    )
    expect(readSetCookie(res, 'signed')?.raw).toMatch(/; Secure; SameSite=Lax; Partitioned$/)
  })

  it.each([
    [{ maxAge: 60, expires: new Date(Date.now() + 60_000) }, 'v', 'INVALID_COOKIE'],
    [{ partitioned: true, secure: false }, 'v', 'INVALID_COOKIE'],
    [{}, 'x'.repeat(MAX_COOKIE_BYTES), 'INVALID_COOKIE'], // over 4096 bytes once signed
    [{}, '\uD800', 'INVALID_VALUE'],
  ])(
    'refuses %j with a value of %#, before any header is written',
    async (options, value, code) => {
      const { outcome, res } = await run(async (c) =>
        setSignedCookie(c, 'signed', value, { signer: current, ...options }),
      )
      expect(outcome).toMatchObject({ error: { name: 'SessionError', code } })
      expect(res.headers.getSetCookie()).toEqual([])
    },
  )

  it('fits a value right up to the 4096-byte limit, signature and timestamp included', async () => {
    clock.s = T0
    // "s=" + value + "%3A1vb66i%3A" + 43 signature characters = 4096
    const value = 'x'.repeat(MAX_COOKIE_BYTES - 2 - 12 - 43)
    const pair = await signedPair('s', value)
    expect(new TextEncoder().encode(pair).byteLength).toBe(MAX_COOKIE_BYTES)
    const { outcome } = await run(async (c) =>
      setSignedCookie(c, 's', `${value}x`, { signer: current }),
    )
    expect(outcome).toMatchObject({ error: { code: 'INVALID_COOKIE' } })
  })
})

describe('getSignedCookie()', () => {
  it.each(['hello', '', 'a:b:c', 'a b; c=d, "e"', 'héllo ☃ 𝄞', '<script>'])(
    'round-trips %j',
    async (value) => {
      const { outcome } = await run(
        read('signed', { salt: 'demo' }),
        await signedPair('signed', value, current, 'demo'),
      )
      expect(outcome).toEqual({ value })
    },
  )

  it.each([
    ['no Cookie header', undefined],
    ['other cookies only', 'a=1; b=2'],
    ['a cookie whose name only contains it', 'unsigned=1; signedx=2'],
  ])('resolves undefined for a missing cookie (%s)', async (_what, cookie) => {
    expect((await run(read('signed'), cookie)).outcome).toEqual({ value: '(undefined)' })
  })

  it('resolves the default for a missing cookie', async () => {
    expect((await run(read('signed', { default: 'dflt' }))).outcome).toEqual({ value: 'dflt' })
  })

  describe('without a default, a bad cookie throws the typed error (never undefined)', () => {
    it.each([
      [
        'a tampered value',
        async () => (await signedPair('signed', 'hello')).replace('hello', 'hellp'),
        'mismatch',
      ],
      [
        'a value moved from another cookie',
        async () => (await signedPair('other', 'hello')).replace('other=', 'signed='),
        'mismatch',
      ],
      [
        'a value signed with another salt',
        async () => signedPair('signed', 'hello', current, 'nope'),
        'mismatch',
      ],
      [
        'a value signed with an unknown secret',
        async () => signedPair('signed', 'hello', signerOf(SECRET_2)),
        'mismatch',
      ],
      ['an unsigned value', async () => 'signed=hello', 'malformed'],
      ['an empty value', async () => 'signed=', 'malformed'],
      ['broken percent-encoding', async () => 'signed=%E0%A4%A', 'malformed'],
      [
        'a truncated value',
        async () => (await signedPair('signed', 'hello')).slice(0, -3),
        'malformed',
      ],
    ])('%s', async (_what, cookie, reason) => {
      const { outcome } = await run(read('signed'), await cookie())
      expect(outcome).toEqual({
        error: { name: 'BadSignatureError', code: 'BAD_SIGNATURE', reason },
      })
    })

    it('a value older than maxAge', async () => {
      clock.s = T0
      const pair = await signedPair('signed', 'hello')
      clock.s = T0 + 61
      expect((await run(read('signed', { maxAge: 61 }), pair)).outcome).toEqual({ value: 'hello' })
      const { outcome } = await run(read('signed', { maxAge: 60 }), pair)
      expect(outcome).toEqual({
        error: { name: 'SignatureExpiredError', code: 'SIGNATURE_EXPIRED', reason: 'expired' },
      })
    })
  })

  it.each([
    ['tampered', async () => (await signedPair('signed', 'hello')).replace('hello', 'hellp')],
    ['unsigned', async () => 'signed=hello'],
    [
      'expired',
      async () => {
        clock.s = T0
        const pair = await signedPair('signed', 'hello')
        clock.s = T0 + 3600
        return pair
      },
    ],
  ])('resolves the default for a %s cookie', async (_what, cookie) => {
    const { outcome } = await run(read('signed', { default: null, maxAge: 60 }), await cookie())
    expect(outcome).toEqual({ value: null })
  })

  it('takes the first of several cookies of one name: a bad first one is not rescued', async () => {
    const good = await signedPair('signed', 'hello')
    expect((await run(read('signed'), `${good}; signed=forged`)).outcome).toEqual({
      value: 'hello',
    })
    expect((await run(read('signed'), `signed=forged; ${good}`)).outcome).toMatchObject({
      error: { reason: 'malformed' },
    })
  })

  it('lets other errors through even with a default', async () => {
    const { outcome } = await run(
      read('signed', { default: 'x', maxAge: -1 }),
      await signedPair('signed', 'v'),
    )
    expect(outcome).toMatchObject({ error: { name: 'SessionError', code: 'INVALID_OPTION' } })
  })
})

describe('getSignedCookie() with a rotated secret', () => {
  const rotating = signerOf(SECRET_2, [SECRET])
  const onlyNew = signerOf(SECRET_2)

  it('accepts a cookie of the old secret while it is listed, and re-signs it with `resign`', async () => {
    clock.s = T0
    const old = await signedPair('signed', 'hello', current, 'demo')
    clock.s = T0 + 100
    const { outcome, res } = await run(
      read('signed', {
        signer: rotating,
        salt: 'demo',
        resign: { maxAge: 3600, now: (T0 + 100) * 1000 },
      }),
      old,
    )
    expect(outcome).toEqual({ value: 'hello' })
    const fresh = readSetCookie(res, 'signed')
    expect(fresh?.attrs).toEqual({
      'max-age': '3600',
      expires: new Date((T0 + 100 + 3600) * 1000).toUTCString(),
      path: '/',
      httponly: '',
      samesite: 'Lax',
    })
    // Signed with the new secret, keeping the original timestamp (it grows no younger).
    const verified = await onlyNew.verify(decodeURIComponent(fresh?.value ?? ''), {
      purpose: 'cookie:signed',
      salt: 'demo',
    })
    expect(verified).toEqual({ value: 'hello', timestamp: T0, rotated: false })
  })

  it('does not re-sign without `resign`, nor a cookie of the current secret', async () => {
    const old = await signedPair('signed', 'hello')
    expect(
      (await run(read('signed', { signer: rotating }), old)).res.headers.getSetCookie(),
    ).toEqual([])
    const fresh = await signedPair('signed', 'hello', onlyNew)
    expect(
      (
        await run(read('signed', { signer: rotating, resign: true }), fresh)
      ).res.headers.getSetCookie(),
    ).toEqual([])
  })

  it('refuses the old cookie once the old secret is removed', async () => {
    const old = await signedPair('signed', 'hello')
    expect((await run(read('signed', { signer: onlyNew }), old)).outcome).toMatchObject({
      error: { code: 'BAD_SIGNATURE', reason: 'mismatch' },
    })
  })
})

describe('error classes', () => {
  it('are one hierarchy under SessionError with stable codes', () => {
    const expired = new SignatureExpiredError(70, 60)
    expect(expired).toBeInstanceOf(BadSignatureError)
    expect(expired).toBeInstanceOf(SessionError)
    expect(expired).toMatchObject({ code: 'SIGNATURE_EXPIRED', status: 400, age: 70, maxAge: 60 })
    expect(new BadSignatureError('mismatch', 'x')).toMatchObject({
      code: 'BAD_SIGNATURE',
      status: 400,
    })
  })
})
