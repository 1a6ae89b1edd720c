import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  BadSignatureError,
  timestampSigner,
  SessionError,
  SignatureExpiredError,
  type Signer,
} from '../src/session'
import { b62Encode } from '../src/session/cookies/signing'

const SECRET = 'edge-session test secret number one, 32+ bytes'
const SECRET_2 = 'edge-session test secret number two, 32+ bytes'
/** 2026-01-01T00:00:00Z in seconds. */
const T0 = 1767225600

/** A signer whose clock the test sets, in seconds. */
function clocked(
  options: { secret: string; fallbacks?: string[] },
  at = T0,
): { signer: Signer; clock: { s: number } } {
  const clock = { s: at }
  return { signer: timestampSigner({ ...options, now: () => clock.s * 1000 }), clock }
}

/** The error `promise` rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<BadSignatureError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(BadSignatureError)
  return error as BadSignatureError
}

afterEach(() => {
  vi.restoreAllMocks()
})

// Known answers, computed once with node:crypto's createHmac from the documented format
// (see the module comment of src/session/signing.ts), not with this code.
describe('known-answer vectors', () => {
  it.each([
    [SECRET, 'hello', '', '', T0, 'hello:1vb66i:sO8TqLx9GurwTfs4Tmm-18BL6nr9NKMp5gn64G8MIUs'],
    [
      SECRET,
      'hello',
      'cookie:signed',
      'demo',
      T0,
      'hello:1vb66i:-OUa-Z3kDn46gHPVnIaZVTQam7FU1PIUwvBKDjmfoQA',
    ],
    [SECRET, 'a:b:c', 'p', 's', T0, 'a:b:c:1vb66i:Kf4PqU3n7vshiZp1G9TQ_QOjGYB-B1LHYxwPb7ljRuA'],
    [
      SECRET,
      'héllo ☃ 𝄞',
      'cookie:ünï',
      'sälz',
      0,
      'héllo ☃ 𝄞:0:JggagM8Hj2BnIDrqyMksBZkKE7Zjul6CW7G0gV0LcdE',
    ],
    [
      SECRET_2,
      'hello',
      'cookie:signed',
      'demo',
      T0,
      'hello:1vb66i:9WdOm8XDdeY4oS9R0a7lkS9DvG89lVjJ2XDHq-8HMhY',
    ],
  ])(
    'signs with %s: %j, purpose %j, salt %j, at %d',
    async (secret, value, purpose, salt, at, expected) => {
      const { signer } = clocked({ secret }, at)
      expect(await signer.sign(value, { purpose, salt })).toBe(expected)
      expect(await signer.unsign(expected, { purpose, salt })).toBe(value)
    },
  )

  it.each([
    [0, '0'],
    [61, 'z'],
    [62, '10'],
    [T0, '1vb66i'],
  ])('encodes %d seconds as base62 %j, as Django', (n, text) => {
    expect(b62Encode(n)).toBe(text)
  })
})

describe('signer.unsign() against tampering', () => {
  const good = 'hello:1vb66i:-OUa-Z3kDn46gHPVnIaZVTQam7FU1PIUwvBKDjmfoQA'
  const opts = { purpose: 'cookie:signed', salt: 'demo' }
  const sig = good.slice(good.lastIndexOf(':') + 1)

  it('accepts the untouched value', async () => {
    expect(await clocked({ secret: SECRET }).signer.unsign(good, opts)).toBe('hello')
  })

  it.each([
    ['the value changed', good.replace('hello', 'hellp'), 'mismatch'],
    ['the value emptied', good.replace('hello', ''), 'mismatch'],
    ['a character prepended', `x${good}`, 'mismatch'],
    ['the timestamp changed', good.replace('1vb66i', '1vb66j'), 'mismatch'],
    ['the timestamp padded', good.replace('1vb66i', '01vb66i'), 'mismatch'],
    ['a signature character changed', good.replace(sig, `B${sig.slice(1)}`), 'mismatch'],
    [
      'the signature of another secret',
      'hello:1vb66i:9WdOm8XDdeY4oS9R0a7lkS9DvG89lVjJ2XDHq-8HMhY',
      'mismatch',
    ],
    ['the signature truncated by one', good.slice(0, -1), 'malformed'],
    ['the signature removed', good.slice(0, good.lastIndexOf(':')), 'malformed'],
    ['the signature and separator removed', 'hello:1vb66i', 'malformed'],
    ['trailing data', `${good}x`, 'malformed'],
    ['a trailing separator', `${good}:`, 'malformed'],
    ['trailing data after a separator', `${good}:x`, 'malformed'],
    ['base64 padding added', `${good}=`, 'malformed'],
    // "A" and "B" as last character decode to the same 32 bytes: only the canonical one counts.
    ['a non-canonical last signature character', `${good.slice(0, -1)}B`, 'malformed'],
    ['standard base64 instead of base64url', good.replace(/-/g, '+'), 'malformed'],
    ['no timestamp', `hello:${sig}`, 'malformed'],
    ['a timestamp that is not base62', good.replace('1vb66i', '1vb-6i'), 'malformed'],
    ['nothing', '', 'malformed'],
    ['no separator at all', 'hello', 'malformed'],
    ["hono/cookie's format", 'hello.kqJ5cBmv1rOoqa/oDY6aLEwd0GxhLfO0bB2B+X+pzjo=', 'malformed'],
  ])('refuses %s (%s)', async (_what, tampered, reason) => {
    const error = await rejection(clocked({ secret: SECRET }).signer.unsign(tampered, opts))
    expect(error.reason).toBe(reason)
    expect(error.code).toBe('BAD_SIGNATURE')
    expect(error.status).toBe(400)
    expect(error).toBeInstanceOf(SessionError)
    expect(error).not.toBeInstanceOf(SignatureExpiredError)
  })

  it('checks signatures with crypto.subtle.verify', async () => {
    const verify = vi.spyOn(crypto.subtle, 'verify')
    await clocked({ secret: SECRET }).signer.unsign(good, opts)
    expect(verify).toHaveBeenCalledTimes(1)
    expect(verify.mock.calls[0]?.[0]).toBe('HMAC')
  })

  it('keeps ":" inside the value (split from the right, as Django)', async () => {
    const { signer } = clocked({ secret: SECRET })
    const signed = await signer.sign('a:b::c:')
    expect(await signer.unsign(signed)).toBe('a:b::c:')
  })
})

describe('purpose and salt binding', () => {
  it.each([
    // [signed for purpose, salt] -> [read as purpose, salt]
    [
      ['a', 'bc'],
      ['ab', 'c'],
    ], // Django's CVE-2026-6873: "a"+"bc" == "ab"+"c"
    [
      ['ab', 'c'],
      ['a', 'bc'],
    ],
    [
      ['', 'abc'],
      ['abc', ''],
    ],
    [
      ['a|1:b', ''],
      ['a', 'b'],
    ],
    [
      ['cookie:a', 'x'],
      ['cookie:b', 'x'],
    ], // a value copied under another cookie name
    [
      ['cookie:a', 'x'],
      ['cookie:a', 'y'],
    ],
    [
      ['cookie:a', ''],
      ['cookie:a', 'x'],
    ],
    [
      ['1:a', ''],
      ['a', ''],
    ],
  ])(
    'a value signed for %j never verifies for %j',
    async ([purpose, salt], [otherPurpose, otherSalt]) => {
      const { signer } = clocked({ secret: SECRET })
      const signed = await signer.sign('v', { purpose, salt })
      expect(await signer.unsign(signed, { purpose, salt })).toBe('v')
      const error = await rejection(
        signer.unsign(signed, { purpose: otherPurpose, salt: otherSalt }),
      )
      expect(error.reason).toBe('mismatch')
    },
  )

  it('refuses text with a lone surrogate, which UTF-8 cannot carry faithfully', async () => {
    const { signer } = clocked({ secret: SECRET })
    await expect(signer.sign('\uD800')).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    await expect(signer.sign('v', { salt: '\uDC00' })).rejects.toMatchObject({
      code: 'INVALID_VALUE',
    })
    const signed = await signer.sign('\uFFFD')
    const error = await rejection(signer.unsign(signed.replace('\uFFFD', '\uD800')))
    expect(error.reason).toBe('malformed')
  })
})

describe('maxAge', () => {
  it.each([
    [0, 0, true],
    [10, 10, true], // Django: expired only when age > max_age
    [11, 10, false],
    [86400 * 14 + 1, 86400 * 14, false],
    [5, 4.5, false],
  ])('a value %d s old with maxAge %d verifies: %s', async (age, maxAge, ok) => {
    const { signer, clock } = clocked({ secret: SECRET })
    const signed = await signer.sign('v')
    clock.s += age
    if (ok) {
      expect(await signer.unsign(signed, { maxAge })).toBe('v')
    } else {
      const error = await rejection(signer.unsign(signed, { maxAge }))
      expect(error).toBeInstanceOf(SignatureExpiredError)
      expect(error).toMatchObject({
        code: 'SIGNATURE_EXPIRED',
        reason: 'expired',
        age,
        maxAge,
        status: 400,
      })
    }
  })

  it('has no limit without maxAge', async () => {
    const { signer, clock } = clocked({ secret: SECRET })
    const signed = await signer.sign('v')
    clock.s += 10 * 365 * 86400
    expect(await signer.unsign(signed)).toBe('v')
  })

  it('checks the signature before the age: a tampered old value is a bad signature', async () => {
    const { signer, clock } = clocked({ secret: SECRET })
    const signed = await signer.sign('v')
    clock.s += 100
    const error = await rejection(signer.unsign(`w${signed.slice(1)}`, { maxAge: 10 }))
    expect(error.reason).toBe('mismatch')
    expect(error).not.toBeInstanceOf(SignatureExpiredError)
  })

  it.each([-1, Number.NaN, Infinity])('refuses maxAge %d with INVALID_OPTION', async (maxAge) => {
    const { signer } = clocked({ secret: SECRET })
    await expect(signer.unsign(await signer.sign('v'), { maxAge })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    })
  })
})

describe('secret rotation', () => {
  it('verifies a value of the old secret while it is listed, and says it is rotated', async () => {
    const old = clocked({ secret: SECRET }).signer
    const signed = await old.sign('v', { purpose: 'p' })
    const rotating = clocked({ secret: SECRET_2, fallbacks: [SECRET] }).signer
    expect(await rotating.verify(signed, { purpose: 'p' })).toEqual({
      value: 'v',
      timestamp: T0,
      rotated: true,
    })
  })

  it('refuses it once the old secret is removed', async () => {
    const signed = await clocked({ secret: SECRET }).signer.sign('v')
    const error = await rejection(clocked({ secret: SECRET_2 }).signer.unsign(signed))
    expect(error.reason).toBe('mismatch')
  })

  it('signs with the first secret only', async () => {
    const rotating = clocked({ secret: SECRET_2, fallbacks: [SECRET] }).signer
    const current = clocked({ secret: SECRET_2 }).signer
    const signed = await rotating.sign('v')
    expect(signed).toBe(await current.sign('v'))
    expect(await current.verify(signed)).toMatchObject({ rotated: false })
  })

  it('re-signs with the current secret and the original timestamp', async () => {
    const signed = await clocked({ secret: SECRET }).signer.sign('v', { salt: 's' })
    const { signer: rotating, clock } = clocked({ secret: SECRET_2, fallbacks: [SECRET] })
    clock.s += 500
    const verified = await rotating.verify(signed, { salt: 's' })
    const fresh = await rotating.sign(verified.value, { salt: 's', timestamp: verified.timestamp })
    const current = clocked({ secret: SECRET_2 }, T0 + 500).signer
    expect(await current.verify(fresh, { salt: 's' })).toEqual({
      value: 'v',
      timestamp: T0,
      rotated: false,
    })
    // It grew no younger: still 500 s old.
    await expect(current.unsign(fresh, { salt: 's', maxAge: 499 })).rejects.toBeInstanceOf(
      SignatureExpiredError,
    )
  })
})

describe('timestampSigner()', () => {
  it.each([
    [{ secret: 'x'.repeat(31) }, 'option "secret" must be at least 32 bytes (it is 31)'],
    [{ secret: '' }, 'option "secret" must be at least 32 bytes (it is 0)'],
    [
      { secret: SECRET, fallbacks: [SECRET_2, 'short'] },
      'option "fallbacks[1]" must be at least 32 bytes (it is 5)',
    ],
    [{ secret: undefined as unknown as string }, 'option "secret" must be a string'],
    [
      { secret: SECRET, fallbacks: 'nope' as unknown as string[] },
      'option "fallbacks" must be an array',
    ],
  ])('refuses %j, naming the option', (options, message) => {
    let error: unknown
    try {
      timestampSigner(options)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(SessionError)
    expect(error).toMatchObject({ code: 'INVALID_OPTION' })
    expect((error as Error).message).toContain(message)
  })

  it.each([
    ['x'.repeat(32), 'exactly 32 ASCII bytes'],
    ['€'.repeat(11), '11 characters, 33 UTF-8 bytes'],
  ])('accepts %j (%s)', (secret) => {
    expect(() => timestampSigner({ secret })).not.toThrow()
  })

  it('imports each secret once for the isolate, however many signers and calls', async () => {
    const importKey = vi.spyOn(crypto.subtle, 'importKey')
    const fresh = `a secret no other test uses: ${crypto.randomUUID()}`
    for (let i = 0; i < 5; i++) {
      const signer = timestampSigner({ secret: fresh })
      await signer.unsign(await signer.sign(`v${i}`))
    }
    expect(importKey.mock.calls.filter((call) => call[0] === 'raw')).toHaveLength(1)
  })
})
