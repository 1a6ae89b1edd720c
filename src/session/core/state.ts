/**
 * @module
 * One request's session state, shared by the `Session` view and the end-of-request
 * commit: the cookie as sent, the token, the data and what changed, loaded lazily.
 * Internal: not exported from the package.
 */
import type { Context } from 'hono'
import { readRawCookie } from '../cookies/helpers.js'
import { SessionError } from '../foundation/errors.js'
import type { ResolvedSessionOptions } from './options.js'
import { entrySize, isEmptyRecord } from '../stores/record.js'
import { absoluteEnd, legacyCreatedAt } from './expiry.js'
import type {
  ExpirySetting,
  LoadedRecord,
  SessionAuth,
  SessionData,
  SessionDevice,
  SessionRecord,
  SessionStore,
  StoreContext,
} from '../stores/types.js'
import { authHashMatches } from './auth-hash.js'

/** What changed, key by key, since the session was loaded. */
interface KeyChanges {
  set: SessionData
  deleted: Set<string>
}

/** The `loading` of a session that needed no store read (no cookie, or not a token). */
const LOADED: Promise<void> = Promise.resolve()

/** A new, empty, null-prototype data object. */
export const emptyData = (): SessionData => Object.create(null) as SessionData

/** Logs one JSON line; never an id or a value. */
export const warn = (event: string, error: unknown): void =>
  console.warn(JSON.stringify({ event, error: String(error) }))

/**
 * The mutable state behind one request's `Session`. Everything is lazy: an untouched
 * request never reads the cookie, the clock or the store.
 */
export class SessionState {
  readonly options: ResolvedSessionOptions
  readonly c: Context
  /** The clock, read once per request at first use. */
  #nowMs: number | undefined
  #store: SessionStore | undefined
  /** Whether the request's session cookie has been read. */
  #cookieRead = false
  /** The raw session cookie the client sent, if any (valid or not). */
  sentCookie: string | undefined
  /** The token the session is stored under now; `null` = none (new, flushed, cycled, or not adopted). */
  token: string | null = null
  /** The data, once loaded (or emptied). */
  data: SessionData | null = null
  /** The load in progress or done; `null` until the session is first used. */
  loading: Promise<void> | null = null
  expiry: ExpirySetting = null
  /** For a merging store: whether `setExpiry()` was called (else the stored expiry stays). */
  expiryChanged = false
  /**
   * For a merging store: whether `retired[0]` is this session moving on to a new key with
   * its data (`retire()`), so this request's changes apply to it; a key retired by logout
   * or a failed check is not, and a new session replaces it whole.
   */
  carriesOn = false
  /** When the session was created (`null` until a new one is first saved). */
  createdAt: number | null = null
  /** The user the session is bound to, if any. */
  auth: SessionAuth | null = null
  /** The device binding (`deviceBound`), if any. */
  device: SessionDevice | null = null
  /** Commit leaves the session and its cookie alone (a bound session without its bound cookie; set before the load, none is asked for). */
  frozen = false
  /** `expiresAt` of the record as loaded, for sliding expiry. */
  loadedExpiresAt: number | null = null
  /**
   * Per-key changes since the load (`undefined`: none yet, made at the first change), or
   * `null` once the data is to be replaced whole.
   */
  changes: KeyChanges | null | undefined = undefined
  /** Approximate serialised size of each key (filled at the first `set()`). */
  sizes: Map<string, number> | null = null
  /** The sum of `sizes`, kept as they change, so a `set()` costs the same however many keys there are. */
  #total = 0
  /** Tokens whose records must be removed once the new state is safely written. */
  retired: string[] = []
  accessed = false
  modified = false
  unavailable = false
  /** The store said the session moved to a new key meanwhile: writes are refused with this. */
  interrupted: SessionError | null = null
  testCookie: 'set' | 'delete' | null = null

  constructor(options: ResolvedSessionOptions, c: Context) {
    this.options = options
    this.c = c
  }

  /** This request's clock reading, in ms, fixed at first use. */
  now(): number {
    this.#nowMs ??= this.options.now()
    return this.#nowMs
  }

