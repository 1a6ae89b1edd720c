/**
 * @module
 * A user's security trail, kept in their Durable Object beside their sessions: each event
 * is written in the same object call (and the same synchronous stretch of SQL) as the
 * operation it records, read newest first in pages, and kept for a bounded count and age.
 */
import type { EventCursor, SessionEvent } from '../events.js'
import type { CountingSql } from './sql.js'

/** How long a trail keeps its events. */
export interface TrailRetention {
  /** The most events kept per user; older ones go first. */
  readonly maxEvents: number
  /** The oldest event kept, in ms of age. */
  readonly maxAgeMs: number
}

/** Events pruned by age per write at most: a write never reads more than this many rows for it. */
const PRUNE_BATCH = 50

/** An event as the trail stores it: everything but its id, which is the row's. */
type Stored = Omit<SessionEvent, 'id'>

/** The trail of the users of one object (a user's object holds one user's). */
export class Trail {
  readonly #sql: CountingSql

  constructor(sql: CountingSql) {
    this.#sql = sql
  }

  /**
   * Appends `events` (their `id` is assigned here) and prunes what `retention` no longer
   * keeps; returns the events as recorded.
   */
  record(events: readonly SessionEvent[], retention: TrailRetention, now: number): SessionEvent[] {
    const recorded = events.map((event) => {
      const { id: _id, ...stored } = event
      const row = this.#sql.query<{ id: number }>(
        'INSERT INTO events (user, at, type, body) VALUES (?, ?, ?, ?) RETURNING id',
        event.user,
        event.at,
        event.type,
        JSON.stringify(stored),
      )[0]
      return { ...event, id: row === undefined ? null : String(row.id) } as SessionEvent
    })
    if (recorded.length > 0) this.#prune(retention, now)
    return recorded
  }

  /** Drops events past the count (by id, an index range) and a batch of the oldest past the age. */
  #prune({ maxEvents, maxAgeMs }: TrailRetention, now: number): void {
    this.#sql.run('DELETE FROM events WHERE id <= (SELECT max(id) FROM events) - ?', maxEvents)
    this.#sql.run(
      'DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT ?) AND at < ?',
      PRUNE_BATCH,
      now - maxAgeMs,
    )
  }

  /** A page of `user`'s events, newest first: at most `limit`, after `after`, none older than `retention` keeps. */
  page(
    user: string,
    limit: number,
    after: EventCursor | null,
    retention: TrailRetention,
    now: number,
  ): SessionEvent[] {
    const rows = this.#sql.query<{ id: number; body: string }>(
      `SELECT id, body FROM events WHERE user = ? AND at >= ? AND (? IS NULL OR id < ?)
       ORDER BY id DESC LIMIT ?`,
      user,
      now - retention.maxAgeMs,
      after === null ? null : Number(after.id),
      after === null ? 0 : Number(after.id),
      limit,
    )
    return rows.map(
      (row) => ({ ...(JSON.parse(row.body) as Stored), id: String(row.id) }) as SessionEvent,
    )
  }
}
