/**
 * @module
 * The SQLite schema of the session Durable Object, its migrations, its row shape, and the
 * name of the object a user's sessions live in.
 *
 * Stable across versions (a change adds a migration and bumps {@link SCHEMA_VERSION}):
 * - `meta` (one row): `schema_version`. DO SQLite refuses `PRAGMA user_version`.
 * - `sessions` (`WITHOUT ROWID`, keyed by `hash`, no secondary index: a save writes one
 *   row, and the alarm's scan of expired rows is billed as reads, a thousandth of a write):
 *   - `hash`: lower-case hex SHA-256 of the session id (the id itself is never stored);
 *   - `handle`: a random, non-secret name for the session ("your sessions");
 *   - `user`: the user id the object belongs to (`NULL` in anonymous shards);
 *   - `record`: the JSON record of `record.ts`, exactly what the KV store keeps;
 *   - `created_at`, `last_seen_at`, `expires_at`: ms since the epoch;
 *   - `user_agent`, `country`, `colo`: the device at creation (`NULL` unless recorded).
 *   A row is deleted by logout, an emptied session, revocation, an auth-hash mismatch or the
 *   alarm once it expired (all through the object's `#endSessions()`), or moved to a new key.
 * - `moved` (version 2, `WITHOUT ROWID`, keyed by `hash`): a key a session left by a move
 *   in this object (`cycleKey()`, `updateAuthHash()`), with the `handle` it kept and the
 *   `expires_at` of the row it was: a logout still in flight with the old key ends the
 *   session under its new key. Swept by the alarm. A `kv:` + SHA-256 hash row (handle
 *   `kv:<handle>`) says a KV id moved here (`migrateFromKV`): a second move is refused.
 * - `verifiers` (version 2, `WITHOUT ROWID`, keyed by `user`): the verifier hash the latest
 *   login or verifier change in this object bound (`hash`); `list()` logs out only rows
 *   bound to another one.
 * - version 3, for "your sessions" and the security trail:
 *   - `sessions` gains `device` (the JSON of `describeDevice()` at creation, from the
 *     `User-Agent` and client hints), `region` and `city` (`request.cf`, when recorded);
 *   - `events` (`id INTEGER PRIMARY KEY`, increasing): the user's trail, `user`, `at`
 *     (ms), `type`, and `body` (the event's JSON without its id); pruned by count and age
 *     as events are written;
 *   - `known_devices` (`WITHOUT ROWID`, keyed by `user` and `hash`): the SHA-256 of each
 *     known-device cookie that logged in as the user, with `first_at` and `last_at`;
 *   - `settings` (`WITHOUT ROWID`, keyed by `name`): `retention`, the trail retention the
 *     store last gave, so an admin call without a store keeps the same.
 * - `login_failures` (version 4, `WITHOUT ROWID`, keyed by `user`): login throttling, one
 *   row per user name with failures: `failures` (a JSON array of the times, in ms, of the
 *   failed logins within the window, oldest first, fewer than the limit) and `locked_until`
 *   (ms; `0` when not locked). Deleted by a successful login or re-authentication.
 * - version 5, rotation of session ids (`session({ rotation })`, `rotation.ts`):
 *   - `sessions` gains `issued_at` (ms: when the row's id was issued by a rotation; `NULL`:
 *     at `created_at`) and `predecessor` (the hash of the id it was rotated from, until this
 *     id is first presented);
 *   - `rotations` (`WITHOUT ROWID`, keyed by `hash`): an id a session was rotated away
 *     from, with the session's `handle`, its `successor`'s hash, the per-rotation `secret`
 *     the successor id is derived from with the old id, `issued_at`, `presented_at` (ms,
 *     `NULL` until the successor is first presented) and the device that presented it
 *     (`presented_device`, JSON), the `grace_ms` the rotation was made with, and
 *     `expires_at` (the session's expiry at the rotation). Removed with the session
 *     (`#endSessions()`), or by the alarm once expired;
 *   - `reused` (`WITHOUT ROWID`, keyed by `hash`): every id of a session ended because one
 *     was reused, until `expires_at` (the session's expiry then), so that the other holder's
 *     next request learns why (`session.endedBy()`). Swept by the alarm.
 * - `impersonations` (version 6, `WITHOUT ROWID`, keyed by `handle`), in the target's
 *   object: one row per impersonation session (`session.impersonate()`), beside its
 *   `sessions` row of the same `handle`: `hash` (its current key), `impersonator`, `target`,
 *   `reason`, the operator's session to return to (`admin_object`, the object's id;
 *   `admin_hash`; `admin_handle`), `started_at`, `ends_at` (the time limit), `ended` (how
 *   it ended, `NULL` while it lasts) and `keep_until` (ms): an ended row stays until the
 *   operator's next request with it (which hands their session back and deletes it) or
 *   `keep_until`, when the alarm deletes it.
 */

import {
  type DeviceDetails,
  type DeviceLocation,
  describeDevice,
  describeLocation,
} from '../../foundation/device.js'
import type { SessionInfo } from '../types.js'

/**
 * The name (`idFromName()`) of the object that keeps every session of `user`: the store
 * places a logged-in session there, and the registry and `userSessions()` find them there.
 */
export const userObjectName = (user: string): string => `user:${user}`

/** The schema version this code writes; older databases are migrated up in the constructor. */
export const SCHEMA_VERSION = 6

