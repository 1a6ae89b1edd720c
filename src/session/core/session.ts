/**
 * @module
 * The Session object: one request's view of its session, Django's `SessionBase` in
 * camelCase, and the user's side of it (login, re-authentication, "your sessions",
 * sockets). Its state and that state's rules live in `state.ts`, expiry rules in
 * `expiry.ts`, login and the auth hash in `auth.ts`, the registry calls in `registry.ts`,
 * and what happens after the handler in `commit.ts`.
 */
import type { Context } from 'hono'
import { readRawCookie } from '../cookies/helpers.js'
import { SessionError } from '../foundation/errors.js'
import { expiresAtBrowserClose, expiryAge, expiryDate, toExpirySetting } from './expiry.js'
import { assertJsonValue } from '../stores/record.js'
import type { SessionEvent } from '../stores/events.js'
import type { ListSessionsOptions, SecurityEventsOptions } from '../stores/list-page.js'
import type { SessionData, SessionInfo } from '../stores/types.js'
import { confirmAuthentication, login, requireFreshAuth, updateAuthHash } from './auth.js'
import { destroyTokens } from './destroy.js'
import { type ImpersonateOptions, impersonate, stopImpersonating } from './impersonation.js'
import { loginFailed } from './login-failed.js'
import {
  countSessions,
  listSessions,
  revokeAllSessions,
  revokeOtherSessions,
  revokeSession,
  securityEvents,
} from './registry.js'
import { acceptWebSocket } from './sockets.js'
import { emptyData, type SessionState } from './state.js'

/** Value of the test cookie (Django's `TEST_COOKIE_VALUE`). */
export const TEST_COOKIE_VALUE = 'worked'

/**
 * One request's view of a session. Get it with `c.get('session')` after the
 * {@link session} middleware. Every data method is async: the session is read from its
 * store on first use, at most once per request, and never when it is not used.
 *
 * @example
 * ```ts
 * const s = c.get('session')
 * const hits = ((await s.get('hits')) ?? 0) + 1
 * await s.set('hits', hits)
 * ```
 */
export class Session<Data extends object = SessionData> {
  readonly #s: SessionState

  /** Made by the {@link session} middleware, one per request; not for direct use. */
  constructor(state: SessionState) {
    this.#s = state
  }

  // ----- state flags --------------------------------------------------------

  /** Whether the handler used the session (responses then carry `Vary: Cookie`). */
  get accessed(): boolean {
    return this.#s.accessed
  }

  /** Whether the session will be saved at the end of the request. */
  get modified(): boolean {
    return this.#s.modified
  }

  /**
   * `true` when the store could not be read. The session then reads as empty, refuses
   * writes with `SessionError` `STORE_UNAVAILABLE`, and the client's cookie is left
   * exactly as it is, so nothing is lost; answer 503 and let the client retry.
   */
  get unavailable(): boolean {
    return this.#s.unavailable
  }

  /**
   * Marks the session as modified, for when a stored object was changed in place
   * (`(await s.get('cart')).push(item)`), as Django's `session.modified = True`.
   */
  markModified(): void {
    // Which key changed is unknown: a store that merges must take the whole data.
    this.#s.markModified()
  }

  // ----- data (Django's dict interface) -------------------------------------

  /**
   * The value stored under `key`, or `defaultValue` (default `undefined`). With a
   * default, the result is the key's type or the default's, never `undefined` from
   * a missing key (Django's `session.get(key, default)`).
   *
   * @example
   * ```ts
   * const user = await c.get('session').get('username', 'anonymous') // string
   * ```
   */
  async get<K extends keyof Data & string>(key: K): Promise<Data[K] | undefined>
  async get<K extends keyof Data & string, D>(
    key: K,
    defaultValue: D,
  ): Promise<Exclude<Data[K], undefined> | D>
  async get(key: string, defaultValue?: unknown): Promise<unknown> {
    const data = this.#s.peek() ?? (await this.#s.read())
    return key in data ? data[key] : defaultValue
  }

