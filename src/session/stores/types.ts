/**
 * @module
 * The small async interface every session store implements, and the record it keeps.
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

/** What {@link SessionStore.save} writes. */
export interface SessionWrite {
  /** The record. */
  record: SessionRecord
  /** The record as validated JSON (already checked against `maxPayloadBytes`). */
  serialized: string
  /** The session's clock at this request, in ms: TTLs are `record.expiresAt - now`. */
  now: number
}

/**
 * A session store. Every method is async so that a failed read or write surfaces
 * (as a rejected promise) instead of being lost.
 *
 * The *token* is what the session cookie carries: an id for a server-side store,
 * the sealed session itself for a cookie store.
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
  load(token: string): Promise<SessionRecord | null>
  /**
   * Writes a session, under `token` or, when `token` is `null`, under a new one.
   * Resolves the token the cookie must carry from now on.
   */
  save(token: string | null, write: SessionWrite): Promise<string>
  /** Removes a session so its token stops working. */
  destroy(token: string): Promise<void>
}