/** One session as the object keeps it. */
export interface SessionRow {
  hash: string
  handle: string
  user: string | null
  record: string
  created_at: number
  last_seen_at: number
  expires_at: number
  user_agent: string | null
  country: string | null
  colo: string | null
  /** The JSON of the device's details at creation, or `null` (rows of schema 2). */
  device: string | null
  region: string | null
  city: string | null
  /** When the row's id was issued by a rotation, or `null` (at `created_at`): schema 5. */
  issued_at?: number | null
  /** The hash of the id this one was rotated from, until this one is first presented: schema 5. */
  predecessor?: string | null
}

/** Brings the database up to {@link SCHEMA_VERSION}, in one transaction; safe to run every start. */
export function migrate(storage: DurableObjectStorage): void {
  const sql = storage.sql
  storage.transactionSync(() => {
    sql.exec(
      'CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), schema_version INTEGER NOT NULL)',
    )
    const from =
      sql.exec<{ schema_version: number }>('SELECT schema_version FROM meta').toArray()[0]
        ?.schema_version ?? 0
    if (from >= SCHEMA_VERSION) return
    if (from < 1) {
      sql.exec(`CREATE TABLE sessions (
        hash TEXT PRIMARY KEY,
        handle TEXT NOT NULL,
        user TEXT,
        record TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        user_agent TEXT,
        country TEXT,
        colo TEXT
      ) WITHOUT ROWID`)
    }
    if (from < 2) {
      sql.exec(
        'CREATE TABLE moved (hash TEXT PRIMARY KEY, handle TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID',
      )
      sql.exec('CREATE TABLE verifiers (user TEXT PRIMARY KEY, hash TEXT) WITHOUT ROWID')
    }
    if (from < 3) {
      sql.exec('ALTER TABLE sessions ADD COLUMN device TEXT')
      sql.exec('ALTER TABLE sessions ADD COLUMN region TEXT')
      sql.exec('ALTER TABLE sessions ADD COLUMN city TEXT')
      // No AUTOINCREMENT: it writes sqlite_sequence on every insert (a billed row); ids
      // stay increasing because pruning never removes the newest event.
      sql.exec(`CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        user TEXT NOT NULL,
        at INTEGER NOT NULL,
        type TEXT NOT NULL,
        body TEXT NOT NULL
      )`)
      sql.exec(`CREATE TABLE known_devices (
        user TEXT NOT NULL,
        hash TEXT NOT NULL,
        first_at INTEGER NOT NULL,
        last_at INTEGER NOT NULL,
        PRIMARY KEY (user, hash)
      ) WITHOUT ROWID`)
      sql.exec('CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID')
    }
    if (from < 4) {
      sql.exec(
        'CREATE TABLE login_failures (user TEXT PRIMARY KEY, failures TEXT NOT NULL, locked_until INTEGER NOT NULL) WITHOUT ROWID',
      )
    }
    if (from < 5) {
      sql.exec('ALTER TABLE sessions ADD COLUMN issued_at INTEGER')
      sql.exec('ALTER TABLE sessions ADD COLUMN predecessor TEXT')
      sql.exec(`CREATE TABLE rotations (
        hash TEXT PRIMARY KEY,
        handle TEXT NOT NULL,
        successor TEXT NOT NULL,
        secret TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        presented_at INTEGER,
        presented_device TEXT,
        grace_ms INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID`)
      sql.exec(
        'CREATE TABLE reused (hash TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID',
      )
    }
    if (from < 6) {
      sql.exec(`CREATE TABLE IF NOT EXISTS impersonations (
        handle TEXT PRIMARY KEY, hash TEXT NOT NULL, impersonator TEXT NOT NULL,
        target TEXT NOT NULL, reason TEXT NOT NULL, admin_object TEXT NOT NULL,
        admin_hash TEXT NOT NULL, admin_handle TEXT NOT NULL, started_at INTEGER NOT NULL,
        ends_at INTEGER NOT NULL, ended TEXT, keep_until INTEGER NOT NULL
      ) WITHOUT ROWID`)
    }
    sql.exec(
      'INSERT INTO meta (id, schema_version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET schema_version = excluded.schema_version',
      SCHEMA_VERSION,
    )
  })
}

/** The device of a row: as described at its creation, or (a row of schema 2) from its `User-Agent`. */
export function rowDevice(row: Pick<SessionRow, 'device' | 'user_agent'>): DeviceDetails {
  if (row.device !== null) {
    try {
      return JSON.parse(row.device) as DeviceDetails
    } catch {
      // A row written by hand: described again from its User-Agent below.
    }
  }
  return describeDevice(
    new Headers(row.user_agent === null ? {} : { 'User-Agent': row.user_agent }),
  )
}

/** Where a row was created, when its location was recorded; else `null`. */
export function rowLocation(
  row: Pick<SessionRow, 'country' | 'region' | 'city'>,
): DeviceLocation | null {
  return describeLocation({ country: row.country, region: row.region, city: row.city })
}

/** A listed row as {@link SessionInfo}: what `listSessions()` and `userSessions().listSessions()` answer. */
export function toSessionInfo(row: ListedRow, current: boolean): SessionInfo {
  return {
    handle: row.handle,
    current,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    device: rowDevice(row),
    location: rowLocation(row),
    userAgent: row.user_agent,
    country: row.country,
    colo: row.colo,
    ...(row.impersonator ? { impersonator: row.impersonator } : {}),
  }
}

/**
 * One row of `SessionObject.list()`: everything but the record and the user, and the
 * operator acting as the user when the session is an impersonation.
 */
export type ListedRow = Omit<SessionRow, 'record' | 'user'> & { impersonator?: string | null }
