/**
 * @module
 * The cookie session store: the whole session lives in its cookie, sealed with
 * AES-256-GCM, so the client can neither read nor change it. Zero KV operations.
 *
 * Token format (stable across versions; a change bumps `v` in the additional data):
 * - token = base64url, no padding, of `iv (12 random bytes) || ciphertext || tag (16 bytes)`;
 * - plaintext = the JSON record of `record.ts` (`{"v":1,"data":…,"expiry":…,"expiresAt":ms}`),
 *   so `setExpiry()` and the session's max age travel sealed inside it, and a cookie
 *   replayed after `expiresAt` is refused by the middleware (unlike Django's
 *   `signed_cookies` backend, ticket #27775);
 * - key = HKDF-SHA256(secret, salt = empty, info = `edge-session/cookie-store/v1`),
 *   derived once per secret per isolate; fallback secrets only decrypt;
 * - additional data = `edge-session/cookie-store/v1|` + len(cookie name) + `:` + cookie
 *   name, so a sealed session moved to another cookie name does not open.
 *
 * What a stateless store cannot do: revoke. `destroy()` has nothing to delete, so logging
 * out clears the browser's cookie but a copy taken earlier keeps working until its
 * `expiresAt`. Pick the KV store when a logout must end every copy of a session.
 */
import { BoundedMap } from '../foundation/bounded-map.js'
import { SessionError } from '../foundation/errors.js'
import { logEvent } from '../foundation/log.js'
import { memoized } from '../foundation/memo.js'
import { fromBase64Url, toBase64Url } from '../foundation/bytes.js'
import { decodeRecord, type CorruptReason } from './record.js'
import { MAX_COOKIE_BYTES } from '../foundation/cookie-grammar.js'
import { resolveSecrets } from '../cookies/secrets.js'
import type { SessionEvent } from './events.js'
import type {
  DestroyContext,
  SaveResult,
  SessionRecord,
  SessionRotation,
  SessionStore,
  SessionWrite,
  StoreContext,
} from './types.js'

/** Options of {@link cookieStore}. */
export interface CookieStoreOptions {
  /** The secret sealing sessions, at least 32 bytes (e.g. `c.env.SESSION_SECRET`). */
  secret: string
  /**
   * Older secrets that still open sessions but never seal them. A session opened with
   * one is sealed with `secret` the next time it is saved. Keep an old secret listed
   * for the sessions' `maxAge`, or their owners are logged out.
   * @default []
   */
  fallbacks?: readonly string[]
}

const VERSION_INFO = 'edge-session/cookie-store/v1'
const IV_BYTES = 12
const TAG_BYTES = 16
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
/** `{"v":1,"data":{},"expiry":null,"expiresAt":0}` is 44 bytes: nothing shorter can be a record. */
const MIN_SEALED_BYTES = IV_BYTES + TAG_BYTES + 44
/** base64url of at least {@link MIN_SEALED_BYTES} bytes, and never more than a cookie holds. */
const TOKEN = new RegExp(
  `^[A-Za-z0-9_-]{${Math.ceil((MIN_SEALED_BYTES * 4) / 3)},${MAX_COOKIE_BYTES}}$`,
)

/**
 * A record that opened with one of our secrets but is not a valid v1 record (or cannot
 * be honoured) was sealed by something holding the secret: logged as a security event,
 * holding no token and no data, and read as no session.
 */
function corrupt(reason: CorruptReason): null {
  logEvent('session.corrupt_record', { reason, store: 'cookie' })
  return null
}

/** Derived AES keys, per secret, for the life of the isolate. */
const aesKeys = new BoundedMap<string, Promise<CryptoKey>>(64)

function aesKey(secret: string): Promise<CryptoKey> {
  return aesKeys.getOrSet(secret, () => {
    const key = crypto.subtle
      .importKey('raw', encoder.encode(secret), 'HKDF', false, ['deriveKey'])
      .then((base) =>
        crypto.subtle.deriveKey(
          {
            name: 'HKDF',
            hash: 'SHA-256',
            salt: new Uint8Array(0),
            info: encoder.encode(VERSION_INFO),
          },
          base,
          { name: 'AES-GCM', length: 256 },
          false,
          ['encrypt', 'decrypt'],
        ),
      )
    key.catch(() => aesKeys.delete(secret))
    return key
  })
}

/** The additional data a session sealed for cookie `name` is bound to, per name. */
const boundNames = new BoundedMap<string, Uint8Array<ArrayBuffer>>(16)

