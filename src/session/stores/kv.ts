/**
 * @module
 * The Workers KV session store.
 *
 * Storage schema (stable across versions; a change bumps the record's `v`):
 * - key: `session:` + lower-case hex SHA-256 of the session id. The id itself is never
 *   stored, so a leaked key listing holds no usable session, and no client-chosen
 *   string ever becomes a KV key.
 * - value: the JSON record of `record.ts` (`{"v":1,"data":…,"expiry":…,"expiresAt":ms}`).
 * - expiration: the session's expiry (`expirationTtl` = seconds until `expiresAt`), but
 *   never less than 60 s, because KV refuses shorter TTLs. A record read after its
 *   `expiresAt` is treated as absent, so a 5-second session ends after 5 seconds even
 *   though KV keeps the bytes for 60.
 */
import { generateSessionId, isSessionId, sha256Hex } from '../id.js'
import { decodeRecord } from '../record.js'
import type { SessionRecord, SessionStore, SessionWrite } from './types.js'

/** Prefix of every session key in the namespace. */
export const KV_KEY_PREFIX = 'session:'

/** KV refuses an expiration less than 60 seconds away. */
export const KV_MIN_TTL = 60

/** Options of {@link kvStore}. */
export interface KVStoreOptions {
  /** The namespace, e.g. `c.env.SESSIONS`. */
  namespace: KVNamespace
  /**
   * Where security events (corrupt records) are reported. Never receives a session id.
   * @default console.warn of one JSON line
   */
  onSecurityEvent?: (event: SecurityEvent) => void
}

/** How many id -> key hashes a store remembers (oldest dropped first). */
const KEY_CACHE_SIZE = 64

/** A security-relevant observation, safe to log: it holds no id and no data. */
export interface SecurityEvent {
  event: 'session.corrupt_record'
  reason: string
  /** First 12 hex characters of the KV key, enough to find the record, useless to an attacker. */
  keyPrefix: string
}

const logSecurityEvent = (event: SecurityEvent): void => {
  console.warn(JSON.stringify(event))
}

/** The KV key a session id is stored under. */
export async function kvKeyFor(id: string): Promise<string> {
  return KV_KEY_PREFIX + (await sha256Hex(id))
}

/**
 * A session store on a Workers KV namespace.
 *
 * KV is eventually consistent and has no compare-and-set: a write is visible at once
 * in the location that made it and within about 60 s elsewhere, and two requests
 * writing one session concurrently end with the last write. Sessions suit that well
 * (one user, one browser), but see the README on what it means for `cycleKey()`.
 *
 * @example
 * ```ts
 * app.use(session({ store: (c) => kvStore({ namespace: c.env.SESSIONS }) }))
 * ```
 */
export function kvStore(options: KVStoreOptions): SessionStore {
  return new KVSessionStore(options.namespace, options.onSecurityEvent ?? logSecurityEvent)
}

class KVSessionStore implements SessionStore {
  // A few recent id -> key hashes, so load(), save() and destroy() of one request share
  // one SHA-256 even while other requests interleave in the isolate.
  #keys = new Map<string, string>()

  readonly namespace: KVNamespace
  readonly onSecurityEvent: (event: SecurityEvent) => void

  constructor(namespace: KVNamespace, onSecurityEvent: (event: SecurityEvent) => void) {
    this.namespace = namespace
    this.onSecurityEvent = onSecurityEvent
  }

  isValidToken(token: string): boolean {
    return isSessionId(token)
  }

  async #key(id: string): Promise<string> {
    let key = this.#keys.get(id)
    if (key === undefined) {
      key = await kvKeyFor(id)
      if (this.#keys.size >= KEY_CACHE_SIZE) this.#keys.delete(this.#keys.keys().next().value as string)
      this.#keys.set(id, key)
    }
    return key
  }

  async load(token: string): Promise<SessionRecord | null> {
    const key = await this.#key(token)
    const text = await this.namespace.get(key, 'text')
    if (text === null) return null
    const record = decodeRecord(text)
    if (typeof record === 'string') {
      this.onSecurityEvent({ event: 'session.corrupt_record', reason: record, keyPrefix: key.slice(KV_KEY_PREFIX.length, KV_KEY_PREFIX.length + 12) })
      return null
    }
    return record
  }

  async save(token: string | null, { record, serialized, now }: SessionWrite): Promise<string> {
    const id = token ?? generateSessionId()
    // A relative TTL, not an absolute `expiration`: it stays right even when the
    // session's clock (injectable) and KV's clock disagree.
    const ttl = Math.max(KV_MIN_TTL, Math.ceil((record.expiresAt - now) / 1000))
    await this.namespace.put(await this.#key(id), serialized, { expirationTtl: ttl })
    return id
  }

  async destroy(token: string): Promise<void> {
    await this.namespace.delete(await this.#key(token))
  }
}

// A store per namespace object, so the default store costs no allocation per request.
const stores = new WeakMap<KVNamespace, SessionStore>()

/** The default store for a namespace, made once per isolate. */
export function kvStoreFor(namespace: KVNamespace): SessionStore {
  let store = stores.get(namespace)
  if (!store) {
    store = kvStore({ namespace })
    stores.set(namespace, store)
  }
  return store
}
