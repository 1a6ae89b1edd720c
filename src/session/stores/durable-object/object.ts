/**
 * @module
 * `SessionObject`: the Durable Object (SQLite storage backend) that keeps sessions, one
 * object per user and a few shards for anonymous sessions. Its public methods are its RPC
 * surface; each check and the write it guards run in one synchronous stretch of SQL, so
 * no other request can come between them (the invariants are listed in docs/storage.md).
 */
import { decodeRecord, isEmptyRecord } from '../record.js'
import type {
  ExpirySetting,
  KeyChanges,
  SessionCursor,
  SessionLifetime,
  SessionRecord,
} from '../types.js'
import { encodeMerged, mergeRecord } from './merge.js'
import { migrate, type SessionRow } from './schema.js'
import { SocketHoldingObject } from './socket-object.js'
import type { EndReason, SocketPeer } from './sockets.js'
import { CountingSql } from './sql.js'

/** What {@link SessionObject.update} is asked to apply. */
export interface SessionUpdate {
  /** The request's whole record (its data is used as is when `changes` is `null`). */
  record: string
  /** The request's per-key changes (and whether it changed the expiry), applied to the session as it is now. */
  changes: KeyChanges | null
  /** The request's clock, in ms. */
  now: number
  maxPayloadBytes: number
  /** What `expiresAt` is computed from when the stored expiry stays. */
  lifetime: SessionLifetime
}

/** What {@link SessionObject.create} is told about the sessions the new one replaces in this object. */
export interface SessionMove {
  /** Hashes of the sessions replaced here (`cycleKey()`, `updateAuthHash()`, `login()` again): each must be live. */
  from: string[]
  /** The request's changes to the first of them, applied to it as it is now; `null` = the new record as is. */
  changes: KeyChanges | null
  lifetime: SessionLifetime
  maxPayloadBytes: number
  /** The most sessions the user may have: beyond it the least recently seen end. `null`: no cap. */
  maxSessions?: number | null
}

/**
 * How a write ended: `ok` (with the expiry the session carries on with, for the cookie),
 * `gone` (destroyed or moved since the request loaded it: nothing written), `too-large`
 * (the merged session would pass `maxPayloadBytes`: nothing written), or `ended` (an
 * emptied session that was empty once merged: removed).
 */
export type WriteResult =
  | { status: 'ok'; expiry: ExpirySetting; expiresAt: number }
  | { status: 'gone' }
  | { status: 'too-large' }
  | { status: 'ended' }

export type { EndReason } from './sockets.js'

/** One row of {@link SessionObject.list}: everything but the record. */
export type ListedRow = Omit<SessionRow, 'record' | 'user'>

/** Expired rows are swept at most this often, so short sessions do not wake the object each time. */
const SWEEP_INTERVAL_MS = 60_000

/**
 * How long a key a session moved away from is remembered (a forward): longer than any
 * request that loaded it before the move can still be running. After it, the old key is
 * unknown, as any other.
 */
export const FORWARD_TTL_MS = 600_000

