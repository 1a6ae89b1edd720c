/**
 * @module
 * The session object's SQLite access: statements that count the rows they read and wrote
 * (the units Durable Object storage is billed in), and the queries the object runs more
 * than once. Synchronous, like `ctx.storage.sql`: a caller's stretch of statements is never
 * interleaved with another request's.
 */
import type { SessionRow } from './schema.js'

/** `ctx.storage.sql` with row counting. */
export class CountingSql {
  readonly #sql: SqlStorage
  /** SQLite rows read since the object started. */
  rowsRead = 0
  /** SQLite rows written since the object started. */
  rowsWritten = 0

  constructor(sql: SqlStorage) {
    this.#sql = sql
  }

  /** Runs a query; returns its rows. */
  query<T extends Record<string, SqlStorageValue>>(
    query: string,
    ...bindings: SqlStorageValue[]
  ): T[] {
    const cursor = this.#sql.exec<T>(query, ...bindings)
    const rows = cursor.toArray()
    this.rowsRead += cursor.rowsRead
    this.rowsWritten += cursor.rowsWritten
    return rows
  }

  /** Runs a statement; returns how many rows it wrote. */
  run(query: string, ...bindings: SqlStorageValue[]): number {
    const cursor = this.#sql.exec(query, ...bindings)
    cursor.toArray()
    this.rowsRead += cursor.rowsRead
    this.rowsWritten += cursor.rowsWritten
    return cursor.rowsWritten
  }

  /** A live session's row (not expired at `now`), or `undefined`. */
  live(
    hash: string,
    now: number,
  ): Pick<SessionRow, 'handle' | 'record' | 'expires_at'> | undefined {
    return this.query<Pick<SessionRow, 'handle' | 'record' | 'expires_at'>>(
      'SELECT handle, record, expires_at FROM sessions WHERE hash = ? AND expires_at > ?',
      hash,
      now,
    )[0]
  }

  /** The handle a key names: its session's, or the one it kept when it moved to a new key here. */
  handleOf(hash: string): string | undefined {
    return (
      this.query<{ handle: string }>('SELECT handle FROM sessions WHERE hash = ?', hash)[0]
        ?.handle ??
      this.query<{ handle: string }>('SELECT handle FROM moved WHERE hash = ?', hash)[0]?.handle
    )
  }

  /** Inserts a session row. */
  insert(row: SessionRow): void {
    this.run(
      `INSERT INTO sessions (hash, handle, user, record, created_at, last_seen_at, expires_at, user_agent, country, colo, device, region, city)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      row.hash,
      row.handle,
      row.user,
      row.record,
      row.created_at,
      row.last_seen_at,
      row.expires_at,
      row.user_agent,
      row.country,
      row.colo,
      row.device,
      row.region,
      row.city,
    )
  }
}