function additionalData(cookieName: string): Uint8Array<ArrayBuffer> {
  return boundNames.getOrSet(
    cookieName,
    () =>
      encoder.encode(
        `${VERSION_INFO}|${encoder.encode(cookieName).byteLength}:${cookieName}`,
      ) as Uint8Array<ArrayBuffer>,
  )
}

/**
 * A session store that keeps the whole session in its cookie (Django's
 * `signed_cookies` backend, encrypted rather than only signed, and honouring
 * `setExpiry()`). Throws `SessionError` `INVALID_OPTION`, naming the option, for a
 * secret under 32 bytes.
 *
 * Limits, by design: a session must fit a cookie (about 3 KB of JSON; `save` throws
 * `SessionError` `PAYLOAD_TOO_LARGE` before any header is written), travels with every
 * request, and cannot be revoked: see the module notes and docs/stores.md.
 *
 * @example
 * ```ts
 * app.use(session({
 *   store: (c) => cookieStore({ secret: c.env.SESSION_SECRET }),
 * }))
 * ```
 */
export function cookieStore(options: CookieStoreOptions): SessionStore {
  return cookieStores(options)
}

/**
 * Stores per configuration, so `store: (c) => cookieStore({...})` costs a lookup per
 * request, not a validation and a key derivation.
 */
const cookieStores = memoized(16, (options: CookieStoreOptions): SessionStore => {
  const secrets = resolveSecrets('cookieStore()', options.secret, options.fallbacks)
  for (const secret of secrets) aesKey(secret).catch(() => {})
  return new CookieSessionStore(secrets)
})

class CookieSessionStore implements SessionStore {
  readonly rotation: SessionRotation = {
    supported: false,
    why: 'cookieStore() cannot rotate session ids: it keeps no server state, so a replaced cookie cannot be told from the current one; use durableObjectStore()',
  }
  readonly #secrets: readonly string[]

  constructor(secrets: readonly string[]) {
    this.#secrets = secrets
  }

  isValidToken(token: string): boolean {
    return TOKEN.test(token)
  }

  async load(token: string, { cookieName }: StoreContext): Promise<SessionRecord | null> {
    const sealed = fromBase64Url(token)
    if (sealed === null || sealed.byteLength < MIN_SEALED_BYTES) return null
    const iv = sealed.subarray(0, IV_BYTES)
    const ciphertext = sealed.subarray(IV_BYTES)
    for (const secret of this.#secrets) {
      let plain: ArrayBuffer
      try {
        plain = await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv, additionalData: additionalData(cookieName) },
          await aesKey(secret),
          ciphertext,
        )
      } catch {
        continue // not sealed with this secret (or changed): try the next one
      }
      let text: string
      try {
        text = decoder.decode(plain)
      } catch {
        return corrupt('not-json')
      }
      const record = decodeRecord(text)
      return typeof record === 'string' ? corrupt(record) : record
    }
    return null
  }

  async save(_token: string | null, write: SessionWrite): Promise<SaveResult> {
    const { serialized, cookieName, record } = write
    // Refuse before encrypting when even the plaintext cannot fit (base64 grows by 4/3).
    const plainBytes = encoder.encode(serialized) as Uint8Array<ArrayBuffer>
    const tokenLength = Math.ceil(((IV_BYTES + plainBytes.byteLength + TAG_BYTES) * 4) / 3)
    const prefixBytes = encoder.encode(cookieName).byteLength + 1 // `name=`
    if (prefixBytes + tokenLength > MAX_COOKIE_BYTES) {
      throw new SessionError(
        'PAYLOAD_TOO_LARGE',
        `The session is ${plainBytes.byteLength} bytes; sealed in cookie "${cookieName}" it would be ` +
          `${prefixBytes + tokenLength} bytes, over the ${MAX_COOKIE_BYTES} browsers keep. Store less, or use the KV store.`,
      )
    }
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
    const ciphertext = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: additionalData(cookieName) },
      await aesKey(this.#secrets[0] as string),
      plainBytes,
    )
    const sealed = new Uint8Array(IV_BYTES + ciphertext.byteLength)
    sealed.set(iv)
    sealed.set(new Uint8Array(ciphertext), IV_BYTES)
    return {
      token: toBase64Url(sealed),
      expiry: record.expiry,
      expiresAt: record.expiresAt,
      moved: [],
      events: write.events,
    }
  }

  /** Nothing to delete: the session is the cookie, and the middleware deletes that. No trail: the events as given. */
  async destroy(_token: string, { events }: DestroyContext): Promise<readonly SessionEvent[]> {
    return events
  }
}