  /** The request's store, resolved once. */
  store(): SessionStore {
    this.#store ??= this.options.store(this.c)
    return this.#store
  }

  /** What stores are told about this request. */
  context(): StoreContext {
    return { now: this.now(), request: this.c.req.raw }
  }

  /** Reads the session cookie once; only a value of the store's exact token format is kept. */
  readCookie(): void {
    if (this.#cookieRead) return
    this.#cookieRead = true
    const sent = readRawCookie(this.c.req.raw.headers.get('Cookie'), this.options.cookieName)
    this.sentCookie = sent
    this.token = sent !== undefined && this.store().isValidToken(sent) ? sent : null
  }

  /** Whether the end of the request has anything to do (untouched requests skip it). */
  get pending(): boolean {
    return this.accessed || this.testCookie !== null || this.options.saveEveryRequest
  }

  /**
   * The data if it is loaded already (marking the session accessed), else `null`, so the
   * `Session` methods can skip a promise per call: a loop of `set()`s pays one, not each.
   * With `write`, `null` too when the store could not be read, for {@link write} to refuse.
   */
  loaded(write = false): SessionData | null {
    if (this.data === null && this.loading === null) this.#loadWithoutStore()
    if (this.data === null || (write && (this.unavailable || this.interrupted !== null)))
      return null
    this.accessed = true
    return this.data
  }

  /** The data, loaded once; marks the session accessed. */
  async read(): Promise<SessionData> {
    this.accessed = true
    if (this.data === null) {
      if (this.loading === null) this.#loadWithoutStore()
      if (this.data === null) {
        this.loading ??= this.#load()
        await this.loading
      }
    }
    return this.data as SessionData
  }

  /**
   * Loads at once what needs no store: no session cookie, or one that is not a token
   * (the common anonymous request) is an empty session, with no promise chain.
   */
  #loadWithoutStore(): void {
    this.readCookie()
    if (this.token !== null) return
    this.data = emptyData()
    this.loading = LOADED
  }

  /** The data, refusing to go on if the store could not be read. */
  async write(): Promise<SessionData> {
    const data = await this.read()
    if (this.unavailable || this.interrupted !== null)
      throw (
        this.interrupted ??
        new SessionError(
          'STORE_UNAVAILABLE',
          'The session store is unavailable; try again shortly.',
        )
      )
    return data
  }

