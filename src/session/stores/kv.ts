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
 * - revocation marker: `revoked:` + the same hash, value `1`, for {@link KV_REVOCATION_TTL}
 *   seconds after the session was destroyed (logout, `cycleKey()`, emptied, revoked).
 *
 * KV has no compare-and-set, so a request that loaded a session before a concurrent
 * logout would write it back (Django's db backend refuses that save: `UpdateError`).
 * The order of operations closes that race within one location: `destroy()` writes the
 * marker first and deletes the record second; a save of a loaded session writes first
 * and reads the marker second, and removes its own write and refuses when the marker is
 * there. Whichever lands second sees the other. Another location may still read the
 * old record, or miss the marker, for about 60 s (KV's propagation).
 *
 * KV accepts about one write per second to one key and refuses more with 429 ("KV PUT
 * failed: 429 Too Many Requests"): two tabs saving one session at once, or a counter on
 * every page. Such a write is retried after each wait of `rateLimitRetries` (200, 400,
 * 800 ms by default), inside the request; if KV still refuses, the save fails as any store
 * failure does (`STORE_UNAVAILABLE`, the client's cookie untouched).
 */
import { BoundedMap } from '../foundation/bounded-map.js'
import { invalidOption, SessionError } from '../foundation/errors.js'
import { generateSessionId, isSessionId, sha256Hex } from '../foundation/id.js'
import { logFailure } from '../foundation/log.js'
import { memoized } from '../foundation/memo.js'
import { decodeRecord } from './record.js'
import { resolveRetries, withRetries } from './retry.js'
import type { SessionEvent } from './events.js'
import {
  type DestroyContext,
  logSecurityEvent,
  type SaveResult,
  type SecurityEvent,
  type SessionRecord,
  type SessionRotation,
  type SessionStore,
  type SessionWrite,
} from './types.js'

/** Prefix of every session key in the namespace. */
export const KV_KEY_PREFIX = 'session:'

/** KV refuses an expiration less than 60 seconds away. */
export const KV_MIN_TTL = 60

/** Prefix of the revocation markers `destroy()` leaves behind. */
export const KV_REVOKED_PREFIX = 'revoked:'

/**
 * How long a revocation marker outlives its session, in seconds: longer than any request
 * that loaded the session before it was destroyed can still be running.
 */
export const KV_REVOCATION_TTL = 3600

/**
 * The part of a Workers KV namespace binding the store uses. `c.env.SESSIONS` (a
 * `KVNamespace`) is one; declared here so that the library's types need no Workers
 * types where KV is not used (plain Node, with the cookie store).
 */
export interface KVNamespaceLike {
  get(key: string, type: 'text'): Promise<string | null>
  put(key: string, value: string, options: { expirationTtl: number }): Promise<void>
  delete(key: string): Promise<void>
}

/** Options of {@link kvStore}. */
export interface KVStoreOptions {
  /** The namespace, e.g. `c.env.SESSIONS`. */
  namespace: KVNamespaceLike
  /**
   * Where security events (corrupt records) are reported. Never receives a session id.
   * @default console.warn of one JSON line
   */
  onSecurityEvent?: (event: SecurityEvent) => void
  /**
   * The waits, in ms, before each retry of a write KV refused with 429 (its limit of one
   * write per second to a key); at most 5 waits of at most 5000 ms each, `[]` for none.
   * @default [200, 400, 800]
   */
  rateLimitRetries?: readonly number[]
}

/** How many id -> key hashes a store remembers (oldest dropped first). */
const KEY_CACHE_SIZE = 64

/** The KV key a session id is stored under. */
export async function kvKeyFor(id: string): Promise<string> {
  return KV_KEY_PREFIX + (await sha256Hex(id))
}

/** The KV key of the revocation marker of a session id. */
export async function kvRevokedKeyFor(id: string): Promise<string> {
  return KV_REVOKED_PREFIX + (await sha256Hex(id))
}

/**
 * A session store on a Workers KV namespace.
 *
 * KV is eventually consistent and has no compare-and-set: a write is visible at once
 * in the location that made it and within about 60 s elsewhere, and two requests
 * writing one session concurrently end with the last write. Sessions suit that well
 * (one user, one browser), but see docs/security.md on what it means for `cycleKey()`.
 *
 * @example
 * ```ts
 * app.use(session({ store: (c) => kvStore({ namespace: c.env.SESSIONS }) }))
 * ```
 */
export function kvStore(options: KVStoreOptions): SessionStore {
  return kvStores(options)
}

/**
 * Stores per configuration, so `store: (c) => kvStore({ namespace: c.env.SESSIONS })` costs
 * a lookup per request and its id hashes stay cached across requests.
 */
const kvStores = memoized(16, (options: KVStoreOptions): SessionStore => {
  const { namespace } = options
  if (!isNamespace(namespace)) {
    throw invalidOption('kvStore()', 'namespace', 'must be a KV namespace binding')
  }
  const retries = resolveRetries('kvStore()', options.rateLimitRetries)
  return new KVSessionStore(namespace, options.onSecurityEvent ?? logSecurityEvent, retries)
})

/** Whether `value` has the methods of a KV namespace the store uses. */
export function isNamespace(value: unknown): value is KVNamespaceLike {
  const kv = value as Partial<KVNamespaceLike> | null | undefined
  return (
    typeof kv === 'object' &&
    kv !== null &&
    typeof kv.get === 'function' &&
    typeof kv.put === 'function' &&
    typeof kv.delete === 'function'
  )
}

/** Why the KV store refuses `session({ rotation })`. */
export const KV_ROTATION: SessionRotation = {
  supported: false,
  why: 'kvStore() cannot rotate session ids: KV is eventually consistent across locations and has no compare-and-set, so two locations could each issue a successor, or miss a reuse; use durableObjectStore()',
}

class KVSessionStore implements SessionStore {
  readonly rotation = KV_ROTATION
  // A few recent id -> hash pairs, so load(), save() and destroy() of one request share
  // one SHA-256 even while other requests interleave in the isolate.
  readonly #hashes = new BoundedMap<string, Promise<string>>(KEY_CACHE_SIZE)
  readonly #namespace: KVNamespaceLike
  readonly #onSecurityEvent: (event: SecurityEvent) => void
  readonly #retries: readonly number[]

  constructor(
    namespace: KVNamespaceLike,
    onSecurityEvent: (event: SecurityEvent) => void,
    retries: readonly number[],
  ) {
    this.#namespace = namespace
    this.#onSecurityEvent = onSecurityEvent
    this.#retries = retries
  }

  /** A KV write, retried while KV refuses it with 429. */
  async #put(key: string, value: string, ttl: number): Promise<void> {
    await withRetries(this.#retries, async () =>
      this.#namespace.put(key, value, { expirationTtl: ttl }),
    )
  }

  isValidToken(token: string): boolean {
    return isSessionId(token)
  }

  #hash(id: string): Promise<string> {
    return this.#hashes.getOrSet(id, () => sha256Hex(id))
  }

  async load(token: string): Promise<SessionRecord | null> {
    const hash = await this.#hash(token)
    const text = await this.#namespace.get(KV_KEY_PREFIX + hash, 'text')
    if (text === null) return null
    const record = decodeRecord(text)
    if (typeof record === 'string') {
      this.#onSecurityEvent({
        event: 'session.corrupt_record',
        reason: record,
        keyPrefix: hash.slice(0, 12),
      })
      return null
    }
    return record
  }

  async save(token: string | null, write: SessionWrite): Promise<SaveResult> {
    const { record, serialized, now, replaces } = write
    const id = token ?? generateSessionId()
    const key = KV_KEY_PREFIX + (await this.#hash(id))
    // A relative TTL, not an absolute `expiration`: it stays right even when the
    // session's clock (injectable) and KV's clock disagree.
    const ttl = Math.max(KV_MIN_TTL, Math.ceil((record.expiresAt - now) / 1000))
    await this.#put(key, serialized, ttl)
    // Write first, then look for a marker of the session this request loaded (or the
    // ones it replaces): see the module notes for why this order closes the race.
    const loaded = token === null ? replaces : [token, ...replaces]
    if (loaded.length > 0 && (await this.#revokedAny(loaded))) {
      await this.#namespace
        .delete(key)
        .catch((error: unknown) => logFailure('session.store_delete_failed', error))
      throw new SessionError(
        'SESSION_INTERRUPTED',
        'The session was ended by another request while this one ran; its changes were not saved.',
      )
    }
    return {
      token: id,
      expiry: record.expiry,
      expiresAt: record.expiresAt,
      moved: [],
      events: write.events,
    }
  }

  async #revokedAny(tokens: readonly string[]): Promise<boolean> {
    const markers = await Promise.all(
      tokens.map(async (t) =>
        this.#namespace.get(KV_REVOKED_PREFIX + (await this.#hash(t)), 'text'),
      ),
    )
    return markers.some((marker) => marker !== null)
  }

  /** No trail: resolves the context's events as given. */
  async destroy(token: string, { events }: DestroyContext): Promise<readonly SessionEvent[]> {
    const hash = await this.#hash(token)
    // The marker before the delete: a save racing this one either lands before the
    // delete (and is deleted with it) or sees the marker (and removes itself).
    await this.#put(KV_REVOKED_PREFIX + hash, '1', KV_REVOCATION_TTL)
    await this.#namespace.delete(KV_KEY_PREFIX + hash)
    return events
  }
}
