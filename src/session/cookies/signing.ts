/**
 * @module
 * A signer with purpose, salt, timestamp and secret rotation: Django's
 * `TimestampSigner` on Web Crypto, with a domain separation that cannot be confused.
 *
 * Format (stable across versions):
 * ```
 * signed    = value ":" timestamp ":" signature
 * timestamp = base62 of whole seconds since the epoch (Django's alphabet 0-9A-Za-z)
 * signature = base64url, no padding, of HMAC-SHA256(secret, message)
 * message   = len(purpose) ":" purpose "|" len(salt) ":" salt "|" value ":" timestamp
 * ```
 * `len` is the UTF-8 byte length in decimal. Because purpose and salt are
 * length-prefixed, `purpose: 'a', salt: 'bc'` and `purpose: 'ab', salt: 'c'` sign
 * different messages (Django joins them, CVE-2026-6873), and a value signed for one
 * purpose (a cookie name) never verifies for another.
 */
import { BoundedMap } from '../foundation/bounded-map.js'
import {
  BadSignatureError,
  invalidOption,
  SessionError,
  SignatureExpiredError,
} from '../foundation/errors.js'
import { resolveSecrets } from './secrets.js'
import { fromBase64Url, toBase64Url } from '../foundation/bytes.js'

/** Options of {@link timestampSigner}. */
export interface SignerOptions {
  /**
   * The secret that signs (Django's `SECRET_KEY`), at least 32 bytes of UTF-8.
   * Generate one with `openssl rand -base64 48`.
   */
  secret: string
  /**
   * Older secrets that still verify but never sign (Django's `SECRET_KEY_FALLBACKS`).
   * Put the previous secret here when rotating; remove it once the values it signed
   * have expired.
   * @default []
   */
  fallbacks?: readonly string[]
  /**
   * The clock, in milliseconds since the epoch: timestamps and ages are read from it.
   * @default Date.now
   */
  now?: () => number
}

/** Options of {@link Signer.sign}. */
export interface SignOptions {
  /**
   * What the value is for; a value signed for one purpose never verifies for another.
   * The cookie helpers use `cookie:` + the cookie name.
   * @default ''
   */
  purpose?: string
  /**
   * Namespaces the signature further (Django's `salt`), e.g. per feature.
   * @default ''
   */
  salt?: string
  /**
   * Signing time, in whole seconds since the epoch: pass a verified value's
   * `timestamp` to re-sign it with the current secret without making it younger.
   * @default now, from the signer's clock
   */
  timestamp?: number
}

/** Options of {@link Signer.unsign} and {@link Signer.verify}. */
export interface UnsignOptions {
  /** The purpose the value was signed for. @default '' */
  purpose?: string
  /** The salt the value was signed with. @default '' */
  salt?: string
  /**
   * Largest accepted age in seconds; an older value throws {@link SignatureExpiredError}.
   * @default undefined (no limit)
   */
  maxAge?: number
}

/** What {@link Signer.verify} resolves for a value that verified. */
export interface VerifiedValue {
  /** The original value. */
  value: string
  /** When it was signed, in whole seconds since the epoch. */
  timestamp: number
  /** `true` when a fallback secret verified it: re-sign it with the current one. */
  rotated: boolean
}

/** Signs and verifies strings. Make one with {@link timestampSigner}. */
export interface Signer {
  /** Signs `value`: `value:timestamp:signature`. */
  sign(value: string, options?: SignOptions): Promise<string>
  /**
   * The original value of a signed string. Throws {@link BadSignatureError} when it is
   * malformed or no listed secret verifies it, {@link SignatureExpiredError} when it is
   * older than `maxAge`.
   */
  unsign(signed: string, options?: UnsignOptions): Promise<string>
  /** As {@link Signer.unsign}, with the timestamp and whether a fallback secret verified it. */
  verify(signed: string, options?: UnsignOptions): Promise<VerifiedValue>
}

