/**
 * @module
 * Login throttling in the user's Durable Object: failed password checks counted per user
 * name over a sliding window, and the lock the N-th of them starts. Each check and the
 * write it guards run in one synchronous stretch of SQL, so parallel failures are counted
 * one after another and never admit more than N.
 */
import { SessionError } from '../../foundation/errors.js'
import type { SessionEvent } from '../events.js'
import type { CountingSql } from './sql.js'

/** How many failures lock a user name, and for how long. */
export interface ThrottleLimits {
  /** The failures within `windowMs` that start a lock. */
  readonly failures: number
  /** The sliding window failures are counted in, and how long a lock lasts, in ms. */
  readonly windowMs: number
}

/**
 * `durableObjectStore({ loginThrottle })`'s defaults: 5 failures within 15 minutes lock the
 * user name for 15 minutes (docs/security.md says why).
 */
export const DEFAULT_THROTTLE: ThrottleLimits = { failures: 5, windowMs: 900_000 }

/** What a failure did: counted (and maybe started a lock), or refused because a lock holds. */
export type Failure =
  | { readonly kind: 'counted'; readonly lockedFor: number | null }
  | { readonly kind: 'locked'; readonly retryAfter: number }

/** Whole seconds until `until`, at least 1 (a `Retry-After` of 0 would invite a retry that fails). */
const secondsUntil = (until: number, now: number): number =>
  Math.max(1, Math.ceil((until - now) / 1000))

/** Whether `events` prove the password (a login, a re-authentication): a lock refuses them, and they reset the count. */
export const provesPassword = (events: readonly SessionEvent[]): boolean =>
  events.some((event) => event.type === 'login' || event.type === 'reauthenticated')

/** The refusal of a login (or a failure reported) while the user name's logins are locked. */
export const loginThrottled = (retryAfter: number): SessionError =>
  new SessionError(
    'LOGIN_THROTTLED',
    `Too many failed logins for this user; try again in ${retryAfter} s.`,
    { retryAfter },
  )

/** The failures and locks of the user names of one object (a user's object holds one name's). */
export class Throttle {
  readonly #sql: CountingSql

  constructor(sql: CountingSql) {
    this.#sql = sql
  }

  /** Seconds until `user`'s lock ends, or `null` when it holds none (a read, no write). */
  retryAfter(user: string, now: number): number | null {
    const until = this.#row(user)?.locked_until ?? 0
    return until > now ? secondsUntil(until, now) : null
  }

  /**
   * Counts a failed password check of `user` at `now`: refused (`locked`, nothing written)
   * while a lock holds; otherwise noted, and the `limits.failures`-th failure within the
   * window starts a lock of `limits.windowMs` from now (`lockedFor`, in seconds). With
   * `limits` `null` nothing is counted and nothing locks.
   */
  fail(user: string, now: number, limits: ThrottleLimits | null): Failure {
    const row = this.#row(user)
    if (limits === null) {
      if (row !== undefined) this.reset(user)
      return { kind: 'counted', lockedFor: null }
    }
    if (row !== undefined && row.locked_until > now) {
      return { kind: 'locked', retryAfter: secondsUntil(row.locked_until, now) }
    }
    // Sliding: only the failures of the last window count, whenever they happened.
    const since = now - limits.windowMs
    const recent = parseTimes(row?.failures).filter((at) => at > since)
    recent.push(now)
    const locks = recent.length >= limits.failures
    // A lock starts counting afresh: every failure that started it is older than the lock's end.
    const failures = locks ? [] : recent
    const lockedUntil = locks ? now + limits.windowMs : 0
    this.#sql.run(
      'INSERT OR REPLACE INTO login_failures (user, failures, locked_until) VALUES (?, ?, ?)',
      user,
      JSON.stringify(failures),
      lockedUntil,
    )
    return { kind: 'counted', lockedFor: locks ? secondsUntil(lockedUntil, now) : null }
  }

  /** Forgets `user`'s failures and lock (a successful login): a row write only when there were any. */
  reset(user: string): void {
    this.#sql.run('DELETE FROM login_failures WHERE user = ?', user)
  }

  #row(user: string): { failures: string; locked_until: number } | undefined {
    return this.#sql.query<{ failures: string; locked_until: number }>(
      'SELECT failures, locked_until FROM login_failures WHERE user = ?',
      user,
    )[0]
  }
}

/** The failure times a row holds; a value written by hand reads as none. */
function parseTimes(text: string | undefined): number[] {
  if (text === undefined) return []
  try {
    const times: unknown = JSON.parse(text)
    return Array.isArray(times) ? times.filter((t): t is number => typeof t === 'number') : []
  } catch {
    return []
  }
}