  /**
   * Stores `value` under `key`. The value must survive JSON unchanged (`SessionError`
   * `INVALID_VALUE` otherwise) and keep the session under `maxPayloadBytes`
   * (`PAYLOAD_TOO_LARGE`). Rejects with `STORE_UNAVAILABLE` when the store could not
   * be read, rather than overwrite a session it could not see. `undefined` is not a
   * value (JSON drops it), so an optional key takes its type without `undefined`:
   * remove a key with {@link delete}.
   */
  async set<K extends keyof Data & string>(
    key: K,
    value: Exclude<Data[K], undefined>,
  ): Promise<void> {
    if (typeof key !== 'string')
      throw new SessionError('INVALID_VALUE', 'session.set(): keys must be strings')
    assertJsonValue(value, key)
    if (this.#s.peekWritable() === null) await this.#s.write()
    this.#s.set(key, value)
  }

  /** Removes `key`; resolves whether it was there. */
  async delete(key: keyof Data & string): Promise<boolean> {
    const data = await this.#s.write()
    if (!(key in data)) return false
    this.#s.remove(key)
    return true
  }

  /**
   * Removes `key` and resolves its value, or `defaultValue` (Django's `pop`); with a
   * default, never `undefined` from a missing key.
   */
  async pop<K extends keyof Data & string>(key: K): Promise<Data[K] | undefined>
  async pop<K extends keyof Data & string, D>(
    key: K,
    defaultValue: D,
  ): Promise<Exclude<Data[K], undefined> | D>
  async pop(key: string, defaultValue?: unknown): Promise<unknown> {
    const data = await this.#s.write()
    if (!(key in data)) return defaultValue
    const value = data[key]
    this.#s.remove(key)
    return value
  }

  /** Whether `key` is stored. */
  async has(key: string): Promise<boolean> {
    return key in (await this.#s.read())
  }

  /** The stored keys. */
  async keys(): Promise<string[]> {
    return Object.keys(await this.#s.read())
  }

  /** The stored values. */
  async values(): Promise<unknown[]> {
    return Object.values(await this.#s.read())
  }

  /** The stored `[key, value]` pairs. */
  async entries(): Promise<[string, unknown][]> {
    return Object.entries(await this.#s.read())
  }

  /**
   * A plain copy of all data (a null-prototype object). Typed `Partial<Data>`: a session
   * holds only the keys stored so far (a new one holds none), whatever `Data` requires.
   */
  async toObject(): Promise<Partial<Data>> {
    return Object.assign(emptyData(), await this.#s.read()) as Partial<Data>
  }

  /**
   * Removes every key and the custom expiry (Django's `clear()`, whose data holds the
   * expiry). An emptied session's record and cookie are deleted at the end of the request.
   */
  async clear(): Promise<void> {
    // Read first: a delete costs as much as a write, and an unknown id needs none.
    await this.#s.write()
    this.#s.empty()
  }

  /**
   * Whether the session holds nothing: no data and no custom expiry (Django's
   * `is_empty()`, whose data holds the expiry). An empty session is not stored, and its
   * cookie is deleted at the end of the request.
   */
  async isEmpty(): Promise<boolean> {
    await this.#s.read()
    return this.#s.isEmpty()
  }

  // ----- keys -----------------------------------------------------------------

  /**
   * Deletes the data and the stored record at once, and starts a new empty session;
   * the client's cookie is deleted on the response (Django's `flush()`, used to log out).
   * If the store fails to delete, the cookie is still deleted and the delete is retried
   * in the background (`waitUntil`).
   */
  async flush(): Promise<void> {
    // Read first, so that only a record that exists is deleted (a forged id costs one
    // read, never a billed delete). If the read fails, the delete is still attempted:
    // logging out must revoke.
    await this.#s.read()
    // Logging out of an impersonation ends it, then the operator's own session.
    if (this.#s.impersonator !== null) await stopImpersonating(this.#s)
    await destroyTokens(this.#s, this.#s.flush())
  }

  /**
   * Moves the data to a new key; the old one stops working when the response is sent
   * (Django's `cycle_key()`, used at login against session fixation). The new record is
   * written before the old one is deleted, so a failed write loses nothing.
   */
  async cycleKey(): Promise<void> {
    await this.#s.write()
    this.#s.moveToNewKey()
  }

  // ----- expiry ---------------------------------------------------------------

  /**
   * Sets the session's expiry (Django's `set_expiry()`): a number of seconds of
   * inactivity (fractions truncated; `0` = when the browser closes), a `Date`, or `null`
   * for the default (`maxAge`, or browser close if `expireAtBrowserClose`); `null` on a
   * session without a custom expiry changes nothing (no write, no cookie), as in Django.
   * Anything else, or more than 400 days ahead, is a `SessionError` `INVALID_EXPIRY`.
   */
  async setExpiry(value: number | Date | null): Promise<void> {
    const setting = toExpirySetting(value, this.#s.now())
    await this.#s.write()
    // Django deletes `_session_expiry` here, and a KeyError leaves the session unmodified.
    this.#s.setExpiry(setting)
  }

  /** Seconds until the session expires, counted from now (Django's `get_expiry_age()`). */
  async getExpiryAge(): Promise<number> {
    await this.#s.read()
    const now = this.#s.now()
    return expiryAge(this.#s.expiry, this.#s.options, now, this.#s.createdAt ?? now)
  }

  /** When the session expires if it is saved now (Django's `get_expiry_date()`). */
  async getExpiryDate(): Promise<Date> {
    await this.#s.read()
    const now = this.#s.now()
    return new Date(expiryDate(this.#s.expiry, this.#s.options, now, this.#s.createdAt ?? now))
  }

  /** Whether the cookie ends when the browser closes (Django's `get_expire_at_browser_close()`). */
  async getExpireAtBrowserClose(): Promise<boolean> {
    await this.#s.read()
    return expiresAtBrowserClose(this.#s.expiry, this.#s.options)
  }

  // ----- test cookie -------------------------------------------------------------

  /**
   * Sets the test cookie (Django's `set_test_cookie()`). It is a cookie of its own,
   * not session data, so testing cookie support costs no storage at all.
   */
  setTestCookie(): void {
    this.#s.setTestCookie('set')
  }

  /** Whether the browser sent the test cookie back (Django's `test_cookie_worked()`). */
  testCookieWorked(): boolean {
    this.#s.markAccessed()
    return (
      readRawCookie(this.#s.c.req.raw.headers.get('Cookie'), this.#s.options.testCookieName) ===
      TEST_COOKIE_VALUE
    )
  }

  /** Deletes the test cookie (Django's `delete_test_cookie()`). */
  deleteTestCookie(): void {
    this.#s.setTestCookie('delete')
  }

  // ----- the user (Django's login() and update_session_auth_hash()) -------------------

  /**
   * Logs `user` in (Django's `login()`): `cycleKey()` against session fixation, the user id
   * kept beside the data (not in it), bound to the user's verifier when `session({ authHash })`
   * is set, and the absolute lifetime (`absoluteMaxAge`) starting now. A session bound to
   * another user is emptied first. Log out with `flush()`.
   *
   * @example
   * ```ts
   * if (await checkPassword(name, password)) await c.get('session').login(userId)
   * ```
   */
  async login(user: string): Promise<void> {
    await login(this.#s, user)
  }

  /**
   * Reports a failed password check for the user name `user` (Django's `user_login_failed`),
   * whether or not it exists; the session itself is untouched. The Durable Object store
   * records `login-failed` in the user's trail and throttles (`durableObjectStore({
   * loginThrottle })`): after too many failures within its window, this and `login()` for
   * the name are refused with `SessionError` `LOGIN_THROTTLED` (429, `retryAfter`). On
   * the KV and cookie stores only `onEvent` hears of it: nothing is throttled.
   *
   * @example
   * ```ts
   * if (!(await checkPassword(name, password))) {
   *   await c.get('session').loginFailed(name)
   *   return c.json({ error: 'Wrong user name or password' }, 401)
   * }
   * await c.get('session').login(name)
   * ```
   */
  async loginFailed(user: string): Promise<void> {
    await loginFailed(this.#s, user)
  }

  /** The user the session is bound to by {@link Session.login}, or `null`. */
  async getUser(): Promise<string | null> {
    await this.#s.read()
    return this.#s.auth?.user ?? null
  }

  /**
   * Why the session this request's cookie named has ended, when the store knows it:
   * `'reused'` when its cookie was used from another device after a rotation
   * (`session({ rotation })`: the session was ended as theft, on this request or an earlier
   * one), else `null`. For a page that tells the user why they were logged out.
   * @example `if ((await c.get('session').endedBy()) === 'reused') warn('Your cookie was used elsewhere')`
   */
  async endedBy(): Promise<'reused' | null> {
    await this.#s.read()
    return this.#s.endedBy
  }

  /**
   * Whether this browser registered a key for the session (`session({ deviceBound })`, DBSC).
   * @example `if (await c.get('session').isDeviceBound()) showBadge()`
   */
  async isDeviceBound(): Promise<boolean> {
    await this.#s.read()
    return Boolean(this.#s.device?.jwk)
  }

  /**
   * Keeps this session logged in after the user's credentials changed (Django's
   * `update_session_auth_hash()`): a new key, bound to the new verifier, while every
   * other session of the user reads as logged out on its next request. Needs `authHash`.
   */
  async updateAuthHash(): Promise<void> {
    await updateAuthHash(this.#s)
  }

  /** Records that the user just proved who they are again (password, passkey): a new key, the last authentication now. */
  async confirmAuthentication(): Promise<void> {
    await confirmAuthentication(this.#s)
  }

  /** Throws `REAUTHENTICATION_REQUIRED` (403) if the last `login()`/`confirmAuthentication()` is over `maxAge` s old. */
  async requireFreshAuth(maxAge: number): Promise<void> {
    await requireFreshAuth(this.#s, maxAge)
  }

  /**
   * Acts as `user` (support staff seeing the app as the user sees it): from this response
   * on, the session is one of `user`'s, listed in their sessions with `impersonator`, until
   * `stopImpersonating()`, its time limit (`maxAge`, default 1800 s), the operator's own
   * session ending, or the user ending it; then the next request is the operator's own
   * session again (the same handle, a new key). Needs a `reason` (recorded with the start
   * and the end in both users' trails) and a fresh authentication (`freshness`, default
   * 600 s: else `REAUTHENTICATION_REQUIRED`). It does not count against `maxSessionsPerUser`.
   * While it lasts, what must stay the user's own is refused with `IMPERSONATING` (403):
   * `requireFreshAuth()`, `confirmAuthentication()`, `updateAuthHash()`, `login()`, and the
   * revocations. Durable Objects only: elsewhere `NOT_SUPPORTED`. Who may impersonate is the
   * app's decision: check it before calling.
   *
   * @example
   * ```ts
   * if (!admins.has(await s.getUser())) return c.json({ error: 'Forbidden' }, 403)
   * await s.impersonate(username, { reason: 'ticket #4521' })
   * ```
   */
  async impersonate(user: string, options: ImpersonateOptions): Promise<void> {
    await impersonate(this.#s, user, options)
  }

  /**
   * Ends the impersonation this session is: the operator's own session again, under its
   * handle (or none, logged out, when it ended meanwhile). Resolves whether it was one.
   * @example `if (await s.stopImpersonating()) return c.redirect('/admin')`
   */
  async stopImpersonating(): Promise<boolean> {
    return stopImpersonating(this.#s)
  }

  /**
   * The operator acting as the user when the session is an impersonation, else `null`:
   * show a banner, refuse what must stay the user's own.
   * @example `const by = await s.impersonator() // 'ada' while Ada acts as this user`
   */
  async impersonator(): Promise<string | null> {
    await this.#s.read()
    return this.#s.impersonator
  }

  /** Accepts a WebSocket for this logged-in session (501 / 403 Origin / 401 refused first); see `core/sockets.ts`. */
  async acceptWebSocket(): Promise<Response> {
    return acceptWebSocket(this.#s)
  }

  /**
   * The logged-in user's sessions, newest first, the current one marked: at most `limit`
   * (default 100); the next page is `after` the last, e.g. `listSessions({ after: page.at(-1) })`.
   * Durable Objects only: elsewhere `SessionError` `NOT_SUPPORTED`; `NOT_LOGGED_IN` without `login()`.
   */
  async listSessions(options?: ListSessionsOptions): Promise<SessionInfo[]> {
    return listSessions(this.#s, options)
  }

  /** How many live sessions the logged-in user has (what {@link Session.listSessions} pages through). */
  async countSessions(): Promise<number> {
    return countSessions(this.#s)
  }

  /** Revokes one of the user's sessions by `handle`, at once for every device; resolves whether it existed. */
  async revokeSession(handle: string): Promise<boolean> {
    return revokeSession(this.#s, handle)
  }

  /** Revokes every other session of the user ("log out other devices"); resolves how many. */
  async revokeOtherSessions(): Promise<number> {
    return revokeOtherSessions(this.#s)
  }

  /** Revokes every session of the user, this one included ("log out everywhere"); resolves how many. */
  async revokeAllSessions(): Promise<number> {
    return revokeAllSessions(this.#s)
  }

  /**
   * A page of the logged-in user's security trail, newest first: logins (with
   * `newDevice`), logouts, revocations and who made them, failed and throttled logins
   * (docs/events.md). At most `limit` (default 100); the next page is `after` the last.
   * Durable Objects only: elsewhere `SessionError` `NOT_SUPPORTED`; `NOT_LOGGED_IN` without `login()`.
   */
  async securityEvents(options?: SecurityEventsOptions): Promise<SessionEvent[]> {
    return securityEvents(this.#s, options)
  }
}

/**
 * The request's {@link Session}, for a feature mounted after `session()`: `SessionError`
 * `MISSING_STORE`, naming `caller` and what to do, when the middleware is not installed.
 *
 * @example
 * ```ts
 * const session = sessionOf(c, 'freshAuth()')
 * ```
 */
export function sessionOf(c: Context, caller: string): Session {
  const session: unknown = c.get('session')
  if (!(session instanceof Session))
    throw new SessionError(
      'MISSING_STORE',
      `${caller}: no session on this request; install session() before it`,
    )
  return session
}
