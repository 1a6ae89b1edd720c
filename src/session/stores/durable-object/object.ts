/**
 * @module
 * `SessionObject`: the Durable Object (SQLite storage backend) that keeps sessions, one
 * object per user and a few shards for anonymous sessions. Its public methods are its RPC
 * surface; each check and the write it guards run in one synchronous stretch of SQL, so
 * no other request can come between them.
 */
import { SessionError } from '../../foundation/errors.js'
import { decodeRecord, encodeRecord, mergeDevice } from '../record.js'
import type { ExpirySetting, SessionData } from '../types.js'
import { migrate, type SessionRow } from './schema.js'
import { SocketHoldingObject } from './socket-object.js'
import type { EndReason, SocketPeer } from './sockets.js'

export type { EndReason } from './sockets.js'

/**
 * Which keys one request changed. The values travel in the request's record: RPC's
 * structured clone refuses the null-prototype objects session data is made of.
 */
export interface KeyChanges {
  /** Keys the request stored; their values are those of its record. */
  set: string[]
  /** Keys the request removed. */
  deleted: string[]
}

/** What {@link SessionObject.update} is asked to apply. */
export interface SessionUpdate {
  /** The request's whole record: its data is used as is when `changes` is `null`. */
  record: string
  /** The request's per-key changes, applied to the session as it is now. */
  changes: KeyChanges | null
  expiry: ExpirySetting
  expiresAt: number
  /** The request's clock, in ms. */
  now: number
  maxPayloadBytes: number
}

/** How an update ended: applied, refused because the session is gone, or refused for its size. */
export type UpdateResult = 'ok' | 'gone' | 'too-large'

/** One row of {@link SessionObject.list}: everything but the record. */
export type ListedRow = Omit<SessionRow, 'record' | 'user'>

/** Expired rows are swept at most this often, so short sessions do not wake the object each time. */
const SWEEP_INTERVAL_MS = 60_000

/**
 * The Durable Object class to re-export from the worker's entry module and bind with
 * `new_sqlite_classes` (see the README). Talk to it through `durableObjectStore()`.
 *
 * @example
 * ```ts
 * export { SessionObject } from 'edge-session/durable-object'
 * ```
 */
