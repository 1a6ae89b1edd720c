/**
 * @module
 * `SessionObject`: the Durable Object (SQLite storage backend) that keeps sessions, one
 * object per user and a few shards for anonymous sessions. Its public methods are its RPC
 * surface; each check and the write it guards run in one synchronous stretch of SQL, so
 * no other request can come between them (the invariants are listed in docs/internals/storage.md).
 */
import { type DeviceDetails, describeDevice } from '../../foundation/device.js'
import type {
  EventActor,
  EventCursor,
  ImpersonationEnd,
  RevokedBy,
  SessionEvent,
} from '../events.js'
import { decodeRecord, isEmptyRecord } from '../record.js'
import type {
  ExpirySetting,
  KeyChanges,
  SessionCursor,
  SessionLifetime,
  SessionRecord,
} from '../types.js'
import { endedEvent, type ImpersonationLink, Impersonations } from './impersonations.js'
import { encodeMerged, mergeRecord } from './merge.js'
import { type ListedRow, migrate, rowDevice, rowLocation, type SessionRow } from './schema.js'
import {
  type LoadRotation,
  newSuccessor,
  type RotationRow,
  Rotations,
  standingOf,
  successorOf,
} from './rotation.js'
import { SocketHoldingObject } from './socket-object.js'
import { type EndReason, openSockets, socketHandles, type SocketPeer } from './sockets.js'
import { CountingSql } from './sql.js'
import { provesPassword, Throttle, type ThrottleLimits } from './throttle.js'
import { Trail, type TrailRetention } from './trail.js'

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
  /**
   * The key of a KV session this one moves as it is (`kv:` and the SHA-256 of its id): the
   * first move of it is remembered for {@link FORWARD_TTL_MS}, and any other is `moved`,
   * nothing written, so parallel first requests after the switch make one session.
   */
  fromKv?: string | null
}

/**
 * How a write ended: `ok` (with the expiry the session carries on with, for the cookie),
 * `gone` (destroyed or moved since the request loaded it: nothing written), `too-large`
 * (the merged session would pass `maxPayloadBytes`: nothing written), or `ended` (an
 * emptied session that was empty once merged: removed).
 */
export type WriteResult =
  | { status: 'ok'; expiry: ExpirySetting; expiresAt: number; events: SessionEvent[] }
  | { status: 'gone' }
  | { status: 'moved' }
  | { status: 'too-large' }
  | { status: 'ended' }
  | { status: 'throttled'; retryAfter: number }

/**
 * What a call records in the user's trail: the request's own events (a login, a logout,
 * a re-authentication; their `handle` is filled with the session's), the SHA-256 of the
 * browser's known-device cookie (a login is `newDevice` unless the user's object knows
 * it), the retention the store keeps the trail for, and its login throttle (absent or
 * `null`: off).
 */
export interface Recording {
  events: SessionEvent[]
  knownDevice: string | null
  retention: TrailRetention
  throttle?: ThrottleLimits | null
}

/** Who ends sessions through {@link SessionObject.revoke} and {@link SessionObject.revokeAll}. */
export interface Acting {
  /** `user` from another of their sessions (`actingHash`'s), or `admin`. */
  by: Extract<RevokedBy, 'user' | 'admin'>
  /** The acting user (the session's own user, or the operator an admin call names). */
  actor: string | null
  /** The acting session's key (its handle is filled in as the actor's), or `null`. */
  actingHash: string | null
  now: number
  /** The retention to keep the trail for; `null`: the one the store last gave this object. */
  retention: TrailRetention | null
}

/** An ending that the trail records, with who or what ended the sessions. */
interface Ending {
  by: RevokedBy
  actor: EventActor | null
  now: number
  retention: TrailRetention
}

/** The most browsers a user's object remembers as known; the least recently used go first. */
const MAX_KNOWN_DEVICES = 64

/** How long a trail keeps events when no store said otherwise: 1000 events, 90 days. */
export const DEFAULT_RETENTION: TrailRetention = { maxEvents: 1000, maxAgeMs: 90 * 86_400_000 }

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

/** What {@link SessionObject.load} answers when it rotated the session (or the id was an old one in grace): the record, and the id that carries on. */
export interface Rotated {
  record: string
  successor: string
}

/** What {@link SessionObject.load} answers for an old id used after its grace: the session was ended, and what was recorded. */
export interface Reused {
  reused: true
  events: SessionEvent[]
}

/** Every answer of {@link SessionObject.load}. */
export type LoadAnswer = string | Moved | Impersonated | Returning | Rotated | Reused | null

/** The columns a load reads of a session row. */
type LoadedRow = Pick<
  SessionRow,
  'record' | 'last_seen_at' | 'handle' | 'user' | 'created_at' | 'expires_at'