/** What {@link SessionObject.load} answers for a key whose session moved to a new key meanwhile. */
export interface Moved {
  moved: true
}

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
  readonly #sql: CountingSql

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env)
    this.#sql = new CountingSql(ctx.storage.sql)
    void ctx.blockConcurrencyWhile(async () => migrate(ctx.storage))
  }

  /**
   * The record of a live session, `{ moved: true }` when the key's session moved to a new
   * key in the last {@link FORWARD_TTL_MS} (a request with it is in flight across a key
   * change), or `null`; marks it seen when `touchAfterMs` have passed.
   */
  load(hash: string, now: number, touchAfterMs: number): string | Moved | null {
    const row = this.#sql.query<Pick<SessionRow, 'record' | 'last_seen_at'>>(
      'SELECT record, last_seen_at FROM sessions WHERE hash = ? AND expires_at > ?',
      hash,
      now,
    )[0]
    if (row === undefined)
      return this.#sql.query('SELECT 1 FROM moved WHERE hash = ? AND expires_at > ?', hash, now)
        .length > 0
        ? { moved: true }
        : null
    if (now - row.last_seen_at >= touchAfterMs)
      this.#sql.run('UPDATE sessions SET last_seen_at = ? WHERE hash = ?', now, hash)
    return row.record
  }

  /**
   * Adds a new session. When it replaces sessions of this object (`move.from`), in the same
   * stretch: each must still be live (else `gone`, nothing written); the new row is built
   * from the first one as it is now plus the request's changes, keeps its handle, and the
   * old keys are left as forwards to that handle (a logout in flight with one still ends
   * the session). The user's verifier is noted when the new row brings a new one.
   */
  async create(row: SessionRow, move: SessionMove, now: number): Promise<WriteResult> {
    const sources = move.from.map((hash) => this.#sql.live(hash, now))
    if (sources.some((source) => source === undefined)) return { status: 'gone' }
    const mine = decodeRecord(row.record)
    if (typeof mine === 'string') return { status: 'gone' }
    const source = sources[0]
    const stored = source === undefined ? null : decodeRecord(source.record)
    let expiry = mine.expiry
    if (source !== undefined) row = { ...row, handle: source.handle }
    if (stored !== null && typeof stored !== 'string' && move.changes !== null) {
      const merged = mergeRecord(
        { stored, mine, changes: move.changes, lifetime: move.lifetime, now },
        mine,
      )
      const record = encodeMerged(merged, move.maxPayloadBytes)
      if (record === 'too-large') return { status: 'too-large' }
      row = { ...row, record, expires_at: merged.expiresAt }
      expiry = merged.expiry
    }
    this.#sql.insert(row)
    for (const [i, hash] of move.from.entries()) {
      const old = sources[i]!
      this.#sql.run('UPDATE moved SET handle = ? WHERE handle = ?', row.handle, old.handle)
      this.#forward(hash, row.handle, Math.min(old.expires_at, now + FORWARD_TTL_MS))
    }
    const verifier = mine.auth?.hash ?? null
    const previous =
      stored === null || typeof stored === 'string' ? undefined : (stored.auth?.hash ?? null)
    if (row.user !== null) {
      if (previous !== verifier) this.#noteVerifier(row.user, verifier)
      this.#limit(row.user, row.handle, verifier, now, move.maxSessions ?? null)
    }
    await this.#wakeBy(row.expires_at)
    return { status: 'ok', expiry, expiresAt: row.expires_at }
  }

  /**
   * Applies one request's changes to the session as it is now (other requests' changes to
   * other keys, and an expiry another request set, survive); `gone` when it was destroyed,
   * moved or expired since that request loaded it, `too-large` when the merged session
   * would pass `maxPayloadBytes`.
   */
  async update(hash: string, update: SessionUpdate): Promise<WriteResult> {
    const merge = this.#merge(hash, update)
    return 'status' in merge ? merge : this.#write(hash, merge.merged, update)
  }

  /**
   * Applies the changes of a request that emptied its view of the session (deleted its last
   * keys): the session ends when the merged session is empty too (`ended`), and is written
   * as {@link SessionObject.update} writes it when a concurrent request's keys are left.
   */
  async empty(hash: string, update: SessionUpdate): Promise<WriteResult> {
    const merge = this.#merge(hash, update)
    if ('status' in merge) return merge
    if (!isEmptyRecord(merge.merged)) return this.#write(hash, merge.merged, update)
    this.#endSessions([merge.handle], 'logged out')
    return { status: 'ended' }
  }

  /** The live session of `hash` with `update`'s changes applied, or why there is none. */
  #merge(
    hash: string,
    update: SessionUpdate,
  ): { merged: SessionRecord; handle: string } | { status: 'gone' } {
    const row = this.#sql.live(hash, update.now)
    if (row === undefined) return { status: 'gone' }
    const stored = decodeRecord(row.record)
    const mine = decodeRecord(update.record)
    if (typeof stored === 'string' || typeof mine === 'string') return { status: 'gone' }
    const { changes, lifetime, now } = update
    return {
      merged: mergeRecord({ stored, mine, changes, lifetime, now }, stored),
      handle: row.handle,
    }
  }

  /** Writes a merged session back to its row. */
  async #write(hash: string, merged: SessionRecord, update: SessionUpdate): Promise<WriteResult> {
    const record = encodeMerged(merged, update.maxPayloadBytes)
    if (record === 'too-large') return { status: 'too-large' }
    this.#sql.run(
      'UPDATE sessions SET record = ?, expires_at = ?, last_seen_at = ? WHERE hash = ?',
      record,
      merged.expiresAt,
      update.now,
      hash,
    )
    await this.#wakeBy(merged.expiresAt)
    return { status: 'ok', expiry: merged.expiry, expiresAt: merged.expiresAt }
  }

  /**
   * Takes a live session out of this object for a move to another (an anonymous session
   * logging in): resolves its record as it is now and removes the row in the same stretch,
   * leaving a forward, so a request still in flight with it reads as moved and its write is
   * refused; `null` when it is no longer live.
   */
  take(hash: string, now: number): string | null {
    const row = this.#sql.live(hash, now)
    if (row === undefined) return null
    this.#forward(hash, row.handle, Math.min(row.expires_at, now + FORWARD_TTL_MS))
    return row.record
  }

  /** Moves a session row away from `hash`, leaving a forward to `handle` until `until`. */
  #forward(hash: string, handle: string, until: number): void {
    this.#sql.run(
      'INSERT OR REPLACE INTO moved (hash, handle, expires_at) VALUES (?, ?, ?)',
      hash,
      handle,
      until,
    )
    this.#sql.run('DELETE FROM sessions WHERE hash = ?', hash)
  }

  /** Ends the session a key names (its own, or the one it moved to here); resolves whether one was live. */
  destroy(hash: string): boolean {
    const handle = this.#sql.handleOf(hash)
    return handle !== undefined && this.#endSessions([handle], 'logged out') > 0
  }

  /**
   * A page of the user's live sessions, newest first (`limit` of them, after `after`).
   * Sessions bound to another verifier than the user's current one (the latest login or
   * verifier change here; `authHash`, the asking session's, when none is noted) are ended
   * first: a password change logged them out.
   */
  list(
    user: string,
    now: number,
    authHash: string | null = null,
    limit = 100,
    after: SessionCursor | null = null,
  ): ListedRow[] {
    const noted = this.#sql.query<{ hash: string | null }>(
      'SELECT hash FROM verifiers WHERE user = ?',
      user,
    )[0]
    const verifier = noted === undefined ? authHash : noted.hash
    if (verifier !== null) this.#endStale(user, verifier)
    return this.#sql.query<ListedRow>(
      `SELECT hash, handle, created_at, last_seen_at, expires_at, user_agent, country, colo
       FROM sessions WHERE user = ? AND expires_at > ? AND (? IS NULL OR created_at < ? OR (created_at = ? AND handle > ?))
       ORDER BY created_at DESC, handle LIMIT ?`,
      user,
      now,
      after?.handle ?? null,
      after?.createdAt ?? 0,
      after?.createdAt ?? 0,
      after?.handle ?? '',
      limit,
    )
  }

  /** How many live sessions the user has. */
  countSessions(user: string, now: number): number {
    return (
      this.#sql.query<{ n: number }>(
        'SELECT count(*) AS n FROM sessions WHERE user = ? AND expires_at > ?',
        user,
        now,
      )[0]?.n ?? 0
    )
  }

  /** Ends the user's session named `handle`; resolves the hashes it had, none when there was no such session. */
  revoke(user: string, handle: string): string[] {
    const rows = this.#sql.query<{ hash: string }>(
      'SELECT hash FROM sessions WHERE user = ? AND handle = ?',
      user,
      handle,
    )
    if (rows.length > 0) this.#endSessions([handle], 'revoked')
    return rows.map((row) => row.hash)
  }

  /** Ends every session of the user but the one `keep` names (a hash, or `null` for none); resolves how many. */
  revokeAll(user: string, keep: string | null): number {
    const kept = keep === null ? null : (this.#sql.handleOf(keep) ?? null)
    const rows = this.#sql.query<{ handle: string }>(
      'SELECT DISTINCT handle FROM sessions WHERE user = ? AND handle IS NOT ?',
      user,
      kept,
    )
    return this.#endSessions(
      rows.map((row) => row.handle),
      'revoked',
    )
  }

  // ----- sockets (socket-object.ts) -----------------------------------------------------

  protected socketSession(hash: string, now: number): SocketPeer | null {
    return (
      this.#sql.query<{ handle: string; user: string }>(
        'SELECT handle, user FROM sessions WHERE hash = ? AND expires_at > ? AND user IS NOT NULL',
        hash,
        now,
      )[0] ?? null
    )
  }

  protected sessionLives({ user, handle }: SocketPeer, now: number): boolean {
    return (
      this.#sql.query(
        'SELECT 1 FROM sessions WHERE user = ? AND handle = ? AND expires_at > ?',
        user,
        handle,
        now,
      ).length > 0
    )
  }

  /** Live and expired rows, for tests and monitoring. */
  count(): number {
    return this.#sql.query<{ n: number }>('SELECT count(*) AS n FROM sessions')[0]?.n ?? 0
  }

  /**
   * Ends every expired session and forgets expired forwards, then wakes again at the next
   * expiry. Alarms run at least once, maybe twice: running it again ends nothing more and
   * schedules the same.
   */
  override async alarm(): Promise<void> {
    const now = Date.now()
    const expired = this.#sql.query<{ handle: string }>(
      'SELECT handle FROM sessions WHERE expires_at <= ?',
      now,
    )
    if (expired.length > 0)
      this.#endSessions(
        expired.map((row) => row.handle),
        'expired',
      )
    this.#sql.run('DELETE FROM moved WHERE expires_at <= ?', now)
    const next =
      this.#sql.query<{ next: number | null }>(
        'SELECT min(e) AS next FROM (SELECT min(expires_at) AS e FROM sessions UNION ALL SELECT min(expires_at) FROM moved)',
      )[0]?.next ?? null
    if (next !== null) await this.ctx.storage.setAlarm(Math.max(next, now + SWEEP_INTERVAL_MS))
  }

  /**
   * SQLite rows this object read and wrote since it started, the units Durable Object
   * storage is billed in: for monitoring, and for the benchmark's rows per save.
   */
  usage(): { rowsRead: number; rowsWritten: number } {
    return { rowsRead: this.#sql.rowsRead, rowsWritten: this.#sql.rowsWritten }
  }

  /**
   * Ends logical sessions: removes each handle's row under every key it has (its session
   * row and the forwards its earlier keys left), in one statement each, so no key a racing
   * `cycleKey()` handed out survives. THE one place a session row is removed for good:
   * logout and `destroy()`, an emptied session, revocations, a changed verifier (in `list()`
   * and through the core's auth-hash check, which destroys), and the alarm's expiry all
   * come here; a hook that must act when a session ends (e.g. closing its WebSockets)
   * belongs here too, with `reason`: the ended sessions' sockets are closed here, with
   * 4401 and `reason`, in the same call. (A move to a new key is not an end: the session
   * carries on, sockets open.) Returns how many session rows were removed.
   */
  #endSessions(handles: readonly string[], reason: EndReason): number {
    const list = JSON.stringify(handles)
    this.#sql.run('DELETE FROM moved WHERE handle IN (SELECT value FROM json_each(?))', list)
    const removed = this.#sql.run(
      'DELETE FROM sessions WHERE handle IN (SELECT value FROM json_each(?))',
      list,
    )
    this.endSockets(handles, reason)
    return removed
  }

  /**
   * After a user's session was added: ends the user's sessions bound to another verifier
   * than this one's (`updateAuthHash()`: the others are logged out, their sockets closed
   * now), then, beyond `maxSessions`, the least recently seen others (the oldest created
   * among equals).
   */
  #limit(
    user: string,
    handle: string,
    verifier: string | null,
    now: number,
    maxSessions: number | null,
  ): void {
    if (verifier !== null) this.#endStale(user, verifier)
    if (maxSessions === null) return
    const others = this.#sql.query<{ handle: string }>(
      `SELECT handle FROM sessions WHERE user = ? AND handle != ? AND expires_at > ?
       GROUP BY handle ORDER BY max(last_seen_at), min(created_at), handle`,
      user,
      handle,
      now,
    )
    const over = others.slice(0, Math.max(0, others.length + 1 - maxSessions))
    if (over.length > 0)
      this.#endSessions(
        over.map((r) => r.handle),
        'session limit',
      )
  }

  /** Ends the user's sessions bound to another verifier than `verifier`: a credential change logged them out. */
  #endStale(user: string, verifier: string): void {
    const stale = this.#sql.query<{ handle: string }>(
      "SELECT DISTINCT handle FROM sessions WHERE user = ? AND json_extract(record, '$.auth.hash') IS NOT ?",
      user,
      verifier,
    )
    if (stale.length > 0)
      this.#endSessions(
        stale.map((row) => row.handle),
        'credentials changed',
      )
  }

  /** Notes the user's current verifier (a row write only when it changes). */
  #noteVerifier(user: string, verifier: string | null): void {
    const noted = this.#sql.query<{ hash: string | null }>(
      'SELECT hash FROM verifiers WHERE user = ?',
      user,
    )[0]
    if (noted === undefined || noted.hash !== verifier)
      this.#sql.run('INSERT OR REPLACE INTO verifiers (user, hash) VALUES (?, ?)', user, verifier)
  }

  /** Makes sure the alarm runs by `expiresAt` (a storage call: the input gate stays closed). */
  async #wakeBy(expiresAt: number): Promise<void> {
    // Not sooner than a sweep interval from now, as the alarm re-schedules itself.
    const at = Math.max(expiresAt, Date.now() + SWEEP_INTERVAL_MS)
    const alarm = await this.ctx.storage.getAlarm()
    if (alarm === null || alarm > at) await this.ctx.storage.setAlarm(at)
  }
}
