/**
 * @module
 * Rotation of session ids with reuse detection, the object's side (`session({ rotation })`):
 * the `rotations` table (each id a session was rotated away from, with its successor, when
 * the successor was issued and first presented) and the verdict on an old id: still
 * current (its successor never presented: a lost response), in grace (presented less than
 * `grace` ago: another tab, a request in flight, a retry), or stale (a copy: theft).
 *
 * The successor id is never stored: it is HMAC-SHA256(per-rotation random secret, old id),
 * so every request showing the old id gets the same successor (no fork), while neither the
 * database (it has the secret, not the old id) nor a copy of the old cookie (it has the old
 * id, not the secret) can make it alone.
 */
import { toBase64Url } from '../../foundation/bytes.js'
import { sha256Hex } from '../../foundation/id.js'
import type { CountingSql } from './sql.js'

/** One row of `rotations`: an id a session was rotated away from. */
export type RotationRow = {
  hash: string
  handle: string
  successor: string
  secret: string
  issued_at: number
  presented_at: number | null
  presented_device: string | null
  grace_ms: number
  expires_at: number
}

/** What a load with rotation on tells the object: the id (to derive its successor), the policy, the request's device. */
export interface LoadRotation {
  /** The session id the request showed (the object keeps only its hash). */
  readonly id: string
  readonly everyMs: number
  readonly graceMs: number
  /** The request's `User-Agent` and client hints, to describe its device when a reuse is recorded. */
  readonly headers: Readonly<Record<string, string>>
}

/** Where an old id stands: its successor not presented yet, presented within the grace, or stale. */
export type Standing = 'current' | 'grace' | 'stale'

/** Where `row`'s old id stands at `now`. */
export function standingOf(row: RotationRow, now: number): Standing {
  if (row.presented_at === null) return 'current'
  return now < row.presented_at + row.grace_ms ? 'grace' : 'stale'
}

const encoder = new TextEncoder()

/** A new rotation secret: 32 random bytes, base64url. */
export const newSecret = (): string => toBase64Url(crypto.getRandomValues(new Uint8Array(32)))

/** The successor of session id `id`: HMAC-SHA256(`secret`, `id`), 43 base64url characters like any id. */
export async function successorOf(secret: string, id: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  return toBase64Url(new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(id))))
}

/** A successor made ahead of the write that records it (the derivation is async; the write is not). */
export interface Successor {
  readonly id: string
  readonly hash: string
  readonly secret: string
}

/** A new successor of `id`, with its hash and the secret it came from. */
export async function newSuccessor(id: string): Promise<Successor> {
  const secret = newSecret()
  const successor = await successorOf(secret, id)
  return { id: successor, hash: await sha256Hex(successor), secret }
}

/** The object's `rotations` table. Synchronous, like the SQL it runs. */
export class Rotations {
  readonly #sql: CountingSql

  constructor(sql: CountingSql) {
    this.#sql = sql
  }

  /** The rotation away from `hash`, if `hash` is an old id of a session. */
  from(hash: string): RotationRow | undefined {
    return this.#sql.query<RotationRow>(
      `SELECT hash, handle, successor, secret, issued_at, presented_at, presented_device, grace_ms, expires_at
       FROM rotations WHERE hash = ?`,
      hash,
    )[0]
  }

  /**
   * Moves the session row `hash` to its successor's hash (the same row: handle, data, user,
   * expiry and sockets stay) and records the old id; `false` (nothing written) when the
   * row is gone or was rotated by another request meanwhile.
   */
  rotate(
    hash: string,
    successor: Successor,
    {
      handle,
      expiresAt,
      graceMs,
      now,
    }: { handle: string; expiresAt: number; graceMs: number; now: number },
  ): boolean {
    if (this.from(hash) !== undefined) return false
    const moved = this.#sql.run(
      'UPDATE sessions SET hash = ?, issued_at = ?, predecessor = ?, last_seen_at = ? WHERE hash = ?',
      successor.hash,
      now,
      hash,
      now,
      hash,
    )
    if (moved === 0) return false
    this.#sql.run(
      `INSERT INTO rotations (hash, handle, successor, secret, issued_at, presented_at, presented_device, grace_ms, expires_at)
       VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?)`,
      hash,
      handle,
      successor.hash,
      successor.secret,
      now,
      graceMs,
      expiresAt,
    )
    return true
  }

  /** The id `hash` (a successor) was presented for the first time: its predecessor's grace starts now. */
  presented(hash: string, predecessor: string, now: number, device: string | null): void {
    this.#sql.run(
      'UPDATE rotations SET presented_at = ?, presented_device = ? WHERE hash = ? AND presented_at IS NULL',
      now,
      device,
      predecessor,
    )
    this.#sql.run('UPDATE sessions SET predecessor = NULL WHERE hash = ?', hash)
  }

  /**
   * Remembers every id of the session `handle` (its current ones and its old ones) as ended
   * by a reuse, until `until`: before the session is ended, which forgets its old ids.
   */
  markReused(handle: string, until: number): void {
    this.#sql.run(
      `INSERT OR REPLACE INTO reused (hash, expires_at)
       SELECT hash, ? FROM sessions WHERE handle = ? UNION SELECT hash, ? FROM rotations WHERE handle = ?`,
      until,
      handle,
      until,
      handle,
    )
  }

  /** Whether `hash` is an id of a session a reuse ended. */
  reused(hash: string, now: number): boolean {
    return (
      this.#sql.query('SELECT 1 FROM reused WHERE hash = ? AND expires_at > ?', hash, now).length >
      0
    )
  }

  /** Forgets the old ids of the sessions `handles` (a JSON array) names: they ended. */
  forget(handles: string): void {
    this.#sql.run('DELETE FROM rotations WHERE handle IN (SELECT value FROM json_each(?))', handles)
  }

  /** Forgets old ids whose session would have expired by now anyway. */
  sweep(now: number): void {
    this.#sql.run('DELETE FROM rotations WHERE expires_at <= ?', now)
    this.#sql.run('DELETE FROM reused WHERE expires_at <= ?', now)
  }
}