> & { issued_at: number | null; predecessor: string | null }

/** Whether a logged-in session's id is `everyMs` old: a session bound to a device key is not rotated (docs/device-bound.md). */
function rotationDue(row: LoadedRow, now: number, everyMs: number): boolean {
  if (row.user === null || now - (row.issued_at ?? row.created_at) < everyMs) return false
  const record = decodeRecord(row.record)
  return typeof record !== 'string' && !record.device?.jwk
}

/** The earlier of two instants, either may be `null`. */
const earliest = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.min(a, b)

/** The request's device headers, as `describeDevice()` reads them. */
const headersOf = (rotation: LoadRotation): Headers => new Headers(rotation.headers)

/** A device recorded as JSON. */
function parseDevice(text: string): DeviceDetails | null {
  try {
    return JSON.parse(text) as DeviceDetails
  } catch {
    return null
  }
}

/** What {@link SessionObject.load} answers for an impersonation that lasts: its record and link. */
export interface Impersonated {
  record: string
  impersonation: ImpersonationLink
}

/**
 * What {@link SessionObject.load} and {@link SessionObject.endImpersonation} answer for an
 * impersonation that ended: the operator's session to hand back, how it ended, and the
 * events this call recorded.
 */
export interface Returning {
  returnTo: ImpersonationLink
  how: ImpersonationEnd
  events: SessionEvent[]
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
  readonly #trail: Trail
  readonly #throttle: Throttle
  readonly #rotations: Rotations
  readonly #impersonations: Impersonations

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env)
    this.#sql = new CountingSql(ctx.storage.sql)
    this.#trail = new Trail(this.#sql)
    this.#throttle = new Throttle(this.#sql)
    this.#rotations = new Rotations(this.#sql)
    this.#impersonations = new Impersonations(this.#sql)
    void ctx.blockConcurrencyWhile(async () => migrate(ctx.storage))
  }

  /**
   * The record of a live session, `{ moved: true }` when the key's session moved to a new
   * key in the last {@link FORWARD_TTL_MS} (a request with it is in flight across a key
   * change), or `null`; marks it seen when `touchAfterMs` have passed. An impersonation
   * answers its link beside the record while it lasts ({@link Impersonated}), and the
   * operator's session to return to once it ended ({@link Returning}): past its time limit,
   * it ends here. With `rotation` (`rotation.ts`): a logged-in session (not an
   * impersonation) whose id was issued `everyMs` ago or more moves to a successor id,
   * answered with the record (`{ record, successor }`); an old id answers the same while
   * its successor was never presented or presented within the grace, and ends the whole
   * session when used after that (`{ reused: true, events }`).
   */
  async load(
    hash: string,
    now: number,
    touchAfterMs: number,
    rotation: LoadRotation | null = null,
  ): Promise<LoadAnswer> {
    const row = this.#sql.query<LoadedRow & { ends_at: number | null }>(
      `SELECT s.record, s.last_seen_at, s.handle, s.user, s.created_at, s.issued_at, s.predecessor,
       s.expires_at, i.ends_at FROM sessions s
       LEFT JOIN impersonations i ON i.handle = s.handle AND i.ended IS NULL
       WHERE s.hash = ? AND s.expires_at > ?`,
      hash,
      now,
    )[0]
    if (row === undefined) {
      const old = rotation === null ? undefined : this.#rotations.from(hash)
      if (old !== undefined && rotation !== null) return this.#loadOld(old, now, rotation)
      if (rotation !== null && this.#rotations.reused(hash, now))
        return { reused: true, events: [] }
      if (
        this.#sql.query('SELECT 1 FROM moved WHERE hash = ? AND expires_at > ?', hash, now).length
      )
        return { moved: true }
      return this.#returning(hash, now)
    }
    if (row.ends_at !== null && row.ends_at <= now) return this.#returning(hash, now)
    if (row.predecessor !== null) {
      const device = rotation === null ? null : JSON.stringify(describeDevice(headersOf(rotation)))
      this.#rotations.presented(hash, row.predecessor, now, device)
    }
    if (now - row.last_seen_at >= touchAfterMs)
      this.#sql.run('UPDATE sessions SET last_seen_at = ? WHERE hash = ?', now, hash)
    const impersonation = row.ends_at === null ? undefined : this.#impersonations.active(row.handle)
    // An impersonation is time-limited and keyed by its hash: it is not rotated.
    if (impersonation !== undefined) return { record: row.record, impersonation }
    if (rotation === null || !rotationDue(row, now, rotation.everyMs)) return row.record
    return this.#rotate(hash, row, now, rotation)
  }

  /**
   * Rotates the session `hash` names to a successor id. The successor is derived before
   * the write (Web Crypto is async); the write then checks again, so a request that
   * rotated the same id meanwhile wins and this one answers its successor.
   */
  async #rotate(
    hash: string,
    row: LoadedRow,
    now: number,
    rotation: LoadRotation,
  ): Promise<LoadAnswer> {
    const successor = await newSuccessor(rotation.id)
    const context = {
      handle: row.handle,
      expiresAt: row.expires_at,
      graceMs: rotation.graceMs,
      now,
    }
    if (this.#rotations.rotate(hash, successor, context)) {
      const current = this.#sql.live(successor.hash, now)
      return current === undefined ? null : { record: current.record, successor: successor.id }
    }
    const old = this.#rotations.from(hash)
    return old === undefined ? null : this.#loadOld(old, now, rotation)
  }

  /** A load of an id its session was rotated away from: the record and the same successor, or the reuse that ends it. */
  async #loadOld(old: RotationRow, now: number, rotation: LoadRotation): Promise<LoadAnswer> {
    const live = this.#sql.query<
      Pick<SessionRow, 'record' | 'user' | 'device' | 'user_agent' | 'country' | 'region' | 'city'>
    >(
      `SELECT record, user, device, user_agent, country, region, city FROM sessions
       WHERE handle = ? AND expires_at > ? LIMIT 1`,
      old.handle,
      now,
    )[0]
    if (live === undefined) return null
    if (standingOf(old, now) !== 'stale') {
      return { record: live.record, successor: await successorOf(old.secret, rotation.id) }
    }
    return { reused: true, events: this.#reused(old, live, now, rotation) }
  }

  /**
   * An old id used after its grace: the whole session ends (every id, its sockets closed
   * with 4401 "reused"), and `session-reused` is recorded in the user's trail with the
   * device that holds the session now and the request's.
   */
  #reused(
    old: RotationRow,
    live: Pick<SessionRow, 'user' | 'device' | 'user_agent' | 'country' | 'region' | 'city'>,
    now: number,
    rotation: LoadRotation,
  ): SessionEvent[] {
    const until = Math.max(old.expires_at, now + FORWARD_TTL_MS)
    this.#rotations.markReused(old.handle, until)
    this.#endSessions([old.handle], 'reused', null)
    if (live.user === null) return []
    const event: SessionEvent = {
      type: 'session-reused',
      id: null,
      at: now,
      user: live.user,
      handle: old.handle,
      device: describeDevice(headersOf(rotation)),
      location: null,
      actor: null,
      holder: old.presented_device === null ? rowDevice(live) : parseDevice(old.presented_device),
    }
    return this.#trail.record([event], this.#retention(null), now)
  }

  /**
   * The live row `hash` names: its own, or, for an id its session was rotated away from
   * and not stale yet, the session's current row (a write of a request that loaded the
   * old id before the rotation lands on the session, not on nothing).
   */
  #resolve(
    hash: string,
    now: number,
  ): (Pick<SessionRow, 'handle' | 'record' | 'expires_at'> & { hash: string }) | undefined {
    const own = this.#sql.live(hash, now)
    if (own !== undefined) return { ...own, hash }
    const old = this.#rotations.from(hash)
    if (old === undefined || standingOf(old, now) === 'stale') return undefined
    return this.#sql.query<Pick<SessionRow, 'hash' | 'handle' | 'record' | 'expires_at'>>(
      'SELECT hash, handle, record, expires_at FROM sessions WHERE handle = ? AND expires_at > ? LIMIT 1',
      old.handle,
      now,
    )[0]
  }

  // ----- impersonation (impersonations.ts) ----------------------------------------------

  /**
   * The operator's side of a start: their session `hash` must be live, theirs (`user`), and
   * not an impersonation itself; records `event` (`impersonation-started`) with its handle.
   * Resolves the handle and the events, or `null`.
   */
  beginImpersonating(
    hash: string,
    user: string,
    now: number,
    event: SessionEvent,
    retention: TrailRetention,
  ): { handle: string; events: SessionEvent[] } | null {
    const row = this.#sql.query<{ handle: string }>(
      'SELECT handle FROM sessions WHERE hash = ? AND user = ? AND expires_at > ?',
      hash,
      user,
      now,
    )[0]
    if (row === undefined || this.#impersonations.active(row.handle) !== undefined) return null
    const own = { ...event, handle: row.handle, actor: { user, handle: row.handle } }
    return {
      handle: row.handle,
      events: this.#trail.record([own], this.#retention(retention), now),
    }
  }

  /**
   * The target's side of a start: adds the impersonation session `row` (not counted against
   * the user's cap, ending none of their sessions) and its `link`, and records `event`
   * (`impersonation-started`) in the user's trail. The row stays listed until it ends.
   */
  async startImpersonation(
    row: SessionRow,
    link: ImpersonationLink,
    event: SessionEvent,
    retention: TrailRetention,
  ): Promise<SessionEvent[]> {
    const now = row.created_at
    this.#sql.insert(row)
    this.#impersonations.add(link, row.hash, now, row.expires_at)
    const events = this.#trail.record([event], this.#retention(retention), now)
    await this.#wakeBy(Math.min(row.expires_at, link.endsAt), row.handle)
    return events
  }

  /**
   * Ends the impersonation session `hash` names (`how`: stopped, or its operator's session
   * ended), recorded in the user's trail with `actor`, and answers the operator's session to
   * return to; one that ended already (revoked, past its limit) answers the same, as it
   * ended. `null` when `hash` is no impersonation.
   */
  endImpersonation(
    hash: string,
    now: number,
    how: Extract<ImpersonationEnd, 'stopped' | 'admin-session-ended' | 'logged-out'>,
    actor: EventActor | null,
  ): Returning | null {
    const handle = this.#sql.query<{ handle: string }>(
      'SELECT handle FROM sessions WHERE hash = ? AND expires_at > ?',
      hash,
      now,
    )[0]?.handle
    const link = handle === undefined ? undefined : this.#impersonations.active(handle)
    if (link === undefined || link.endsAt <= now) return this.#returning(hash, now)
    this.#impersonations.end([link.handle], how)
    const place = { user: link.target, handle: link.handle, at: now, device: null }
    const events = this.#trail.record(
      [endedEvent(link, how, { ...place, location: null, actor })],
      this.#retention(null),
      now,
    )
    this.#endSessions([link.handle], 'logged out', null)
    this.#consume(hash, link, now)
    return { returnTo: link, how, events }
  }

  /**
   * The operator's side of an end: their session `hash`, when live, goes on under the key
   * `newHash` (the cookie had left the old one); `event` (`impersonation-ended`) is recorded
   * with its handle either way. Resolves the session's record, or `null` when it had ended.
   */
  endImpersonating(
    hash: string,
    newHash: string,
    now: number,
    event: SessionEvent,
  ): { record: string | null; events: SessionEvent[] } {
    const row = this.#sql.live(hash, now)
    if (row !== undefined)
      this.#sql.run(
        'UPDATE sessions SET hash = ?, last_seen_at = ? WHERE hash = ?',
        newHash,
        now,
        hash,
      )
    const own = row === undefined ? event : { ...event, handle: row.handle }
    const events = this.#trail.record([own], this.#retention(null), now)
    return { record: row?.record ?? null, events }
  }

  /**
   * The key `hash` of an impersonation that ended (or ends now, past its limit or expired):
   * the operator's session to hand back, once. Its row goes and a forward is left, so a
   * request in flight with the key reads as moved rather than logged out.
   */
  #returning(hash: string, now: number): Returning | null {
    const found = this.#impersonations.byHash(hash)
    if (found === undefined) return null
    const { link } = found
    let how = found.ended
    let events: SessionEvent[] = []
    if (how === null) {
      how = 'expired'
      this.#impersonations.end([link.handle], how)
      const place = { user: link.target, handle: link.handle, at: now, device: null }
      events = this.#trail.record(
        [endedEvent(link, how, { ...place, location: null, actor: null })],
        this.#retention(null),
        now,
      )
      this.#endSessions([link.handle], 'expired', null)
    }
    this.#consume(hash, link, now)
    return { returnTo: link, how, events }
  }

  /** Forgets an ended impersonation, leaving a forward of its key for requests in flight. */
  #consume(hash: string, link: ImpersonationLink, now: number): void {
    this.#impersonations.remove(link.handle)
    this.#forward(hash, link.handle, now + FORWARD_TTL_MS)
  }

  /** Ends impersonations past their time limit (before the user's sessions are listed, and by the alarm). */
  #endOverdue(now: number): SessionEvent[] {
    const overdue = this.#impersonations.overdue(now)
    if (overdue.length === 0) return []
    return this.#endSessions(overdue, 'expired', null, now).events
  }

  /**
   * Adds a new session. When it replaces sessions of this object (`move.from`), in the same
   * stretch: each must still be live (else `gone`, nothing written); the new row is built
   * from the first one as it is now plus the request's changes, keeps its handle, and the
   * old keys are left as forwards to that handle (a logout in flight with one still ends
   * the session). The user's verifier is noted when the new row brings a new one. A login
   * or re-authentication of a user name whose logins are locked is `throttled`, nothing
   * written; one that succeeds resets the user's failed logins.
   */
  async create(
    row: SessionRow,
    move: SessionMove,
    now: number,
    recording: Recording,
  ): Promise<WriteResult> {
    const fromKv = move.fromKv ?? null
    if (
      fromKv !== null &&
      this.#sql.query('SELECT 1 FROM moved WHERE hash = ? AND expires_at > ?', fromKv, now).length >
        0
    )
      return { status: 'moved' }
    const proves = row.user !== null && provesPassword(recording.events)
    if (proves && recording.throttle) {
      const retryAfter = this.#throttle.retryAfter(row.user as string, now)
      if (retryAfter !== null) return { status: 'throttled', retryAfter }
    }
    const sources = move.from.map((hash) => this.#resolve(hash, now))
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
    // Not a forward of this session's (its handle is not one): it outlives the session, so a
    // request that read the KV record before the move cannot move it again after a logout.
    if (fromKv !== null)
      this.#sql.run(
        'INSERT OR REPLACE INTO moved (hash, handle, expires_at) VALUES (?, ?, ?)',
        fromKv,
        `kv:${row.handle}`,
        now + FORWARD_TTL_MS,
      )
    for (const [i, hash] of move.from.entries()) {
      const old = sources[i]!
      this.#sql.run('UPDATE moved SET handle = ? WHERE handle = ?', row.handle, old.handle)
      this.#sql.run('UPDATE rotations SET handle = ? WHERE handle = ?', row.handle, old.handle)
      const until = Math.min(old.expires_at, now + FORWARD_TTL_MS)
      this.#forward(old.hash, row.handle, until)
      if (old.hash !== hash) this.#forward(hash, row.handle, until)
    }
    // An impersonation moving to a new key stays one, and never counts against the cap.
    const impersonation = source !== undefined && this.#impersonations.rekey(row.handle, row.hash)
    const verifier = mine.auth?.hash ?? null
    const previous =
      stored === null || typeof stored === 'string' ? undefined : (stored.auth?.hash ?? null)
    const events: SessionEvent[] = []
    if (row.user !== null) {
      const retention = this.#retention(recording.retention)
      const own = this.#knownDevice(row.user, recording, now)
      events.push(...this.#trail.record(forSession(own, row.handle), retention, now))
      if (previous !== verifier) this.#noteVerifier(row.user, verifier)
      if (proves) this.#throttle.reset(row.user)
      const ending = { actor: null, now, retention }
      if (!impersonation)
        events.push(
          ...this.#limit(row.user, row.handle, verifier, move.maxSessions ?? null, ending),
        )
    }
    await this.#wakeBy(row.expires_at, row.handle)
    return { status: 'ok', expiry, expiresAt: row.expires_at, events }
  }

  /**
   * The request's events, a login's `newDevice` decided by whether `user` logged in from
   * this known-device cookie before (noted now, so the next login from it is not new).
   */
  #knownDevice(user: string, { events, knownDevice }: Recording, now: number): SessionEvent[] {
    if (!events.some((event) => event.type === 'login')) return events
    let known = false
    if (knownDevice !== null) {
      known =
        this.#sql.run(
          'UPDATE known_devices SET last_at = ? WHERE user = ? AND hash = ?',
          now,
          user,
          knownDevice,
        ) > 0
      if (!known) {
        this.#sql.run(
          'INSERT INTO known_devices (user, hash, first_at, last_at) VALUES (?, ?, ?, ?)',
          user,
          knownDevice,
          now,
          now,
        )
        // Bounded: a browser that drops its cookies at every login must not grow the table.
        this.#sql.run(
          `DELETE FROM known_devices WHERE user = ? AND hash NOT IN
           (SELECT hash FROM known_devices WHERE user = ? ORDER BY last_at DESC LIMIT ?)`,
          user,
          user,
          MAX_KNOWN_DEVICES,
        )
      }
    }
    return events.map((event) => (event.type === 'login' ? { ...event, newDevice: !known } : event))
  }

  /** The retention to keep the trail for: `given` (remembered when it changes), or the one last given. */
  #retention(given: TrailRetention | null): TrailRetention {
    const noted = this.#sql.query<{ value: string }>(
      "SELECT value FROM settings WHERE name = 'retention'",
    )[0]
    if (given === null) {
      return noted === undefined ? DEFAULT_RETENTION : (JSON.parse(noted.value) as TrailRetention)
    }
    const value = JSON.stringify({ maxEvents: given.maxEvents, maxAgeMs: given.maxAgeMs })
    if (noted?.value !== value) {
      this.#sql.run("INSERT OR REPLACE INTO settings (name, value) VALUES ('retention', ?)", value)
    }
    return given
  }

  /**
   * Applies one request's changes to the session as it is now (other requests' changes to
   * other keys, and an expiry another request set, survive); `gone` when it was destroyed,
   * moved or expired since that request loaded it, `too-large` when the merged session
   * would pass `maxPayloadBytes`.
   */
  async update(hash: string, update: SessionUpdate, recording: Recording): Promise<WriteResult> {
    const merge = this.#merge(hash, update)
    if ('status' in merge) return merge
    const written = await this.#write(merge.hash, merge, update)
    if (written.status !== 'ok' || merge.user === null) return written
    const retention = this.#retention(recording.retention)
    const events = this.#trail.record(
      forSession(recording.events, merge.handle),
      retention,
      update.now,
    )
    return { ...written, events }
  }

  /**
   * Applies the changes of a request that emptied its view of the session (deleted its last
   * keys): the session ends when the merged session is empty too (`ended`), and is written
   * as {@link SessionObject.update} writes it when a concurrent request's keys are left.
   */
  async empty(hash: string, update: SessionUpdate): Promise<WriteResult> {
    const merge = this.#merge(hash, update)
    if ('status' in merge) return merge
    if (!isEmptyRecord(merge.merged)) return this.#write(merge.hash, merge, update)
    this.#endSessions([merge.handle], 'logged out', null)
    return { status: 'ended' }
  }

  /** The live session of `hash` with `update`'s changes applied, or why there is none. */
  #merge(
    hash: string,
    update: SessionUpdate,
  ):
    | { merged: SessionRecord; handle: string; user: string | null; hash: string }
    | { status: 'gone' } {
    const row = this.#resolve(hash, update.now)
    if (row === undefined) return { status: 'gone' }
    const stored = decodeRecord(row.record)
    const mine = decodeRecord(update.record)
    if (typeof stored === 'string' || typeof mine === 'string') return { status: 'gone' }
    const { changes, lifetime, now } = update
    return {
      merged: mergeRecord({ stored, mine, changes, lifetime, now }, stored),
      handle: row.handle,
      user: stored.auth?.user ?? null,
      hash: row.hash,
    }
  }

  /** Writes a merged session back to its row. */
  async #write(
    hash: string,
    { merged, handle }: { merged: SessionRecord; handle: string },
    update: SessionUpdate,
  ): Promise<WriteResult> {
    const record = encodeMerged(merged, update.maxPayloadBytes)
    if (record === 'too-large') return { status: 'too-large' }
    this.#sql.run(
      'UPDATE sessions SET record = ?, expires_at = ?, last_seen_at = ? WHERE hash = ?',
      record,
      merged.expiresAt,
      update.now,
      hash,
    )
    await this.#wakeBy(merged.expiresAt, handle)
    return { status: 'ok', expiry: merged.expiry, expiresAt: merged.expiresAt, events: [] }
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

  /**
   * Ends the session a key names (its own, or the one it moved to here), recording the
   * request's events for it (a logout); resolves whether one was live, and the events.
   */
  destroy(hash: string, recording: Recording): { ended: boolean; events: SessionEvent[] } {
    const handle = this.#sql.handleOf(hash) ?? this.#rotations.from(hash)?.handle
    if (handle === undefined) return { ended: false, events: [] }
    const user = this.#sql.query<{ user: string | null }>(
      'SELECT user FROM sessions WHERE handle = ? LIMIT 1',
      handle,
    )[0]?.user
    const ended = this.#endSessions([handle], 'logged out', null).removed > 0
    if (!ended || user === null || user === undefined) return { ended, events: [] }
    const now = recording.events[0]?.at ?? Date.now()
    const retention = this.#retention(recording.retention)
    return {
      ended,
      events: this.#trail.record(forSession(recording.events, handle), retention, now),
    }
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
    if (verifier !== null) {
      this.#endStale(user, verifier, { actor: null, now, retention: this.#retention(null) })
    }
    this.#endOverdue(now)
    return this.#sql.query<ListedRow>(
      `SELECT hash, handle, created_at, last_seen_at, expires_at, user_agent, country, colo, device, region, city,
       (SELECT impersonator FROM impersonations i WHERE i.handle = sessions.handle) AS impersonator
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

  /**
   * Ends the user's session named `handle`, recorded as revoked by `acting`; resolves the
   * hashes it had (none when there was no such session) and the events.
   */
  revoke(
    user: string,
    handle: string,
    acting: Acting,
  ): { hashes: string[]; events: SessionEvent[] } {
    const rows = this.#sql.query<{ hash: string }>(
      'SELECT hash FROM sessions WHERE user = ? AND handle = ?',
      user,
      handle,
    )
    if (rows.length === 0) return { hashes: [], events: [] }
    const { events } = this.#endSessions([handle], 'revoked', this.#ending(acting))
    return { hashes: rows.map((row) => row.hash), events }
  }

  /**
   * Ends every session of the user but the one `keep` names (a hash, or `null` for none),
   * recorded as revoked by `acting`; resolves how many, and the events.
   */
  revokeAll(
    user: string,
    keep: string | null,
    acting: Acting,
  ): { count: number; events: SessionEvent[] } {
    const kept = keep === null ? null : (this.#sql.handleOf(keep) ?? null)
    const rows = this.#sql.query<{ handle: string }>(
      'SELECT DISTINCT handle FROM sessions WHERE user = ? AND handle IS NOT ?',
      user,
      kept,
    )
    const ending = this.#ending(acting)
    const { removed, events } = this.#endSessions(
      rows.map((row) => row.handle),
      'revoked',
      ending,
    )
    return { count: removed, events }
  }

  /** How `acting`'s revocations are recorded: by whom, from which session. */
  #ending({ by, actor, actingHash, now, retention }: Acting): Ending {
    const handle = actingHash === null ? null : (this.#sql.handleOf(actingHash) ?? null)
    const who = actor === null && handle === null ? null : { user: actor, handle }
    return { by, actor: who, now, retention: this.#retention(retention) }
  }

  /**
   * Records the request's failed password check (its `login-failed` event) and counts it
   * for the user name: the failure that reaches the throttle's limit within its window
   * starts a lock, recorded once as `login-throttled`. While a lock holds, nothing is
   * written and `retryAfter` (seconds) says when to try again.
   */
  loginFailed(recording: Recording): { events: SessionEvent[]; retryAfter: number | null } {
    const event = recording.events.find((e) => e.type === 'login-failed')
    if (event === undefined) return { events: [], retryAfter: null }
    const failure = this.#throttle.fail(event.user, event.at, recording.throttle ?? null)
    if (failure.kind === 'locked') return { events: [], retryAfter: failure.retryAfter }
    const events: SessionEvent[] = [event]
    if (failure.lockedFor !== null) {
      events.push({ ...event, type: 'login-throttled', retryAfter: failure.lockedFor })
    }
    const retention = this.#retention(recording.retention)
    return { events: this.#trail.record(events, retention, event.at), retryAfter: null }
  }

  /**
   * A page of the user's security trail, newest first: at most `limit` events, after
   * `after`, within the retention the store last gave.
   */
  securityEvents(
    user: string,
    now: number,
    limit: number,
    after: EventCursor | null,
  ): SessionEvent[] {
    return this.#trail.page(user, limit, after, this.#retention(null), now)
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

  protected async socketOpened({ handle }: SocketPeer): Promise<void> {
    const row = this.#sql.query<{ at: number | null }>(
      'SELECT max(expires_at) AS at FROM sessions WHERE handle = ?',
      handle,
    )[0]
    if (row?.at !== null && row?.at !== undefined) await this.#wakeAt(row.at)
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
   * Ends every expired session (closing its sockets), forgets expired forwards and old ids,
   * and closes the sockets whose bound cookie expired (4408), then wakes again: at the next
   * expiry of a session that holds sockets, or of a socket's bound cookie, so they close on
   * time, else at the next expiry but not sooner than a sweep interval. Alarms run at
   * least once, maybe twice: running it again ends nothing more and schedules the same.
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
        null,
      )
    this.#endOverdue(now)
    this.#impersonations.sweep(now)
    this.#sql.run('DELETE FROM moved WHERE expires_at <= ?', now)
    this.#rotations.sweep(now)
    const stored =
      this.#sql.query<{ next: number | null }>(
        'SELECT min(e) AS next FROM (SELECT min(expires_at) AS e FROM sessions UNION ALL SELECT min(expires_at) FROM moved UNION ALL SELECT min(expires_at) FROM reused)',
      )[0]?.next ?? null
    const limit = this.#impersonations.nextEnd()
    const next = stored === null || limit === null ? (stored ?? limit) : Math.min(stored, limit)
    const sweep = next === null ? null : Math.max(next, now + SWEEP_INTERVAL_MS)
    // Sockets of device-bound sessions close when their bound cookie expires, on time.
    const bound = this.closeExpiredSockets(now)
    const watched = earliest(this.#socketExpiry(), bound)
    const at = watched === null ? sweep : Math.min(watched, sweep ?? watched)
    if (at !== null) await this.ctx.storage.setAlarm(at)
  }

  /** The earliest expiry of a session that holds open sockets, or `null`. */
  #socketExpiry(): number | null {
    const handles = socketHandles(this.ctx)
    if (handles.length === 0) return null
    return (
      this.#sql.query<{ at: number | null }>(
        'SELECT min(expires_at) AS at FROM sessions WHERE handle IN (SELECT value FROM json_each(?))',
        JSON.stringify(handles),
      )[0]?.at ?? null
    )
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
  #endSessions(
    handles: readonly string[],
    reason: EndReason,
    ending: Ending | null,
    now: number = ending?.now ?? Date.now(),
  ): { removed: number; events: SessionEvent[] } {
    const list = JSON.stringify(handles)
    const ended =
      ending === null
        ? []
        : this.#sql.query<
            Pick<
              SessionRow,
              'handle' | 'user' | 'device' | 'user_agent' | 'country' | 'region' | 'city'
            >
          >(
            `SELECT handle, user, device, user_agent, country, region, city FROM sessions
             WHERE handle IN (SELECT value FROM json_each(?)) AND user IS NOT NULL GROUP BY handle`,
            list,
          )
    this.#sql.run('DELETE FROM moved WHERE handle IN (SELECT value FROM json_each(?))', list)
    this.#rotations.forget(list)
    const removed = this.#sql.run(
      'DELETE FROM sessions WHERE handle IN (SELECT value FROM json_each(?))',
      list,
    )
    this.endSockets(handles, reason)
    const stopped = this.#impersonationsEnded(handles, reason, ending, now)
    if (ending === null || ended.length === 0) return { removed, events: stopped }
    const revoked: SessionEvent[] = ended.map((row) => ({
      type: 'revoked',
      by: ending.by,
      id: null,
      at: ending.now,
      user: row.user as string,
      handle: row.handle,
      device: rowDevice(row),
      location: rowLocation(row),
      actor: ending.actor,
    }))
    const recorded = this.#trail.record(revoked, ending.retention, ending.now)
    return { removed, events: [...recorded, ...stopped] }
  }

  /**
   * The impersonations among `handles` that lasted until now end with their sessions
   * (revoked by the user or an operator, a password change, expired, logged out): each is
   * marked ended, for its operator's next request to find, and recorded in the trail.
   */
  #impersonationsEnded(
    handles: readonly string[],
    reason: EndReason,
    ending: Ending | null,
    now: number,
  ): SessionEvent[] {
    const how: ImpersonationEnd =
      ending !== null ? 'revoked' : reason === 'expired' ? 'expired' : 'logged-out'
    const links = this.#impersonations.end(handles, how)
    if (links.length === 0) return []
    const actor = ending?.actor ?? null
    const events = links.map((link) =>
      endedEvent(link, how, {
        user: link.target,
        handle: link.handle,
        at: now,
        device: null,
        location: null,
        actor,
      }),
    )
    return this.#trail.record(events, ending?.retention ?? this.#retention(null), now)
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
    maxSessions: number | null,
    ending: Omit<Ending, 'by'>,
  ): SessionEvent[] {
    const now = ending.now
    const stale = verifier === null ? [] : this.#endStale(user, verifier, ending)
    if (maxSessions === null) return stale
    const others = this.#sql.query<{ handle: string }>(
      `SELECT handle FROM sessions WHERE user = ? AND handle != ? AND expires_at > ?
       AND handle NOT IN (SELECT handle FROM impersonations)
       GROUP BY handle ORDER BY max(last_seen_at), min(created_at), handle`,
      user,
      handle,
      now,
    )
    const over = others.slice(0, Math.max(0, others.length + 1 - maxSessions))
    if (over.length === 0) return stale
    const capped = this.#endSessions(
      over.map((r) => r.handle),
      'session limit',
      { ...ending, by: 'cap' },
    )
    return [...stale, ...capped.events]
  }

  /** Ends the user's sessions bound to another verifier than `verifier`: a credential change logged them out. */
  #endStale(user: string, verifier: string, ending: Omit<Ending, 'by'>): SessionEvent[] {
    const stale = this.#sql.query<{ handle: string }>(
      "SELECT DISTINCT handle FROM sessions WHERE user = ? AND json_extract(record, '$.auth.hash') IS NOT ?",
      user,
      verifier,
    )
    if (stale.length === 0) return []
    return this.#endSessions(
      stale.map((row) => row.handle),
      'credentials changed',
      { ...ending, by: 'password' },
    ).events
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

  /**
   * Makes sure the alarm runs by `expiresAt`, the new expiry of session `handle`: at it
   * exactly when the session holds sockets (they close when it expires), else not sooner
   * than a sweep interval from now, as the alarm re-schedules itself.
   */
  async #wakeBy(expiresAt: number, handle: string): Promise<void> {
    const exact = openSockets(this.ctx, handle) > 0
    await this.#wakeAt(exact ? expiresAt : Math.max(expiresAt, Date.now() + SWEEP_INTERVAL_MS))
  }

  /** Makes sure the alarm runs by `at` (a storage call: the input gate stays closed). */
  async #wakeAt(at: number): Promise<void> {
    const alarm = await this.ctx.storage.getAlarm()
    if (alarm === null || alarm > at) await this.ctx.storage.setAlarm(at)
  }
}

/** `events` with their missing handle filled with `handle` (the session the call is on). */
function forSession(events: readonly SessionEvent[], handle: string): SessionEvent[] {
  return events.map((event) => (event.handle === null ? { ...event, handle } : event))
}