const encoder = new TextEncoder()
const HMAC = { name: 'HMAC', hash: 'SHA-256' } as const
const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
/**
 * 32 bytes are 43 base64url characters. The last holds 4 bits of data and 2 of zero
 * padding: `fromBase64Url()` refuses one whose padding is not zero, which would decode
 * to the same bytes (a "different" signature that verifies).
 */
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/
/** Eight base62 digits reach the year 6.9 million; more could overflow a double. */
const TIMESTAMP = /^[0-9A-Za-z]{1,8}$/
/** A lone surrogate: TextEncoder would turn two different ones into the same U+FFFD bytes. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Imported keys, per secret, for the life of the isolate (hono/cookie imports the key
 * on every call). Bounded, so a caller minting secrets cannot grow it without end.
 */
const hmacKeys = new BoundedMap<string, Promise<CryptoKey>>(64)

/** The same keys once imported, to skip a microtask per operation on the hot path. */
const readyKeys = new BoundedMap<string, CryptoKey>(64)

function hmacKey(secret: string): Promise<CryptoKey> | CryptoKey {
  const ready = readyKeys.get(secret)
  if (ready !== undefined) return ready
  return hmacKeys.getOrSet(secret, () => {
    const key = crypto.subtle.importKey('raw', encoder.encode(secret), HMAC, false, [
      'sign',
      'verify',
    ])
    key.then(
      (imported) => readyKeys.set(secret, imported),
      () => hmacKeys.delete(secret),
    )
    return key
  })
}

/** Whole seconds in Django's base62. */
export function b62Encode(n: number): string {
  if (n === 0) return '0'
  let out = ''
  for (let rest = n; rest > 0; rest = Math.floor(rest / 62)) out = B62[rest % 62] + out
  return out
}

function b62Decode(text: string): number {
  let n = 0
  for (const ch of text) n = n * 62 + B62.indexOf(ch)
  return n
}

/**
 * `len(purpose):purpose|len(salt):salt|`, validated and memoised: a few distinct
 * purposes and salts are used over and over. The memo's key is itself length-prefixed,
 * so no two pairs share it.
 */
const prefixes = new BoundedMap<string, string>(256)

function messagePrefix(purpose: string, salt: string): string {
  return prefixes.getOrSet(`${purpose.length}:${purpose}|${salt}`, () => {
    assertText('purpose', purpose)
    assertText('salt', salt)
    return `${encoder.encode(purpose).byteLength}:${purpose}|${encoder.encode(salt).byteLength}:${salt}|`
  })
}

function message(
  purpose: string,
  salt: string,
  valueAndTimestamp: string,
): Uint8Array<ArrayBuffer> {
  // TextEncoder's bytes always sit on a plain ArrayBuffer (BufferSource under DOM's lib).
  return encoder.encode(messagePrefix(purpose, salt) + valueAndTimestamp) as Uint8Array<ArrayBuffer>
}

/** A string UTF-8 represents faithfully (no lone surrogate), or `INVALID_VALUE`. */
function assertText(option: string, text: unknown): asserts text is string {
  if (typeof text !== 'string')
    throw new SessionError('INVALID_VALUE', `signer: "${option}" must be a string`)
  if (LONE_SURROGATE.test(text))
    throw new SessionError('INVALID_VALUE', `signer: "${option}" holds a lone surrogate`)
}

/**
 * Makes a signer. Throws `SessionError` `INVALID_OPTION`, naming the option, when a
 * secret is not a string of at least 32 bytes.
 *
 * The first secret signs; it and every fallback verify, so secrets can be rotated
 * without logging anyone out. Keys are imported once per secret per isolate.
 * Signatures are checked with `crypto.subtle.verify`, never by comparing strings.
 *
 * @example
 * ```ts
 * const signer = timestampSigner({ secret: c.env.SECRET, fallbacks: [c.env.OLD_SECRET] })
 * const token = await signer.sign('user:42', { purpose: 'unsubscribe' })
 * const id = await signer.unsign(token, { purpose: 'unsubscribe', maxAge: 7 * 86400 })
 * ```
 */
