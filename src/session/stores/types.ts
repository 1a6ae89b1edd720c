/**
 * @module
 * The small async interface every session store implements, the record it keeps, and
 * what each store promises about consistency, revocation and concurrent writes.
 */

/** Session data: a null-prototype object of JSON values. */
export type SessionData = Record<string, unknown>

/**
 * A custom expiry set with `setExpiry()`, kept beside the data (never inside it):
 * `null` = the default (`maxAge`, or browser close if configured);
 * `{ age: n }` = n seconds from the last save, `{ age: 0 }` = until the browser closes;
 * `{ at: ms }` = a fixed instant, in milliseconds since the epoch.
 */
export type ExpirySetting = null | { readonly age: number } | { readonly at: number }

/** What a store keeps for one session. */
export interface SessionRecord {
  /** The user's data. */
  data: SessionData
  /** The custom expiry, if any. */
  expiry: ExpirySetting
  /**
   * When the session stops working, in milliseconds since the epoch. Stores may keep
   * the record longer (KV cannot expire anything sooner than 60 s); a record read past
   * this instant is treated as absent.
   */
  expiresAt: number
}

/**
 * What one request changed in a session it loaded, key by key, so that a store able to
 * merge (Durable Objects) applies these changes to the session as it is now instead of
 * replacing it with this request's whole copy.
 */
export interface SessionChanges {
  /** Keys stored by this request, with their new values (a null-prototype object). */
  readonly set: Readonly<SessionData>
  /** Keys removed by this request. */
  readonly deleted: readonly string[]
}

/** What {@link SessionStore.save} writes. */
export interface SessionWrite {
  /** The whole session as this request leaves it. */
  record: SessionRecord
  /** The record as validated JSON (already checked against `maxPayloadBytes`). */
  serialized: string
  /**
   * This request's changes to the session it loaded, or `null` when the data is to be
   * replaced whole (a new session, `clear()`, `markModified()` without a key). Stores
   * that cannot merge write `record` and ignore this.
   */
  changes: SessionChanges | null
  /** The largest serialised session allowed, for stores that merge and must check the result. */
  maxPayloadBytes: number
  /** The session's clock at this request, in ms: TTLs are `record.expiresAt - now`. */
  now: number
  /** The request being answered (headers and `cf`), for stores that describe devices. */
  request: Request
}

/** What {@link SessionStore.load} and {@link SessionStore.destroy} are told about the request. */
export interface StoreContext {
  /** The session's clock at this request, in ms. */
  now: number
  /** The request being answered. */
  request: Request
}

/**
 * A session store. Every method is async so that a failed read or write surfaces (as a
 * rejected promise) instead of being lost. The *token* is what the session cookie
 * carries: an id for a server-side store, the sealed session itself for a cookie store.
 *
 * What the library's stores promise:
 *
 * | | consistency | revocation (`flush()`, `cycleKey()`, emptied) | a save racing a revocation | concurrent saves |
 * |---|---|---|---|---|
 * | KV (`kvStore`) | eventual: at once in the writing location, ~60 s elsewhere | at once in that location, ~60 s elsewhere | not detected: the save writes the record back | the last whole record wins |
 * | cookie (`cookieStore`) | the cookie is the session | none: an earlier copy of the cookie works until it expires | not detectable | the last cookie the browser keeps wins |
 *
 * A store added later implements the same methods; nothing in the core asks which
 * store it talks to.
 */
export interface SessionStore {
  /**
   * Cheap, synchronous check of a cookie value's format, made before any I/O so that
   * hostile values never reach storage.
   */
  isValidToken(token: string): boolean
  /**
   * Reads a session. Resolves `null` when there is none (or the stored record is
   * corrupt); rejects only when the storage itself fails.
   */
  load(token: string, context: StoreContext): Promise<SessionRecord | null>
  /**
   * Writes a session, under `token` or, when `token` is `null`, under a new one, and
   * resolves the token the cookie must carry from now on. A non-null `token` is always
   * a session this request loaded: a store that can tell it was destroyed since (logout
   * in a concurrent request) must refuse with `SessionError` `SESSION_INTERRUPTED`
   * rather than bring it back.
   */
  save(token: string | null, write: SessionWrite): Promise<string>
  /** Removes a session so its token stops working, and refuses saves of it still in flight. */
  destroy(token: string, context: StoreContext): Promise<void>
}
