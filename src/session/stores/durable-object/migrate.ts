/**
 * @module
 * Moving sessions from Workers KV to the Durable Object store without logging anyone
 * out (`durableObjectStore({ migrateFromKV })`). A cookie that still holds a KV session
 * id is read from KV once: a live session is written into the object it belongs in (its
 * user's, or an anonymous shard) and loaded from there, and the core answers with the new
 * cookie and then destroys the KV record (a revocation marker, then the delete, as the KV
 * store's own logout). A session KV no longer holds, that expired, or that a logout or
 * revocation marked is never revived.
 */
import { isSessionId } from '../../foundation/id.js'
import { encodeRecord } from '../record.js'
import { kvRevokedKeyFor, kvStore, type KVNamespaceLike } from '../kv.js'
import type { LoadedRecord, SecurityEvent, SessionStore, SessionWrite, StoreContext } from '../types.js'

/** Larger than any session a store accepts: the record was checked when KV stored it. */
const NO_LIMIT = Number.MAX_SAFE_INTEGER

/** Writes a session as a new one in the Durable Object store; resolves its token. */
export type CreateSession = (token: null, write: SessionWrite) => Promise<string>

/** The KV side of a move: which tokens are KV ids, taking one over, destroying it. */
export class KvMigration {
  readonly #namespace: KVNamespaceLike
  readonly #kv: SessionStore

  constructor(namespace: KVNamespaceLike, onSecurityEvent: (event: SecurityEvent) => void) {
    this.#namespace = namespace
    this.#kv = kvStore({ namespace, onSecurityEvent })
  }

  /** Whether a cookie value is a KV session id (43 base64url characters), not a Durable Object token. */
  isKvToken(token: string): boolean {
    return isSessionId(token)
  }

  /**
   * Reads the KV session of `token` and, when it is live and was never revoked, writes it
   * into the Durable Object store with `create`; resolves the record with `movedTo`, its
   * new token. The KV record stays until the core destroys `token`, after saving under the
   * new one, so a request that fails (a 5xx) leaves the user on the KV session.
   */
  async take(token: string, context: StoreContext, create: CreateSession): Promise<LoadedRecord | null> {
    const [record, marker] = await Promise.all([
      this.#kv.load(token, context),
      kvRevokedKeyFor(token).then((key) => this.#namespace.get(key, 'text')),
    ])
    if (record === null || marker !== null || record.expiresAt <= context.now) return null
    const movedTo = await create(null, {
      record,
      serialized: encodeRecord(record, NO_LIMIT),
      changes: null,
      replaces: [],
      maxPayloadBytes: NO_LIMIT,
      // Only a merge reads it, and a new session (changes: null, replacing nothing) merges nothing.
      lifetime: { maxAge: Math.ceil((record.expiresAt - context.now) / 1000), absoluteMaxAge: null },
      now: context.now,
      request: context.request,
    })
    return { ...record, movedTo }
  }

  /** Destroys the KV session of `token`: a revocation marker, then the delete. */
  async destroy(token: string, context: StoreContext): Promise<void> {
    await this.#kv.destroy(token, context)
  }
}