export function timestampSigner(options: SignerOptions): Signer {
  const secrets = resolveSecrets('timestampSigner()', options.secret, options.fallbacks)
  const now = options.now ?? Date.now
  if (typeof now !== 'function')
    throw invalidOption('timestampSigner()', 'now', 'must be a function')
  // Warm the cache now, so the first request does not pay for the import.
  for (const secret of secrets) Promise.resolve(hmacKey(secret)).catch(() => {})
  return new TimestampSigner(secrets, now)
}

class TimestampSigner implements Signer {
  readonly secrets: readonly string[]
  readonly now: () => number

  constructor(secrets: readonly string[], now: () => number) {
    this.secrets = secrets
    this.now = now
  }

  async sign(value: string, options: SignOptions = {}): Promise<string> {
    const { purpose = '', salt = '' } = options
    assertText('value', value)
    if (typeof purpose !== 'string' || typeof salt !== 'string')
      throw new SessionError('INVALID_VALUE', 'signer: "purpose" and "salt" must be strings')
    const timestamp = options.timestamp ?? Math.floor(this.now() / 1000)
    if (!Number.isSafeInteger(timestamp) || timestamp < 0 || timestamp >= 62 ** 8) {
      throw new SessionError(
        'INVALID_VALUE',
        'sign(): "timestamp" must be whole seconds since the epoch',
      )
    }
    const signedPart = `${value}:${b62Encode(timestamp)}`
    const key = await hmacKey(this.secrets[0] as string)
    const signature = await crypto.subtle.sign(HMAC.name, key, message(purpose, salt, signedPart))
    return `${signedPart}:${toBase64Url(new Uint8Array(signature))}`
  }

  async unsign(signed: string, options: UnsignOptions = {}): Promise<string> {
    return (await this.verify(signed, options)).value
  }

  async verify(signed: string, options: UnsignOptions = {}): Promise<VerifiedValue> {
    const { purpose = '', salt = '', maxAge } = options
    if (typeof purpose !== 'string' || typeof salt !== 'string')
      throw new SessionError('INVALID_VALUE', 'signer: "purpose" and "salt" must be strings')
    if (
      maxAge !== undefined &&
      !(typeof maxAge === 'number' && maxAge >= 0 && Number.isFinite(maxAge))
    ) {
      throw invalidOption('unsign()', 'maxAge', 'must be a number of seconds >= 0')
    }
    if (typeof signed !== 'string') throw malformed('not a string')
    // Split from the right, as Django's rsplit: the value itself may hold ":".
    const sigAt = signed.lastIndexOf(':')
    if (sigAt < 1) throw malformed('no signature')
    const signature = signed.slice(sigAt + 1)
    const bytes = SIGNATURE.test(signature) ? fromBase64Url(signature) : null
    if (bytes === null) throw malformed('the signature is not 43 canonical base64url characters')
    const tsAt = signed.lastIndexOf(':', sigAt - 1)
    if (tsAt === -1) throw malformed('no timestamp')
    const ts = signed.slice(tsAt + 1, sigAt)
    if (!TIMESTAMP.test(ts)) throw malformed('the timestamp is not base62')
    const value = signed.slice(0, tsAt)
    if (LONE_SURROGATE.test(value)) throw malformed('the value holds a lone surrogate')

    const data = message(purpose, salt, signed.slice(0, sigAt))
    for (let i = 0; i < this.secrets.length; i++) {
      const key = await hmacKey(this.secrets[i] as string)
      if (await crypto.subtle.verify(HMAC.name, key, bytes, data)) {
        const timestamp = b62Decode(ts)
        if (maxAge !== undefined) {
          const age = this.now() / 1000 - timestamp
          if (age > maxAge) throw new SignatureExpiredError(Math.floor(age), maxAge)
        }
        return { value, timestamp, rotated: i > 0 }
      }
    }
    throw new BadSignatureError('mismatch', 'Signature does not match')
  }
}

const malformed = (why: string): BadSignatureError =>
  new BadSignatureError('malformed', `Malformed signed value: ${why}`)
