/**
 * @module
 * Impersonations as the target's object keeps them (`impersonations`, schema version 6):
 * which of the user's sessions is an operator acting as them, until when, and the
 * operator's own session to hand back when it ends; and the two trail events. The object
 * calls it in the same synchronous stretch as the session rows it changes.
 */
import type { DeviceDetails, DeviceLocation } from '../../foundation/device.js'
import type { EventActor, ImpersonationEnd, SessionEvent } from '../events.js'
import type { CountingSql } from './sql.js'

/** One impersonation: whose session acts as whom, why, and where the operator's own session is. */
export interface ImpersonationLink {
  /** The impersonation session's handle, in the target's object. */
  readonly handle: string
  readonly impersonator: string
  readonly target: string
  readonly reason: string
  /** The operator's object (its id, hex) and session (its hash and handle) to return to. */
  readonly adminObject: string
  readonly adminHash: string
  readonly adminHandle: string
  /** The time limit, in ms since the epoch. */
  readonly endsAt: number
}

/** A row of `impersonations`. */
type Row = {
  handle: string
  hash: string
  impersonator: string
  target: string
  reason: string
  admin_object: string
  admin_hash: string
  admin_handle: string
  started_at: number
  ends_at: number
  ended: string | null
  keep_until: number
}

/** A row as its link. */
const toLink = (row: Row): ImpersonationLink => ({
  handle: row.handle,
  impersonator: row.impersonator,
  target: row.target,
  reason: row.reason,
  adminObject: row.admin_object,
  adminHash: row.admin_hash,
  adminHandle: row.admin_handle,
  endsAt: row.ends_at,
})

/** The impersonations of one object's user, on its SQL. */
export class Impersonations {
  readonly #sql: CountingSql

  constructor(sql: CountingSql) {
    this.#sql = sql
  }

  /** Records a new impersonation session (`hash`, `link.handle`), kept until `keepUntil` at most. */
  add(link: ImpersonationLink, hash: string, startedAt: number, keepUntil: number): void {
    this.#sql.run(
      `INSERT INTO impersonations (handle, hash, impersonator, target, reason, admin_object,
       admin_hash, admin_handle, started_at, ends_at, ended, keep_until)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)`,
      link.handle,
      hash,
      link.impersonator,
      link.target,
      link.reason,
      link.adminObject,
      link.adminHash,
      link.adminHandle,
      startedAt,
      link.endsAt,
      Math.max(keepUntil, link.endsAt),
    )
  }

  /** The impersonation the session `handle` is, while it lasts; else `undefined`. */
  active(handle: string): ImpersonationLink | undefined {
    const row = this.#sql.query<Row>(
      'SELECT * FROM impersonations WHERE handle = ? AND ended IS NULL',
      handle,
    )[0]
    return row === undefined ? undefined : toLink(row)
  }

  /** The impersonation whose session key is (or was, when it ended) `hash`, and how it ended. */
  byHash(hash: string): { link: ImpersonationLink; ended: ImpersonationEnd | null } | undefined {
    const row = this.#sql.query<Row>('SELECT * FROM impersonations WHERE hash = ?', hash)[0]
    return row === undefined
      ? undefined
      : { link: toLink(row), ended: row.ended as ImpersonationEnd | null }
  }

  /** Marks the impersonations among `handles` that still last as ended `how`; resolves them. */
  end(handles: readonly string[], how: ImpersonationEnd): ImpersonationLink[] {
    if (handles.length === 0) return []
    return this.#sql
      .query<Row>(
        `UPDATE impersonations SET ended = ? WHERE ended IS NULL
         AND handle IN (SELECT value FROM json_each(?)) RETURNING *`,
        how,
        JSON.stringify(handles),
      )
      .map(toLink)
  }

  /** Handles of impersonations past their time limit at `now` that have not ended yet. */
  overdue(now: number): string[] {
    return this.#sql
      .query<{ handle: string }>(
        'SELECT handle FROM impersonations WHERE ended IS NULL AND ends_at <= ?',
        now,
      )
      .map((row) => row.handle)
  }

  /** Notes that the session `handle` moved to the key `hash`; whether it is an impersonation. */
  rekey(handle: string, hash: string): boolean {
    return this.#sql.run('UPDATE impersonations SET hash = ? WHERE handle = ?', hash, handle) > 0
  }

  /** Forgets the impersonation `handle` (the operator went back to their session). */
  remove(handle: string): void {
    this.#sql.run('DELETE FROM impersonations WHERE handle = ?', handle)
  }

  /** Deletes ended rows nobody came back for, past their `keep_until`. */
  sweep(now: number): void {
    this.#sql.run('DELETE FROM impersonations WHERE ended IS NOT NULL AND keep_until <= ?', now)
  }

  /** When the alarm has work here next (a time limit, an ended row to delete); `null` when never. */
  nextEnd(): number | null {
    return (
      this.#sql.query<{ next: number | null }>(
        'SELECT min(CASE WHEN ended IS NULL THEN ends_at ELSE keep_until END) AS next FROM impersonations',
      )[0]?.next ?? null
    )
  }
}

/** Where and by whom an impersonation event happened, in one trail. */
export interface EventPlace {
  /** The trail's owner: the target or the operator. */
  readonly user: string
  /** That user's session: the impersonation (target) or the operator's own. */
  readonly handle: string | null
  readonly at: number
  readonly device: DeviceDetails | null
  readonly location: DeviceLocation | null
  readonly actor: EventActor | null
}

/** What both impersonation events say of `link`: who acts as whom, why, and until when. */
function linkFields(link: ImpersonationLink) {
  const { impersonator, target, reason, endsAt } = link
  return { impersonator, target, reason, endsAt }
}

/** An `impersonation-started` event of `link`, for the trail of `place.user`. */
export function startedEvent(link: ImpersonationLink, place: EventPlace): SessionEvent {
  return { type: 'impersonation-started', id: null, ...place, ...linkFields(link) }
}

/** An `impersonation-ended` event of `link`, ended `how`, for the trail of `place.user`. */
export function endedEvent(
  link: ImpersonationLink,
  how: ImpersonationEnd,
  place: EventPlace,
): SessionEvent {
  return { type: 'impersonation-ended', id: null, ...place, ...linkFields(link), how }
}
