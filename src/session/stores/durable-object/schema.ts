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
 *   session under its new key. Swept by the alarm.
 * - `verifiers` (version 2, `WITHOUT ROWID`, keyed by `user`): the verifier hash the latest
 *   login or verifier change in this object bound (`hash`); `list()` logs out only rows
 *   bound to another one.
 */

import type { SessionInfo } from '../types.js'

/**
 * The name (`idFromName()`) of the object that keeps every session of `user`: the store
 * places a logged-in session there, and the registry and `userSessions()` find them there.
 */
export const userObjectName = (user: string): string => `user:${user}`

/** The schema version this code writes; older databases are migrated up in the constructor. */
export const SCHEMA_VERSION = 2

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
    sql.exec(
      'INSERT INTO meta (id, schema_version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET schema_version = excluded.schema_version',
      SCHEMA_VERSION,
    )
  })
}

/** A listed row as {@link SessionInfo}: what `listSessions()` and `userSessions().list()` answer. */
export function toSessionInfo(
  row: Omit<SessionRow, 'record' | 'user'>,
  current: boolean,
): SessionInfo {
  return {
    handle: row.handle,
    current,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    userAgent: row.user_agent,
    country: row.country,
    colo: row.colo,
  }
}
