// The expiry rules as pure functions: plain numbers in, plain numbers out; no Hono, no store.
import { describe, expect, it } from 'vitest'
import { SessionError } from '../src/session'
import { MAX_COOKIE_AGE } from '../src/session/foundation/cookie-grammar'
import {
  expiresAtBrowserClose,
  expiryAge,
  expiryDate,
  rollingDue,
  toExpirySetting,
  type ExpiryPolicy,
} from '../src/session/core/expiry'

const NOW = Date.parse('2026-01-01T00:00:00Z')
const policy = (over: Partial<ExpiryPolicy> = {}): ExpiryPolicy => ({
  maxAge: 1209600,
  expireAtBrowserClose: false,
  rolling: null,
  absoluteMaxAge: null,
  ...over,
})

describe('toExpirySetting()', () => {
  it.each([
    [null, null],
    [30, { age: 30 }],
    [30.9, { age: 30 }],
    [0, { age: 0 }],
    [new Date(NOW + 5000), { at: NOW + 5000 }],
  ])('turns %j into %j', (value, setting) => {
    expect(toExpirySetting(value, NOW)).toEqual(setting)
  })

  it.each([
    [-1],
    [Number.NaN],
    [Number.POSITIVE_INFINITY],
    ['60'],
    [new Date(Number.NaN)],
    [MAX_COOKIE_AGE + 1],
    [new Date(NOW + (MAX_COOKIE_AGE + 1) * 1000)],
  ])('refuses %j with INVALID_EXPIRY', (value) => {
    expect(() => toExpirySetting(value, NOW)).toThrow(SessionError)
    try {
      toExpirySetting(value, NOW)
    } catch (error) {
      expect((error as SessionError).code).toBe('INVALID_EXPIRY')
    }
  })

  it('accepts exactly 400 days ahead, as an age or a date', () => {
    expect(toExpirySetting(MAX_COOKIE_AGE, NOW)).toEqual({ age: MAX_COOKIE_AGE })
    expect(toExpirySetting(new Date(NOW + MAX_COOKIE_AGE * 1000), NOW)).toEqual({
      at: NOW + MAX_COOKIE_AGE * 1000,
    })
  })
})

describe('expiryAge() and expiryDate()', () => {
  it.each([
    ['the default', null, 1209600],
    ['an age', { age: 30 }, 30],
    ['browser close (its server-side life is maxAge)', { age: 0 }, 1209600],
    ['a date 90.5 s ahead (floored)', { at: NOW + 90_500 }, 90],
    ['a date that has passed (negative)', { at: NOW - 2000 }, -2],
  ])('for %s', (_what, setting, age) => {
    expect(expiryAge(setting, policy(), NOW)).toBe(age)
  })

  it('dates a fixed instant exactly, and everything else from now', () => {
    expect(expiryDate({ at: NOW + 90_500 }, policy(), NOW)).toBe(NOW + 90_500)
    expect(expiryDate({ age: 30 }, policy(), NOW)).toBe(NOW + 30_000)
    expect(expiryDate(null, policy({ maxAge: 60 }), NOW)).toBe(NOW + 60_000)
  })
})

describe('expiresAtBrowserClose()', () => {
  it.each([
    [null, false, false],
    [null, true, true],
    [{ age: 0 }, false, true],
    [{ age: 30 }, true, false],
    [{ at: NOW + 1000 }, true, false],
  ])('setting %j with expireAtBrowserClose %s: %s', (setting, option, expected) => {
    expect(expiresAtBrowserClose(setting, policy({ expireAtBrowserClose: option }))).toBe(expected)
  })
})

describe('rollingDue()', () => {
  const rolling = policy({ maxAge: 3600, rolling: { threshold: 0.25, minInterval: 60 } })
  const savedAt = (msAgo: number): number => NOW - msAgo + 3600_000 // expiresAt of a save msAgo ago

  it('is never due without rolling, or for a fixed date', () => {
    expect(rollingDue(null, policy({ maxAge: 3600 }), NOW, savedAt(3000_000))).toBe(false)
    expect(rollingDue({ at: NOW + 60_000 }, rolling, NOW, NOW + 60_000)).toBe(false)
  })

  it('is due once the threshold share of the lifetime has passed', () => {
    expect(rollingDue(null, rolling, NOW, savedAt(899_000))).toBe(false)
    expect(rollingDue(null, rolling, NOW, savedAt(900_000))).toBe(true)
  })

  it('waits at least minInterval seconds, whatever the threshold says', () => {
    const short = policy({ maxAge: 100, rolling: { threshold: 0.25, minInterval: 60 } })
    const expiresAt = (msAgo: number): number => NOW - msAgo + 100_000
    expect(rollingDue(null, short, NOW, expiresAt(59_000))).toBe(false)
    expect(rollingDue(null, short, NOW, expiresAt(60_000))).toBe(true)
  })

  it('rolls a custom age over that age, not over maxAge', () => {
    expect(rollingDue({ age: 600 }, rolling, NOW, NOW - 150_000 + 600_000)).toBe(true)
    expect(rollingDue({ age: 600 }, rolling, NOW, NOW - 149_000 + 600_000)).toBe(false)
  })
})
