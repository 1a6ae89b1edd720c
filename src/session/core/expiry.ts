/**
 * @module
 * Expiry arithmetic as pure functions of (setting, policy, clock): ages, dates, browser
 * close and sliding expiry. No Hono, no store: every rule is testable with plain numbers.
 */
import { MAX_COOKIE_AGE } from '../foundation/cookie-grammar.js'
import { SessionError } from '../foundation/errors.js'
import { expiresAtFor } from '../stores/record.js'
import type { ExpirySetting } from '../stores/types.js'

/** The options expiry depends on (a subset of the resolved `session()` options). */
export interface ExpiryPolicy {
  /** The default lifetime, in seconds (`SESSION_COOKIE_AGE`). */
  readonly maxAge: number
  /** Whether sessions without a custom expiry end when the browser closes. */
  readonly expireAtBrowserClose: boolean
  /** Sliding expiry, or `null` when off. */
  readonly rolling: { readonly threshold: number; readonly minInterval: number } | null
  /** The absolute lifetime in seconds, counted from creation (OWASP ASVS V7.3), or `null` for none. */
  readonly absoluteMaxAge: number | null
}

/**
 * Validates what `setExpiry()` was given and turns it into the stored setting (Django's
 * `set_expiry()`): seconds of inactivity (fractions truncated; `0` = until the browser
 * closes), a `Date`, or `null` for the default. Throws `SessionError` `INVALID_EXPIRY`
 * for anything else, and for more than 400 days ahead of `now`: browsers cap cookies
 * there and KV refuses far-off TTLs, so such an expiry could never be honoured.
 */
export function toExpirySetting(value: unknown, now: number): ExpirySetting {
  let setting: ExpirySetting
  if (value === null) return null
  if (value instanceof Date) {
    const at = value.getTime()
    if (Number.isNaN(at)) throw new SessionError('INVALID_EXPIRY', 'setExpiry(): invalid Date')
    setting = { at }
  } else if (typeof value === 'number' && Number.isFinite(value) && value >= 0) {
    setting = { age: Math.trunc(value) }
  } else {
    throw new SessionError('INVALID_EXPIRY', 'setExpiry(): expected seconds >= 0, a Date, or null')
  }
  const seconds = 'age' in setting ? setting.age : (setting.at - now) / 1000
  if (seconds > MAX_COOKIE_AGE) {
    throw new SessionError(
      'INVALID_EXPIRY',
      `setExpiry(): at most ${MAX_COOKIE_AGE} seconds (400 days) ahead`,
    )
  }
  return setting
}

/**
 * Seconds until a session saved at `now` expires (Django's `get_expiry_age()`): the
 * custom age, the seconds left until a fixed date (negative once it has passed), or the
 * policy's `maxAge` (also for `{ age: 0 }`, a browser-close session's server-side life);
 * never past the absolute lifetime of a session created at `createdAt`.
 */
export function expiryAge(
  setting: ExpirySetting,
  policy: ExpiryPolicy,
  now: number,
  createdAt: number | null = null,
): number {
  const age =
    setting === null
      ? policy.maxAge
      : 'age' in setting
        ? setting.age === 0
          ? policy.maxAge
          : setting.age
        : Math.floor((setting.at - now) / 1000)
  const end = absoluteEnd(policy, createdAt)
  return end === null ? age : Math.min(age, Math.floor((end - now) / 1000))
}

/** When a session saved at `now` expires, in ms since the epoch (Django's `get_expiry_date()`). */
export function expiryDate(
  setting: ExpirySetting,
  policy: ExpiryPolicy,
  now: number,
  createdAt: number | null = null,
): number {
  return expiresAtFor(setting, policy, now, createdAt)
}

/** When the absolute lifetime of a session created at `createdAt` ends, or `null` when there is none. */
export function absoluteEnd(policy: ExpiryPolicy, createdAt: number | null): number | null {
  return policy.absoluteMaxAge === null || createdAt === null
    ? null
    : createdAt + policy.absoluteMaxAge * 1000
}

/**
 * The creation time of a record written before records carried one: its last save,
 * recovered from its expiry (`expiresAt` minus the lifetime that save gave it). It can
 * only be later than the true creation, so an upgrade never ends a session early.
 */
export function legacyCreatedAt(
  setting: ExpirySetting,
  policy: ExpiryPolicy,
  expiresAt: number,
): number {
  const lifetime =
    setting !== null && 'age' in setting && setting.age > 0 ? setting.age : policy.maxAge
  return expiresAt - lifetime * 1000
}

/** Whether the cookie ends when the browser closes (Django's `get_expire_at_browser_close()`). */
export function expiresAtBrowserClose(setting: ExpirySetting, policy: ExpiryPolicy): boolean {
  if (setting === null) return policy.expireAtBrowserClose
  return 'age' in setting && setting.age === 0
}

/**
 * Whether a request that only read the session should save it again to extend its life
 * (`rolling`): at least `threshold` of its lifetime and `minInterval` seconds have passed
 * since the save that set `loadedExpiresAt`. A fixed date is never extended.
 */
export function rollingDue(
  setting: ExpirySetting,
  policy: ExpiryPolicy,
  now: number,
  loadedExpiresAt: number,
): boolean {
  const rolling = policy.rolling
  if (rolling === null) return false
  if (setting !== null && 'at' in setting) return false
  const lifetime = expiryAge(setting, policy, now) * 1000
  const elapsed = lifetime - (loadedExpiresAt - now)
  return elapsed >= rolling.threshold * lifetime && elapsed >= rolling.minInterval * 1000
}
