/**
 * @module
 * The Session object: Django's `SessionBase` in camelCase, loaded lazily from its store.
 */
import type { Context } from 'hono'
import { deleteCookie, readRawCookie, setCookie, type CookieOptions } from './cookies.js'
import { SessionError } from './errors.js'
import { MAX_COOKIE_AGE, type ResolvedSessionOptions } from './options.js'
import { assertJsonValue, byteLength, encodeRecord } from './record.js'
import type { ExpirySetting, SessionData, SessionRecord, SessionStore } from './stores/types.js'

/** Value of the test cookie (Django's `TEST_COOKIE_VALUE`). */
export const TEST_COOKIE_VALUE = 'worked'

/** Key of the method the middleware calls after the handler; not part of the public API. */
export const COMMIT: unique symbol = Symbol('edge-session.commit')
/** Key of the getter telling the middleware whether {@link COMMIT} has work; not public. */
export const PENDING: unique symbol = Symbol('edge-session.pending')

/** What the middleware hands to a new {@link Session}. */
export interface SessionInit {
  /** Resolved options. */
  options: ResolvedSessionOptions
  /** The request's context (cookies are read from it; store resolved from it). */
  context: Context
}

const emptyData = (): SessionData => Object.create(null) as SessionData

/** Approximate serialised size of one entry: `"key":value,`. */
const entrySize = (key: string, value: unknown): number => byteLength(key) + byteLength(JSON.stringify(value)) + 4

/** The size of every entry of `data`. */
function sizesOf(data: SessionData): Map<string, number> {
  const sizes = new Map<string, number>()
  for (const key of Object.keys(data)) sizes.set(key, entrySize(key, data[key]))
  return sizes
}

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
export class Session<Data extends SessionData = SessionData> {
  readonly #options: ResolvedSessionOptions
  readonly #c: Context
  /** The clock, read once per request at first use (untouched requests never read it). */
  #nowMs: number | undefined
  #store: SessionStore | undefined
  /** Whether the request's session cookie has been read (lazily: untouched requests never do). */
  #cookieRead = false
  /** The raw session cookie the client sent, if any (valid or not). */
  #sentCookie: string | undefined
  /** The token the session is stored under now; `null` = none (new, flushed, cycled, or not adopted). */
  #token: string | null = null
  #data: SessionData | null = null
  #loading: Promise<void> | null = null
  #expiry: ExpirySetting = null
  /** `expiresAt` of the record as loaded, for sliding expiry. */
  #loadedExpiresAt: number | null = null
  /**
   * Approximate serialised size of each key, to refuse an oversized `set()` at once.
   * Filled at the first `set()`, so read-only requests never re-serialise the data.
   */
  #sizes: Map<string, number> | null = null
  /** Tokens whose records must be removed once the new state is safely written. */
  #retired: string[] = []
  #accessed = false
  #modified = false
  #unavailable = false
  #testCookie: 'set' | 'delete' | null = null

  constructor(init: SessionInit) {
    this.#options = init.options
    this.#c = init.context
  }

  /** This request's clock reading, in ms, fixed at first use. */
  #now(): number {
    return (this.#nowMs ??= this.#options.now())
  }