  async #load(): Promise<void> {
    this.readCookie()
    let token = this.token
    let record: LoadedRecord | null = null
    if (token !== null) {
      try {
        record = await this.store().load(token, this.context())
      } catch (cause) {
        // Go on without a session, the cookie left alone; a session moved meanwhile only refuses writes.
        if (cause instanceof SessionError && cause.code === 'SESSION_INTERRUPTED')
          this.interrupted = cause
        else warn('session.store_read_failed', cause)
        this.unavailable ||= this.interrupted === null
      }
    }
    // A bound session without its bound cookie reads as none: nothing destroyed, nothing told.
    if (
      record?.device?.jwk &&
      !this.frozen &&
      (await this.options.deviceBound?.admits(this, record.device)) === false
    ) {
      record = null
      this.frozen = true
    }
    if (record?.rekey === true && token !== null) {
      // The store cannot keep the session under this token: it is saved as a new one at the
      // end of the request, and this token goes once that save succeeded (commit.ts).
      this.retired.push(token)
      this.token = token = null
    }
    if (record !== null) {
      const verdict = await this.#honours(record)
      // Bound to credentials that changed: the record goes at the end of the request, as
      // Django's get_user() flushes it. An expired one is left to the store's own TTL.
      if (verdict === 'revoked' && token !== null) this.retired.push(token)
      if (verdict !== 'ok') record = null
    }
    if (this.data !== null) return // cleared or flushed while loading
    if (record !== null) {
      this.data = record.data
      this.expiry = record.expiry
      this.createdAt = record.createdAt
      this.auth = record.auth
      this.device = record.device ?? null
      this.loadedExpiresAt = record.expiresAt
    } else {
      this.data = emptyData()
      // Unknown, expired or unreadable: never adopt the id (a store failure keeps it
      // only so that nothing is written under another one).
      if (!this.unavailable && this.interrupted === null) this.token = null
    }
  }

  /**
   * Whether a loaded record may be used: not expired, within its absolute lifetime, and
   * (when the app verifies users) bound to the user's current verifier. Fills in the
   * creation time of a record written before records carried one.
   */
  async #honours(record: SessionRecord): Promise<'ok' | 'expired' | 'revoked'> {
    const now = this.now()
    if (record.expiresAt <= now) return 'expired'
    if (record.createdAt === null)
      record.createdAt = legacyCreatedAt(record.expiry, this.options, record.expiresAt)
    const end = absoluteEnd(this.options, record.createdAt)
    if (end !== null && end <= now) return 'expired'
    if (record.auth !== null && !(await authHashMatches(this, record.auth))) return 'revoked'
    return 'ok'
  }

  /** Whether nothing would be stored ({@link isEmptyRecord}); the commit deletes only what is empty in this sense. */
  isEmpty(data: SessionData): boolean {
    return isEmptyRecord({ data, expiry: this.expiry, auth: this.auth })
  }

  /** Records that `key` now holds `value`; refuses a session over `maxPayloadBytes`. */
  put(data: SessionData, key: string, value: unknown): void {
    const size = entrySize(key, value)
    const sizes = this.sizes ?? this.#measure(data)
    const total = this.#total - (sizes.get(key) ?? 0) + size
    if (total > this.options.maxPayloadBytes) {
      throw new SessionError(
        'PAYLOAD_TOO_LARGE',
        `The session would be about ${total} bytes; the limit is ${this.options.maxPayloadBytes}.`,
      )
    }
    data[key] = value
    sizes.set(key, size)
    this.#total = total
    const changes = this.#changes()
    if (changes !== null) {
      changes.set[key] = value
      changes.deleted.delete(key)
    }
    this.modified = true
  }

  /** Sizes every entry of the loaded data, once, at the first `set()`. */
  #measure(data: SessionData): Map<string, number> {
    const sizes = new Map<string, number>()
    let total = 0
    for (const key of Object.keys(data)) {
      const size = entrySize(key, data[key])
      sizes.set(key, size)
      total += size
    }
    this.sizes = sizes
    this.#total = total
    return sizes
  }

  /** Records that `key` was removed. */
  remove(data: SessionData, key: string): void {
    delete data[key]
    if (this.sizes !== null) {
      this.#total -= this.sizes.get(key) ?? 0
      this.sizes.delete(key)
    }
    const changes = this.#changes()
    if (changes !== null) {
      delete changes.set[key]
      changes.deleted.add(key)
    }
    this.modified = true
  }

  /**
   * Empties data, expiry and user binding: a new session from now on, replacing the data
   * whole. A logged-in session also leaves its key behind (logging out is a new session).
   */
  empty(): void {
    if (this.auth !== null && this.token !== null) {
      this.retired.push(this.token)
      this.token = null
    }
    this.data = emptyData()
    this.sizes = null
    this.#total = 0
    this.expiry = null
    this.createdAt = null
    this.auth = null
    this.device = null
    this.changes = null
    this.modified = true
  }

  /** The per-key changes, made at the first change; `null` once the data is replaced whole. */
  #changes(): KeyChanges | null {
    if (this.changes === null) return null
    this.changes ??= { set: emptyData(), deleted: new Set() }
    return this.changes
  }

  /** Destroys the current record and any retired by `cycleKey()`; the session has no key after. */
  async destroyAll(): Promise<void> {
    const tokens = this.retired.splice(0)
    if (this.token !== null) tokens.push(this.token)
    this.token = null
    await Promise.all(tokens.map((token) => this.destroy(token)))
  }

  /** Destroys one record; a failure is logged and retried once in the background. */
  async destroy(token: string): Promise<void> {
    const store = this.store()
    try {
      await store.destroy(token, this.context())
    } catch (cause) {
      warn('session.store_delete_failed', cause)
      const retry = store
        .destroy(token, this.context())
        .catch((error: unknown) => warn('session.store_delete_retry_failed', error))
      try {
        this.c.executionCtx.waitUntil(retry)
      } catch {
        // No execution context (e.g. app.request in a unit test): the retry still runs.
      }
    }
  }
}