export class SessionObject extends SocketHoldingObject {
  readonly #sql: SqlStorage
  /** SQLite rows read and written since the object started (billed units): {@link SessionObject.usage}. */
  #rowsRead = 0
  #rowsWritten = 0

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env)
    this.#sql = ctx.storage.sql
    void ctx.blockConcurrencyWhile(async () => migrate(ctx.storage))
  }

  /** The record of a live session, or `null`; marks it seen when `touchAfterMs` have passed. */
  load(hash: string, now: number, touchAfterMs: number): string | null {
    const row = this.#query<Pick<SessionRow, 'record' | 'last_seen_at'>>('SELECT record, last_seen_at FROM sessions WHERE hash = ? AND expires_at > ?', hash, now)[0]
    if (row === undefined) return null
    if (now - row.last_seen_at >= touchAfterMs) this.#run('UPDATE sessions SET last_seen_at = ? WHERE hash = ?', now, hash)
    return row.record
  }

  /**
   * Adds a new session; refuses (`false`, nothing written) when one of `requireLive`, the
   * sessions it replaces in this object, was destroyed meanwhile. A user's session bound to
   * a verifier ends the user's sessions bound to another (their credentials changed), and
   * with `maxSessions` the least recently seen ones beyond it.
   */
  async create(row: SessionRow, requireLive: readonly string[], now: number, maxSessions: number | null = null): Promise<boolean> {
    if (!this.#allLive(requireLive, now)) return false
    // A session moved to a new key here (cycleKey(), updateAuthHash()) is the same device:
    // it keeps its handle, so "your sessions" and a revocation by handle still find it.
    const moved = requireLive[0]
    if (moved !== undefined) {
      const handle = this.#query<{ handle: string }>('SELECT handle FROM sessions WHERE hash = ?', moved)[0]?.handle
      if (handle !== undefined) row = { ...row, handle }
    }
    this.#run(
      `INSERT INTO sessions (hash, handle, user, record, created_at, last_seen_at, expires_at, user_agent, country, colo)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      row.hash, row.handle, row.user, row.record, row.created_at, row.last_seen_at, row.expires_at, row.user_agent, row.country, row.colo,
    )
    if (row.user !== null) this.#limit(row, now, maxSessions)
    await this.#wakeBy(row.expires_at)
    return true
  }

  /**
   * Applies one request's changes to the session as it is now (other requests' changes to
   * other keys survive); `'gone'` when it was destroyed or expired since that request
   * loaded it, `'too-large'` when the merged session would pass `maxPayloadBytes`.
   */
  async update(hash: string, update: SessionUpdate): Promise<UpdateResult> {
    const row = this.#query<Pick<SessionRow, 'record'>>('SELECT record FROM sessions WHERE hash = ? AND expires_at > ?', hash, update.now)[0]
    if (row === undefined) return 'gone'
    const stored = decodeRecord(row.record)
    const mine = decodeRecord(update.record)
    if (typeof stored === 'string' || typeof mine === 'string') return 'gone'
    const data = update.changes === null ? mine.data : merge(stored.data, mine.data, update.changes)
    let record: string
    try {
      record = encodeRecord({ data, expiry: update.expiry, expiresAt: update.expiresAt, createdAt: stored.createdAt, auth: stored.auth, device: mergeDevice(stored.device, mine.device) }, update.maxPayloadBytes)
    } catch (error) {
      if (error instanceof SessionError && error.code === 'PAYLOAD_TOO_LARGE') return 'too-large'
      throw error
    }
    this.#run('UPDATE sessions SET record = ?, expires_at = ?, last_seen_at = ? WHERE hash = ?', record, update.expiresAt, update.now, hash)
    await this.#wakeBy(update.expiresAt)
    return 'ok'
  }

  /** Whether every one of `hashes` is a live session here. */
  exists(hashes: readonly string[], now: number): boolean {
    return this.#allLive(hashes, now)
  }

  /** Deletes a session (and closes its sockets unless `cycleKey()` moved it); resolves whether it was there. */
  destroy(hash: string): boolean {
    return this.#remove('logged out', 'DELETE FROM sessions WHERE hash = ? RETURNING handle', hash) > 0
  }

  /**
   * The user's live sessions, newest first. With `authHash` (the verifier hash of the
   * asking session, checked by the app just now), sessions bound to another verifier are
   * deleted first: a password change logged them out, and each would drop itself on its
   * next request anyway, so they are not listed as live.
   */
  list(user: string, now: number, authHash: string | null = null): ListedRow[] {
    if (authHash !== null) {
      this.#remove('credentials changed', "DELETE FROM sessions WHERE user = ? AND json_extract(record, '$.auth.hash') IS NOT ? RETURNING handle", user, authHash)
    }
    return this.#query<ListedRow>(
      `SELECT hash, handle, created_at, last_seen_at, expires_at, user_agent, country, colo
       FROM sessions WHERE user = ? AND expires_at > ? ORDER BY created_at DESC, handle`,
      user,
      now,
    )
  }

  /**
   * Deletes the user's session named `handle` (both rows, for the moment a `cycleKey()`
   * has the new one and not yet deleted the old); resolves their hashes, none when there
   * was no such session.
   */
  revoke(user: string, handle: string): string[] {
    const rows = this.#query<{ hash: string; handle: string }>('DELETE FROM sessions WHERE user = ? AND handle = ? RETURNING hash, handle', user, handle)
    this.#ended(rows, 'revoked')
    return rows.map((row) => row.hash)
  }

  /** Deletes every session of the user but `keep` (a hash, or `null` for none); resolves how many. */
  revokeAll(user: string, keep: string | null): number {
    return this.#remove('revoked', 'DELETE FROM sessions WHERE user = ? AND hash IS NOT ? RETURNING handle', user, keep)
  }

  // ----- sockets (socket-object.ts) ---------------------------------------------------

  protected socketSession(hash: string, now: number): SocketPeer | null {
    return this.#query<{ handle: string; user: string }>('SELECT handle, user FROM sessions WHERE hash = ? AND expires_at > ? AND user IS NOT NULL', hash, now)[0] ?? null
  }

  protected sessionLives({ user, handle }: SocketPeer, now: number): boolean {
    return this.#query('SELECT 1 FROM sessions WHERE user = ? AND handle = ? AND expires_at > ?', user, handle, now).length > 0
  }

  /** Live and expired rows, for tests and monitoring. */
  count(): number {
    return this.#query<{ n: number }>('SELECT count(*) AS n FROM sessions')[0]?.n ?? 0
  }

  /**
   * Deletes every expired row and wakes again at the next expiry. Alarms run at least
   * once, maybe twice: running it again deletes nothing more and schedules the same.
   */
  override async alarm(): Promise<void> {
    const now = Date.now()
    this.#remove('expired', 'DELETE FROM sessions WHERE expires_at <= ? RETURNING handle', now)
    const next = this.#query<{ next: number | null }>('SELECT min(expires_at) AS next FROM sessions')[0]?.next ?? null
    if (next !== null) await this.ctx.storage.setAlarm(Math.max(next, now + SWEEP_INTERVAL_MS))
  }

  /**
   * SQLite rows this object read and wrote since it started, the units Durable Object
   * storage is billed in: for monitoring, and for the benchmark's rows per save.
   */
  usage(): { rowsRead: number; rowsWritten: number } {
    return { rowsRead: this.#rowsRead, rowsWritten: this.#rowsWritten }
  }

  /** Runs a query and counts its rows. */
  #query<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: SqlStorageValue[]): T[] {
    const cursor = this.#sql.exec<T>(query, ...bindings)
    const rows = cursor.toArray()
    this.#rowsRead += cursor.rowsRead
    this.#rowsWritten += cursor.rowsWritten
    return rows
  }

  /** Runs a statement; resolves how many rows it wrote. */
  #run(query: string, ...bindings: SqlStorageValue[]): number {
    const cursor = this.#sql.exec(query, ...bindings)
    cursor.toArray()
    this.#rowsRead += cursor.rowsRead
    this.#rowsWritten += cursor.rowsWritten
    return cursor.rowsWritten
  }

  /** Runs a `DELETE … RETURNING handle`, closes the sockets of the sessions it ended; resolves how many rows. */
  #remove(reason: EndReason, query: string, ...bindings: SqlStorageValue[]): number {
    const rows = this.#query<{ handle: string }>(query, ...bindings)
    this.#ended(rows, reason)
    return rows.length
  }

  /**
   * Closes the sockets of the sessions whose rows were just deleted, except a session still
   * here under another key (`cycleKey()` moves it and keeps its handle; its sockets stay).
   */
  #ended(rows: readonly { handle: string }[], reason: EndReason): void {
    const gone = rows.map((row) => row.handle).filter((handle) => this.#query('SELECT 1 FROM sessions WHERE handle = ?', handle).length === 0)
    this.endSockets(gone, reason)
  }

  /**
   * After a user's session was added: ends the user's sessions bound to another verifier
   * than this one's (a password change), then, beyond `maxSessions`, the least recently
   * seen others (the oldest created among equals).
   */
  #limit(row: SessionRow, now: number, maxSessions: number | null): void {
    const record = decodeRecord(row.record)
    const verifier = typeof record === 'string' ? null : (record.auth?.hash ?? null)
    if (verifier !== null) {
      this.#remove('credentials changed', "DELETE FROM sessions WHERE user = ? AND json_extract(record, '$.auth.hash') IS NOT ? RETURNING handle", row.user, verifier)
    }
    if (maxSessions === null) return
    const others = this.#query<{ handle: string }>(
      `SELECT handle FROM sessions WHERE user = ? AND handle != ? AND expires_at > ?
       GROUP BY handle ORDER BY max(last_seen_at), min(created_at), handle`,
      row.user, row.handle, now,
    )
    for (const { handle } of others.slice(0, Math.max(0, others.length + 1 - maxSessions))) {
      this.#remove('session limit', 'DELETE FROM sessions WHERE user = ? AND handle = ? RETURNING handle', row.user, handle)
    }
  }

  #allLive(hashes: readonly string[], now: number): boolean {
    for (const hash of hashes) {
      if (this.#query('SELECT 1 FROM sessions WHERE hash = ? AND expires_at > ?', hash, now).length === 0) return false
    }
    return true
  }

  /** Makes sure the alarm runs by `expiresAt` (a storage call: the input gate stays closed). */
  async #wakeBy(expiresAt: number): Promise<void> {
    // Not sooner than a sweep interval from now, as the alarm re-schedules itself.
    const at = Math.max(expiresAt, Date.now() + SWEEP_INTERVAL_MS)
    const alarm = await this.ctx.storage.getAlarm()
    if (alarm === null || alarm > at) await this.ctx.storage.setAlarm(at)
  }
}

/** Applies one request's changes (values from its own data) to the stored data, in place. */
function merge(data: SessionData, mine: SessionData, changes: KeyChanges): SessionData {
  for (const key of changes.deleted) delete data[key]
  for (const key of changes.set) if (key in mine) data[key] = mine[key]
  return data
}
