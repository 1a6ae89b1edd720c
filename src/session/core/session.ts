/**
 * @module
 * The Session object: one request's view of its session, Django's `SessionBase` in
 * camelCase. State lives in `state.ts`, expiry rules in `expiry.ts`, the user's side (login,
 * re-authentication, "your sessions", sockets) in `account.ts`, and what happens after the
 * handler in `commit.ts`.
 */
import type { Context } from 'hono'
import { readRawCookie } from '../cookies/helpers.js'
import { SessionError } from '../foundation/errors.js'
import { expiresAtBrowserClose, expiryAge, expiryDate, toExpirySetting } from './expiry.js'
import { assertJsonValue } from '../stores/record.js'
import { SessionAccount } from './account.js'
import { retire } from './auth.js'
import { emptyData, type SessionState } from './state.js'
import type { SessionData } from '../stores/types.js'

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
export class Session<Data extends object = SessionData> extends SessionAccount {
  readonly #s: SessionState

  /** Made by the {@link session} middleware, one per request; not for direct use. */
  constructor(state: SessionState) {
    super(state)
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
    this.#s.modified = true
    // Which key changed is unknown: a store that merges must take the whole data.
    this.#s.changes = null
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
    const data = this.#s.loaded() ?? (await this.#s.read())
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
    this.#s.put(this.#s.loaded(true) ?? (await this.#s.write()), key, value)
  }

  /** Removes `key`; resolves whether it was there. */
  async delete(key: keyof Data & string): Promise<boolean> {
    const data = await this.#s.write()
    if (!(key in data)) return false
    this.#s.remove(data, key)
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
    this.#s.remove(data, key)
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
  async toJSON(): Promise<Partial<Data>> {
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
    return this.#s.isEmpty(await this.#s.read())
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
    this.#s.empty()
    this.#s.unavailable = false
    this.#s.interrupted = null
    await this.#s.destroyAll()
  }

  /**
   * Moves the data to a new key; the old one stops working when the response is sent
   * (Django's `cycle_key()`, used at login against session fixation). The new record is
   * written before the old one is deleted, so a failed write loses nothing.
   */
  async cycleKey(): Promise<void> {
    await this.#s.write()
    retire(this.#s)
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
    if (setting === null && this.#s.expiry === null) return
    this.#s.expiry = setting
    this.#s.expiryChanged = this.#s.modified = true
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
    this.#s.testCookie = 'set'
  }

  /** Whether the browser sent the test cookie back (Django's `test_cookie_worked()`). */
  testCookieWorked(): boolean {
    this.#s.accessed = true
    return (
      readRawCookie(this.#s.c.req.raw.headers.get('Cookie'), this.#s.options.testCookieName) ===
      TEST_COOKIE_VALUE
    )
  }

  /** Deletes the test cookie (Django's `delete_test_cookie()`). */
  deleteTestCookie(): void {
    this.#s.testCookie = 'delete'
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