  /** Reads the session cookie once; only a value of the store's exact token format is kept. */
  #readCookie(): void {
    if (this.#cookieRead) return
    this.#cookieRead = true
    const sent = readRawCookie(this.#c.req.raw.headers.get('Cookie'), this.#options.cookieName)
    this.#sentCookie = sent
    this.#token = sent !== undefined && this.#getStore().isValidToken(sent) ? sent : null
  }

  /**
   * Whether the end of the request has anything to do; when not, the middleware skips
   * the commit entirely (the untouched fast path).
   * @internal
   */
  get [PENDING](): boolean {
    return this.#accessed || this.#testCookie !== null || this.#options.saveEveryRequest
  }

  // ----- state flags --------------------------------------------------------

  /** Whether the handler used the session (responses then carry `Vary: Cookie`). */
  get accessed(): boolean {
    return this.#accessed
  }

  /** Whether the session will be saved at the end of the request. */
  get modified(): boolean {
    return this.#modified
  }

  /**
   * `true` when the store could not be read. The session then reads as empty, refuses
   * writes with `SessionError` `STORE_UNAVAILABLE`, and the client's cookie is left
   * exactly as it is, so nothing is lost; answer 503 and let the client retry.
   */
  get unavailable(): boolean {
    return this.#unavailable
  }

  /**
   * Marks the session as modified, for when a stored object was changed in place
   * (`(await s.get('cart')).push(item)`), as Django's `session.modified = True`.
   */
  markModified(): void {
    this.#modified = true
  }

  // ----- data (Django's dict interface) -------------------------------------

  /**
   * The value stored under `key`, or `defaultValue` (default `undefined`).
   *
   * @example
   * ```ts
   * const user = await c.get('session').get('username', 'anonymous')
   * ```
   */
  async get<K extends keyof Data & string>(key: K): Promise<Data[K] | undefined>
  async get<K extends keyof Data & string>(key: K, defaultValue: Data[K]): Promise<Data[K]>
  async get(key: string, defaultValue?: unknown): Promise<unknown> {
    const data = await this.#read()
    return key in data ? data[key] : defaultValue
  }

  /**
   * Stores `value` under `key`. The value must survive JSON unchanged (`SessionError`
   * `INVALID_VALUE` otherwise) and keep the session under `maxPayloadBytes`
   * (`PAYLOAD_TOO_LARGE`). Rejects with `STORE_UNAVAILABLE` when the store could not
   * be read, rather than overwrite a session it could not see.
   */
  async set<K extends keyof Data & string>(key: K, value: Data[K]): Promise<void> {
    if (typeof key !== 'string') throw new SessionError('INVALID_VALUE', 'session.set(): keys must be strings')
    assertJsonValue(value, key)
    const size = entrySize(key, value)
    const data = await this.#write()
    const sizes = (this.#sizes ??= sizesOf(data))
    let total = size
    for (const [k, n] of sizes) if (k !== key) total += n
    if (total > this.#options.maxPayloadBytes) {
      throw new SessionError('PAYLOAD_TOO_LARGE', `The session would be about ${total} bytes; the limit is ${this.#options.maxPayloadBytes}.`)
    }
    data[key] = value
    sizes.set(key, size)
    this.#modified = true
  }

  /** Removes `key`; resolves whether it was there. */
  async delete(key: keyof Data & string): Promise<boolean> {
    const data = await this.#write()
    if (!(key in data)) return false
    delete data[key]
    this.#sizes?.delete(key)
    this.#modified = true
    return true
  }

  /** Removes `key` and resolves its value, or `defaultValue` (Django's `pop`). */
  async pop<K extends keyof Data & string>(key: K, defaultValue?: Data[K]): Promise<Data[K] | undefined> {
    const data = await this.#write()
    if (!(key in data)) return defaultValue
    const value = data[key] as Data[K]
    await this.delete(key)
    return value
  }

  /** Whether `key` is stored. */
  async has(key: string): Promise<boolean> {
    return key in (await this.#read())
  }

  /** The stored keys. */
  async keys(): Promise<string[]> {
    return Object.keys(await this.#read())
  }

  /** The stored values. */
  async values(): Promise<unknown[]> {
    return Object.values(await this.#read())
  }

  /** The stored `[key, value]` pairs. */
  async entries(): Promise<[string, unknown][]> {
    return Object.entries(await this.#read())
  }

  /** A plain copy of all data (a null-prototype object). */
  async toJSON(): Promise<SessionData> {
    return Object.assign(emptyData(), await this.#read())
  }

  /**
   * Removes every key and the custom expiry (Django's `clear()`, whose data holds the
   * expiry). An emptied session's record and cookie are deleted at the end of the request.
   */
  async clear(): Promise<void> {
    // Read first: a delete costs as much as a write, and an unknown id needs none.
    await this.#write()
    this.#empty()
  }

  #empty(): void {
    this.#data = emptyData()
    this.#sizes = null
    this.#expiry = null
    this.#modified = true
  }

  /** Whether the session holds no data. */
  async isEmpty(): Promise<boolean> {
    for (const _ in await this.#read()) return false
    return true
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
    await this.#read()
    this.#empty()
    this.#unavailable = false
    await this.#destroyAll()
  }

  /**
   * Moves the data to a new key; the old one stops working when the response is sent
   * (Django's `cycle_key()`, used at login against session fixation). The new record is
   * written before the old one is deleted, so a failed write loses nothing.
   */
  async cycleKey(): Promise<void> {
    await this.#write()
    if (this.#token !== null) this.#retired.push(this.#token)
    this.#token = null
    this.#modified = true
  }

  // ----- expiry ---------------------------------------------------------------

  /**
   * Sets the session's expiry (Django's `set_expiry()`): a number of seconds of
   * inactivity (fractions truncated; `0` = when the browser closes), a `Date`, or `null`
   * for the default (`maxAge`, or browser close if `expireAtBrowserClose`).
   * Anything else is a `SessionError` `INVALID_EXPIRY`.
   */
  async setExpiry(value: number | Date | null): Promise<void> {
    let setting: ExpirySetting
    if (value === null) setting = null
    else if (value instanceof Date) {
      const at = value.getTime()
      if (Number.isNaN(at)) throw new SessionError('INVALID_EXPIRY', 'setExpiry(): invalid Date')
      setting = { at }
    } else if (typeof value === 'number' && Number.isFinite(value) && value >= 0) {
      setting = { age: Math.trunc(value) }
    } else {
      throw new SessionError('INVALID_EXPIRY', 'setExpiry(): expected seconds >= 0, a Date, or null')
    }
    // Browsers cap cookies at 400 days and KV refuses far-off TTLs: past that, an
    // expiry could never be honoured, so it is refused rather than turned into a 503.
    const seconds = setting === null ? 0 : 'age' in setting ? setting.age : (setting.at - this.#now()) / 1000
    if (seconds > MAX_COOKIE_AGE) {
      throw new SessionError('INVALID_EXPIRY', `setExpiry(): at most ${MAX_COOKIE_AGE} seconds (400 days) ahead`)
    }
    await this.#write()
    this.#expiry = setting
    this.#modified = true
  }

  /** Seconds until the session expires, counted from now (Django's `get_expiry_age()`). */
  async getExpiryAge(): Promise<number> {
    await this.#read()
    return this.#expiryAge()
  }

  /** When the session expires if it is saved now (Django's `get_expiry_date()`). */
  async getExpiryDate(): Promise<Date> {
    await this.#read()
    const expiry = this.#expiry
    if (expiry !== null && 'at' in expiry) return new Date(expiry.at)
    return new Date(this.#now() + this.#expiryAge() * 1000)
  }

  /** Whether the cookie ends when the browser closes (Django's `get_expire_at_browser_close()`). */
  async getExpireAtBrowserClose(): Promise<boolean> {
    await this.#read()
    return this.#browserClose()
  }

  #expiryAge(): number {
    const expiry = this.#expiry
    if (expiry === null) return this.#options.maxAge
    if ('age' in expiry) return expiry.age === 0 ? this.#options.maxAge : expiry.age
    return Math.floor((expiry.at - this.#now()) / 1000)
  }

  #browserClose(): boolean {
    const expiry = this.#expiry
    if (expiry === null) return this.#options.expireAtBrowserClose
    return 'age' in expiry && expiry.age === 0
  }

  // ----- test cookie -------------------------------------------------------------

  /**
   * Sets the test cookie (Django's `set_test_cookie()`). It is a cookie of its own,
   * not session data, so testing cookie support costs no storage at all.
   */
  setTestCookie(): void {
    this.#testCookie = 'set'
  }

  /** Whether the browser sent the test cookie back (Django's `test_cookie_worked()`). */
  testCookieWorked(): boolean {
    this.#accessed = true
    return readRawCookie(this.#c.req.raw.headers.get('Cookie'), this.#options.testCookieName) === TEST_COOKIE_VALUE
  }

  /** Deletes the test cookie (Django's `delete_test_cookie()`). */
  deleteTestCookie(): void {
    this.#testCookie = 'delete'
  }

  // ----- loading ---------------------------------------------------------------

  #getStore(): SessionStore {
    return (this.#store ??= this.#options.store(this.#c))
  }

  /** Loads once; marks the session accessed. */
  async #read(): Promise<SessionData> {
    this.#accessed = true
    if (this.#data === null) await (this.#loading ??= this.#load())
    return this.#data as SessionData
  }

  /** Loads, then refuses to go on if the store could not be read. */
  async #write(): Promise<SessionData> {
    const data = await this.#read()
    this.#assertWritable()
    return data
  }

  #assertWritable(): void {
    if (this.#unavailable) {
      throw new SessionError('STORE_UNAVAILABLE', 'The session store is unavailable; try again shortly.')
    }
  }

  async #load(): Promise<void> {
    this.#readCookie()
    const token = this.#token
    let record: SessionRecord | null = null
    if (token !== null) {
      try {
        record = await this.#getStore().load(token)
      } catch (cause) {
        // Go on without a session; the client's cookie is left alone.
        console.warn(JSON.stringify({ event: 'session.store_read_failed', error: String(cause) }))
        this.#unavailable = true
      }
    }
    if (this.#data !== null) return // cleared or flushed while loading
    if (record !== null && record.expiresAt > this.#now()) {
      this.#data = record.data
      this.#expiry = record.expiry
      this.#loadedExpiresAt = record.expiresAt
    } else {
      this.#data = emptyData()
      // Unknown, expired or unreadable: never adopt the id (a store failure keeps it
      // only so that nothing is written under another one).
      if (!this.#unavailable) this.#token = null
    }
  }

  /** Destroys the current record and any retired by `cycleKey()`; the session has no key after. */
  async #destroyAll(): Promise<void> {
    const tokens = this.#retired.splice(0)
    if (this.#token !== null) tokens.push(this.#token)
    this.#token = null
    await Promise.all(tokens.map((token) => this.#destroy(token)))
  }

  async #destroy(token: string): Promise<void> {
    try {
      await this.#getStore().destroy(token)
    } catch (cause) {
      console.warn(JSON.stringify({ event: 'session.store_delete_failed', error: String(cause) }))
      const retry = this.#getStore()
        .destroy(token)
        .catch((error: unknown) => console.warn(JSON.stringify({ event: 'session.store_delete_retry_failed', error: String(error) })))
      try {
        this.#c.executionCtx.waitUntil(retry)
      } catch {
        // No execution context (e.g. app.request in a unit test): the retry still runs.
      }
    }
  }

  // ----- end of request -----------------------------------------------------------

  #cookieOptions(): CookieOptions {
    const o = this.#options
    const options: CookieOptions = { path: o.path, httpOnly: o.httpOnly, sameSite: o.sameSite, secure: o.secure }
    if (o.domain !== undefined) options.domain = o.domain
    return options
  }

  #vary(): void {
    const vary = this.#c.res.headers.get('Vary')
    if (vary === null) this.#c.header('Vary', 'Cookie')
    else if (!/(^|,)\s*(cookie|\*)\s*(,|$)/i.test(vary)) this.#c.header('Vary', `${vary}, Cookie`)
  }

  /** Whether a read-only request should extend the session (sliding expiry). */
  #rollingDue(): boolean {
    const rolling = this.#options.rolling
    if (rolling === null || this.#loadedExpiresAt === null || this.#token === null) return false
    const expiry = this.#expiry
    if (expiry !== null && 'at' in expiry) return false
    const lifetime = this.#expiryAge() * 1000
    const elapsed = lifetime - (this.#loadedExpiresAt - this.#now())
    return elapsed >= rolling.threshold * lifetime && elapsed >= rolling.minInterval * 1000
  }

  /**
   * Persists the session and writes its cookie, as Django's `SessionMiddleware.process_response`.
   * Store work happens before any header is touched, so a failure leaves no `Set-Cookie`.
   * @internal
   */
  async [COMMIT](): Promise<void> {
    const c = this.#c
    const o = this.#options
    const status = c.res.status
    const cookies: (() => void)[] = []

    if (this.#testCookie === 'set' && status < 500) {
      cookies.push(() => setCookie(c, o.testCookieName, TEST_COOKIE_VALUE, this.#cookieOptions()))
    } else if (this.#testCookie === 'delete' && readRawCookie(c.req.raw.headers.get('Cookie'), o.testCookieName) !== undefined) {
      cookies.push(() => deleteCookie(c, o.testCookieName, this.#cookieOptions()))
    }

    // Only a session whose data was used is committed; reading the test cookie is not
    // using the session, so it costs no store operation.
    this.#readCookie()
    if (o.saveEveryRequest && this.#loading === null && this.#token !== null) await this.#read()
    if (this.#accessed) this.#vary()
    if (this.#loading !== null && !this.#unavailable) await this.#commitSession(status, cookies)

    for (const write of cookies) write()
  }

  async #commitSession(status: number, cookies: (() => void)[]): Promise<void> {
    const c = this.#c
    const o = this.#options
    const data = await this.#read()
    let empty = true
    for (const _ in data) {
      empty = false
      break
    }
    const expired = !empty && this.#expiryAge() <= 0
    const sentCookie = this.#sentCookie !== undefined

    if (empty || expired) {
      // An emptied (or already expired) session leaves nothing behind: its records go,
      // and the cookie the client sent is deleted. Django keeps an empty record; we do not.
      // On a 5xx nothing is saved, emptiness included, unless the record is gone already.
      if (status >= 500 && (this.#token !== null || this.#retired.length > 0)) return
      await this.#destroyAll()
      if (sentCookie) cookies.push(() => deleteCookie(c, o.cookieName, this.#cookieOptions()))
      return
    }

    if (!(this.#modified || o.saveEveryRequest || this.#rollingDue()) || status >= 500) return

    const age = this.#expiryAge()
    const record: SessionRecord = { data, expiry: this.#expiry, expiresAt: this.#now() + age * 1000 }
    const serialized = encodeRecord(record, o.maxPayloadBytes)
    let token: string
    try {
      token = await this.#getStore().save(this.#token, { record, serialized, now: this.#now() })
    } catch (cause) {
      // A store's own typed error (e.g. a cookie store's size limit) passes through.
      if (cause instanceof SessionError) throw cause
      throw new SessionError('STORE_UNAVAILABLE', 'The session could not be saved; try again shortly.', { cause })
    }
    this.#token = token
    await Promise.all(this.#retired.splice(0).map((old) => this.#destroy(old)))

    const options = this.#cookieOptions()
    if (!this.#browserClose()) options.maxAge = age
    cookies.push(() => {
      setCookie(c, o.cookieName, token, options)
      // A response that hands out a session must never be stored by a shared cache.
      const cacheControl = c.res.headers.get('Cache-Control')
      if (cacheControl === null) c.header('Cache-Control', 'private')
      else if (!/\b(private|no-store)\b/i.test(cacheControl)) {
        c.header('Cache-Control', ['private', ...cacheControl.split(',').map((d) => d.trim()).filter((d) => d && !/^public$/i.test(d))].join(', '))
      }
    })
  }
}
