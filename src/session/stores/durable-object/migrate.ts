/**
 * @module
 * Moving sessions from Workers KV to the Durable Object store without logging anyone
 * out (`durableObjectStore({ migrateFromKV })`). A cookie that still holds a KV session
 * id is read from KV: a live session is handed to the core to move to a new key
 * (`rekey`), which saves it as a new session in the object it belongs in (its user's, or
 * an anonymous shard) at the end of the request, answers with the new cookie and then
 * destroys the KV record (a revocation marker, then the delete, as the KV store's own
 * logout). A request that saves nothing writes nothing, and the next one moves it. A
 * session KV no longer holds, that expired, or that a logout or revocation marked is
 * never revived.
 */
import { isSessionId } from '../../foundation/id.js'
import { kvRevokedKeyFor, kvStore, type KVNamespaceLike } from '../kv.js'
import type { SessionEvent } from '../events.js'
import type {
  DestroyContext,
  LoadedRecord,
  SecurityEvent,
  SessionStore,
  StoreContext,
} from '../types.js'

/** The KV side of a move: which tokens are KV ids, reading one, destroying it. */
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
   * Reads the KV session of `token`: when it is live and was never revoked, resolves it
   * marked `rekey`, for the core to save under a new token of the Durable Object store.
   * The KV record stays until the core destroys `token`, after that save, so a request
   * that fails (a 5xx) leaves the user on the KV session and nothing in any object.
   */
  async read(token: string, context: StoreContext): Promise<LoadedRecord | null> {
    const [record, marker] = await Promise.all([
      this.#kv.load(token, context),
      kvRevokedKeyFor(token).then((key) => this.#namespace.get(key, 'text')),
    ])
    if (record === null || marker !== null || record.expiresAt <= context.now) return null
    return { ...record, rekey: true }
  }

  /** Destroys the KV session of `token`: a revocation marker, then the delete; resolves `context`'s events. */
  async destroy(token: string, context: DestroyContext): Promise<readonly SessionEvent[]> {
    return this.#kv.destroy(token, context)
  }
}
