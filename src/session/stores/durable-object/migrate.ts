/**
 * @module
 * Moving sessions from Workers KV to the Durable Object store without logging anyone
 * out (`durableObjectStore({ migrateFromKV })`). A cookie that still holds a KV session
 * id is read from KV: a live session is handed to the core to move to a new key
 * (`rekey`), which saves it as a new session in the object it belongs in (its user's, or
 * the anonymous shard the KV id picks) at the end of the request and answers with the new
 * cookie. The KV id then leaves a forward, not a logout: its revocation marker holds the
 * new token, sealed with a key only the KV id gives (AES-GCM, key = SHA-256 of a label and
 * the id), and the record is deleted. Requests still carrying the KV id (a page's parallel
 * first requests) read the forward and reach the moved session; the object refuses a
 * second move of the same KV id, so no copy is ever made. A request that saves nothing
 * writes nothing, and the next one moves it. A session KV no longer holds, that expired,
 * or that a logout or revocation marked is never revived.
 */
import { BoundedMap } from '../../foundation/bounded-map.js'
import { fromBase64Url, toBase64Url } from '../../foundation/bytes.js'
import { isSessionId, sha256Hex } from '../../foundation/id.js'
import {
  KV_KEY_PREFIX,
  KV_REVOCATION_TTL,
  KV_REVOKED_PREFIX,
  kvStore,
  type KVNamespaceLike,
} from '../kv.js'
import type { SessionEvent } from '../events.js'
import { FORWARD_TTL_MS } from './object.js'
import type {
  DestroyContext,
  LoadedRecord,
  SecurityEvent,
  SessionStore,
  StoreContext,
} from '../types.js'

/** How a revocation marker that is a forward begins; any other marker is a logout. */
const FORWARD_PREFIX = 'moved.'
/** The label the sealing key is derived with, so it is never the marker's own key hash. */
const SEAL_LABEL = 'edge-session kv forward\u0000'
/** How many KV id -> forwarded token pairs an isolate remembers (a request reads it once). */
const FORWARD_CACHE_SIZE = 64
/** AES-GCM's nonce length, in bytes. */
const IV_BYTES = 12

/** What reading a KV id found: a session to move, a forward to where it moved, or nothing. */
export type KvRead = { record: LoadedRecord } | { forward: string } | null

/** The KV side of a move: which tokens are KV ids, reading one, forwarding or destroying it. */
export class KvMigration {
  readonly #namespace: KVNamespaceLike
  readonly #kv: SessionStore
  /** Recent forwards read, so a request's load and save read the marker once. */
  readonly #forwards = new BoundedMap<string, Forward>(FORWARD_CACHE_SIZE)

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
   * marked `rekey`, for the core to save under a new token of the Durable Object store;
   * when it moved already, the token it moved to. The KV record stays until that save, so a
   * request that fails (a 5xx) leaves the user on the KV session and nothing in any object.
   */
  async read(token: string, context: StoreContext): Promise<KvRead> {
    const [record, marker] = await Promise.all([this.#kv.load(token, context), this.#marker(token)])
    if (marker !== null) {
      const to = marker === 'revoked' ? null : followed(marker, context.now)
      return to === null ? null : { forward: to }
    }
    if (record === null || record.expiresAt <= context.now) return null
    return { record: { ...record, rekey: true } }
  }

  /**
   * The token the KV session of `token` moved to, while its forward lasts at `now`
   * ({@link FORWARD_TTL_MS} after the move), or `null` (never moved, logged out, or the
   * forward is over: then it reaches nothing, as a logged-out id).
   */
  async forwardOf(token: string, now: number): Promise<string | null> {
    const marker = await this.#marker(token)
    return marker === null || marker === 'revoked' ? null : followed(marker, now)
  }

  /** The marker of `token`: `null` (none), `revoked`, or the forward it holds. */
  async #marker(token: string): Promise<Forward | 'revoked' | null> {
    const known = this.#forwards.get(token)
    if (known !== undefined) return known
    const text = await this.#namespace.get(KV_REVOKED_PREFIX + (await sha256Hex(token)), 'text')
    if (text === null) return null
    if (!text.startsWith(FORWARD_PREFIX)) return 'revoked'
    const opened = await unseal(token, text.slice(FORWARD_PREFIX.length))
    const dot = opened?.indexOf('.') ?? -1
    const until = Number(opened?.slice(0, dot))
    if (opened === null || dot < 1 || !Number.isSafeInteger(until)) return 'revoked' // not ours to follow
    return this.#forwards.set(token, { to: opened.slice(dot + 1), until })
  }

  /**
   * Leaves the KV session of `token` as a forward to `to` (its new token) for
   * {@link FORWARD_TTL_MS} from `now`: the sealed marker, then the delete of the record
   * (the order of the KV store's own logout, so a racing KV write sees the marker). The
   * marker stays a revocation marker for the KV store's full {@link KV_REVOCATION_TTL}.
   */
  async forward(token: string, to: string, now: number): Promise<void> {
    const hash = await sha256Hex(token)
    const forward = { to, until: now + FORWARD_TTL_MS }
    const sealed = await seal(token, `${forward.until}.${to}`)
    await this.#namespace.put(KV_REVOKED_PREFIX + hash, FORWARD_PREFIX + sealed, {
      expirationTtl: KV_REVOCATION_TTL,
    })
    this.#forwards.set(token, forward)
    await this.#namespace.delete(KV_KEY_PREFIX + hash)
  }

  /** Destroys the KV session of `token`: a revocation marker, then the delete; resolves `context`'s events. */
  async destroy(token: string, context: DestroyContext): Promise<readonly SessionEvent[]> {
    this.#forwards.delete(token)
    return this.#kv.destroy(token, context)
  }
}

/** Where a moved KV id leads, and until when (ms). */
interface Forward {
  readonly to: string
  readonly until: number
}

/** The token `forward` leads to at `now`, or `null` once it is over. */
function followed(forward: Forward, now: number): string | null {
  return now < forward.until ? forward.to : null
}

/** The AES-GCM key a KV id seals its forward with: only a holder of the id can open it. */
async function sealingKey(id: string): Promise<CryptoKey> {
  const bytes = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(SEAL_LABEL + id))
  return crypto.subtle.importKey('raw', bytes, 'AES-GCM', false, ['encrypt', 'decrypt'])
}

/** `text` sealed under `id`'s key: base64url of the nonce and the ciphertext. */
async function seal(id: string, text: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv },
    await sealingKey(id),
    new TextEncoder().encode(text),
  )
  const out = new Uint8Array(IV_BYTES + sealed.byteLength)
  out.set(iv)
  out.set(new Uint8Array(sealed), IV_BYTES)
  return toBase64Url(out)
}

/** What {@link seal} sealed, or `null` when it does not open under `id`'s key. */
async function unseal(id: string, sealed: string): Promise<string | null> {
  const bytes = fromBase64Url(sealed)
  if (bytes === null || bytes.length <= IV_BYTES) return null
  try {
    const text = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: bytes.slice(0, IV_BYTES) },
      await sealingKey(id),
      bytes.slice(IV_BYTES),
    )
    return new TextDecoder().decode(text)
  } catch {
    return null
  }
}
