/**
 * @module
 * The stored form of a session (schema version 1): validation of what goes in,
 * strict parsing of what comes out, and the rule its `expiresAt` follows. Shared by
 * every store.
 *
 * ```json
 * { "v": 1, "data": { ... }, "expiry": null | { "age": n } | { "at": ms }, "expiresAt": ms,
 *   "createdAt": ms, "auth": null | { "user": "…", "hash": null | "<64 hex>", "at"?: ms } }
 * ```
 * `createdAt` and `auth` were added in 0.2.0 without a new `v`: readers of 0.1 ignore
 * them, and a record without them reads as created at an unknown time, by no user.
 * `auth.at` (the last authentication) came later in 0.2.0's development, the same way; without it the
 * session's creation, its login, stands in.
 * `device` (`{ "id", "alg", "jwk", "seen" }`, DBSC) was added the same way: written only
 * for a session offered device binding, so every other record is byte for byte as before.
 */
import { byteLength } from '../foundation/bytes.js'
import { MAX_COOKIE_AGE } from '../foundation/cookie-grammar.js'
import { SessionError } from '../foundation/errors.js'
import type {
  DeviceKey,
  ExpirySetting,
  SessionAuth,
  SessionData,
  SessionDevice,
  SessionLifetime,
  SessionRecord,
} from './types.js'

/** The schema version written today. Readers refuse any other. */
export const RECORD_VERSION = 1

/**
 * Deepest nesting a session value may have: at most this many arrays and objects around
 * any part of it. A value stored with `set(key, value)` is at level 0, each array or
 * object adds one level to what it holds, and nothing may sit below level `MAX_DEPTH`.
 * `set()`, the encoder and the decoder all count this way, through {@link tooDeep}, so
 * whatever `set()` accepts is encoded and read back.
 */
export const MAX_DEPTH = 100

/** Whether something at `level` (0 = a value as given to `set()`) is nested too deep. */
const tooDeep = (level: number): boolean => level > MAX_DEPTH

/** Approximate serialised size of one entry of the data: `"key":value,`. */
export const entrySize = (key: string, value: unknown): number =>
  byteLength(key) + byteLength(JSON.stringify(value)) + 4

/**
 * Throws `INVALID_VALUE` unless `value` survives a JSON round trip unchanged:
 * `null`, booleans, finite numbers, strings, arrays and plain objects of those.
 * Functions, symbols, `undefined`, BigInt, `NaN`/`Infinity`, `Date`s, class
 * instances, `Map`/`Set` and cycles are refused: JSON would drop or distort them.
 */
export function assertJsonValue(
  value: unknown,
  path = 'value',
  level = 0,
  seen?: Set<object>,
): void {
  // A depth cap keeps hostile nesting from exhausting the stack (a 500) here or in JSON.
  if (tooDeep(level)) throw unfaithful(path, `it is nested more than ${MAX_DEPTH} levels deep`)
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return
    case 'number':
      if (!Number.isFinite(value)) throw unfaithful(path, `${value} is not finite`)
      return
    case 'object': {
      if (value === null) return
      // Made at the first object: a primitive, the usual value, allocates nothing.
      seen ??= new Set()
      if (seen.has(value)) throw unfaithful(path, 'it contains a cycle')
      seen.add(value)
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          // Holes in sparse arrays come back as null.
          if (!(i in value)) throw unfaithful(`${path}[${i}]`, 'it is a hole in a sparse array')
          assertJsonValue(value[i], `${path}[${i}]`, level + 1, seen)
        }
      } else {
        const proto: unknown = Object.getPrototypeOf(value)
        if (proto !== Object.prototype && proto !== null)
          throw unfaithful(path, 'it is not a plain object')
        for (const key of Object.keys(value)) {
          assertJsonValue(
            (value as Record<string, unknown>)[key],
            `${path}.${key}`,
            level + 1,
            seen,
          )
        }
      }
      seen.delete(value)
      return
    }
    default:
      throw unfaithful(path, `a ${typeof value} cannot be stored as JSON`)
  }
}

const unfaithful = (path: string, why: string): SessionError =>
  new SessionError('INVALID_VALUE', `session.set(): ${path} cannot be stored: ${why}`)

/**
 * Serialises a record, refusing values JSON cannot carry and payloads over `maxBytes`
 * (`PAYLOAD_TOO_LARGE`), before anything is written.
 */
export function encodeRecord(record: SessionRecord, maxBytes: number): string {
  // Each value again, at level 0 as set() saw it: it may have been changed in place since.
  for (const key of Object.keys(record.data)) assertJsonValue(record.data[key], key)
  const { data, expiry, expiresAt, createdAt, auth, device } = record
  const fields = { v: RECORD_VERSION, data, expiry, expiresAt, createdAt, auth }
  const text = JSON.stringify(device ? { ...fields, device } : fields)
  const size = byteLength(text)
  if (size > maxBytes) {
    throw new SessionError(
      'PAYLOAD_TOO_LARGE',
      `The session is ${size} bytes; the limit is ${maxBytes}.`,
    )
  }
  return text
}

/**
 * When a session saved at `now` with `expiry` stops working, in ms since the epoch: the
 * fixed date, or `now` plus its age (`maxAge` for the default and for `{ age: 0 }`, a
 * browser-close session's server-side life), never past the absolute lifetime of a session
 * created at `createdAt`. The one rule for `expiresAt`: the core's `expiryDate()` and a
 * merging store, which cannot import the core, both use it.
 */
export function expiresAtFor(
  expiry: ExpirySetting,
  lifetime: SessionLifetime,
  now: number,
  createdAt: number | null,
): number {
  const at =
    expiry !== null && 'at' in expiry
      ? expiry.at
      : now + (expiry === null || expiry.age === 0 ? lifetime.maxAge : expiry.age) * 1000
  return lifetime.absoluteMaxAge === null || createdAt === null
    ? at
    : Math.min(at, createdAt + lifetime.absoluteMaxAge * 1000)
}

/**
 * Whether a record holds nothing a session keeps: no data, no custom expiry and no user.
 * Django keeps the expiry and the user in the data (`_session_expiry`, `_auth_user_id`),
 * so such a session is not empty there either. Such a session is not stored: the core
 * deletes it, and a merging store ends it when a merge leaves it so.
 */
export function isEmptyRecord(record: Pick<SessionRecord, 'data' | 'expiry' | 'auth'>): boolean {
  if (record.expiry !== null || record.auth !== null) return false
  for (const _ in record.data) return false
  return true
}

/**
 * Why a stored record was refused (for the security log; never shown to clients):
 * not JSON; not the v1 shape; another version; or a field of the right type that cannot
 * be honoured (`out-of-range`: a time a `Date` cannot hold, an age past 400 days).
 */
export type CorruptReason = 'not-json' | 'wrong-shape' | 'wrong-version' | 'out-of-range'

/** The largest distance from the epoch a `Date` can hold, in ms (ECMA-262 TimeClip). */
const MAX_TIME = 8.64e15

/** Whether a finite number of ms since the epoch is one a `Date` can hold. */
const inDateRange = (ms: number): boolean => ms >= -MAX_TIME && ms <= MAX_TIME

/**
 * Parses a stored record. Objects come back with a null prototype at every depth,
 * so keys like `__proto__` or `constructor` are plain data and pollute nothing.
 * Returns the reason instead of a record when the text is not a valid v1 record.
 */
export function decodeRecord(text: string): SessionRecord | CorruptReason {
  let parsed: unknown
  try {
    // A plain parse and one walk is about 3x faster than a reviver. The envelope and its
    // `data` object sit above level 0: a session value is at level 0, as set() counts.
    parsed = nullPrototype(JSON.parse(text), -2)
  } catch (error) {
    return error instanceof DepthError ? 'wrong-shape' : 'not-json'
  }
  if (!isObject(parsed)) return 'wrong-shape'
  if (parsed['v'] !== RECORD_VERSION) return 'wrong-version'
  const data = parsed['data']
  const expiry = parsed['expiry']
  const expiresAt = parsed['expiresAt']
  if (!isObject(data) || typeof expiresAt !== 'number' || !Number.isFinite(expiresAt))
    return 'wrong-shape'
  const setting = parseExpiry(expiry)
  if (typeof setting === 'string') return setting
  // A record that parses but cannot be honoured is as corrupt as one that does not parse:
  // its dates would throw a RangeError (a 500) wherever they became a Date.
  if (!inDateRange(expiresAt)) return 'out-of-range'
  const createdAt = parsed['createdAt'] ?? null
  if (createdAt !== null && (typeof createdAt !== 'number' || !Number.isFinite(createdAt)))
    return 'wrong-shape'
  if (createdAt !== null && !inDateRange(createdAt)) return 'out-of-range'
  const auth = parseAuth(parsed['auth'] ?? null)
  if (auth === undefined) return 'wrong-shape'
  const record: SessionRecord = { data, expiry: setting, expiresAt, createdAt, auth }
  const device = parseDevice(parsed['device'] ?? null)
  if (device === undefined) return 'wrong-shape'
  if (device !== null) record.device = device
  return record
}

const B64URL = /^[A-Za-z0-9_-]+$/
const b64 = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.length <= max && B64URL.test(value)

/** A device binding: `null`, or `{ id, alg, jwk, seen }` with a key of exactly the allowed members. */
function parseDevice(value: unknown): SessionDevice | null | undefined {
  if (value === null) return null
  if (!isObject(value)) return undefined
  const { id, alg, jwk, seen } = value
  if (!b64(id, 64) || typeof seen !== 'number' || !Number.isFinite(seen)) return undefined
  if (alg === null && jwk === null) return { id, alg: null, jwk: null, seen }
  const key = parseDeviceKey(jwk)
  if (
    key === undefined ||
    (alg === 'ES256') !== (key.kty === 'EC') ||
    (alg !== 'ES256' && alg !== 'RS256')
  )
    return undefined
  return { id, alg, jwk: key, seen }
}

/** A public key as registration keeps it: P-256 `x`/`y`, or RSA `n`/`e` (up to 8192 bits). */
export function parseDeviceKey(value: unknown): DeviceKey | undefined {
  if (!isObject(value)) return undefined
  if (
    value['kty'] === 'EC' &&
    value['crv'] === 'P-256' &&
    b64(value['x'], 43) &&
    b64(value['y'], 43)
  ) {
    return { kty: 'EC', crv: 'P-256', x: value['x'], y: value['y'] }
  }
  if (value['kty'] === 'RSA' && b64(value['n'], 1366) && b64(value['e'], 8))
    return { kty: 'RSA', n: value['n'], e: value['e'] }
  return undefined
}

/**
 * The device binding a merged write keeps (Durable Objects): a registration or refresh
 * this request did not see wins over the older copy this request loaded, so a page saved
 * while the browser registered does not unbind the session.
 */
export function mergeDevice(
  stored: SessionDevice | null | undefined,
  mine: SessionDevice | null | undefined,
): SessionDevice | null {
  if (!stored || !mine || stored.id !== mine.id) return mine ?? null
  if (stored.jwk !== null && (mine.jwk === null || stored.seen > mine.seen)) return stored
  return mine
}

/** A user binding: `null`, or `{ user: string, hash: null | 64 hex }`. */
function parseAuth(value: unknown): SessionAuth | null | undefined {
  if (value === null) return null
  if (!isObject(value)) return undefined
  const user = value['user']
  const hash = value['hash'] ?? null
  if (typeof user !== 'string' || user === '') return undefined
  if (hash !== null && (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash))) return undefined
  const at = value['at']
  if (at === undefined) return { user, hash }
  if (typeof at !== 'number' || !Number.isFinite(at) || !inDateRange(at)) return undefined
  return { user, hash, at }
}

function parseExpiry(value: unknown): ExpirySetting | CorruptReason {
  if (value === null) return null
  if (!isObject(value)) return 'wrong-shape'
  const keys = Object.keys(value)
  if (keys.length !== 1) return 'wrong-shape'
  const age = value['age']
  const at = value['at']
  if (typeof age === 'number' && Number.isInteger(age) && age >= 0) {
    // setExpiry() refuses more than 400 days: no cookie and no KV TTL lasts longer.
    return age <= MAX_COOKIE_AGE ? { age } : 'out-of-range'
  }
  if (typeof at === 'number' && Number.isFinite(at))
    return inDateRange(at) ? { at } : 'out-of-range'
  return 'wrong-shape'
}

function isObject(value: unknown): value is SessionData {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

class DepthError extends Error {}

/**
 * Rebuilds every object on a null prototype (arrays stay arrays). `JSON.parse` makes
 * `__proto__` an own property, and assigning it on a null-prototype object keeps it one.
 */
function nullPrototype(value: unknown, level: number): unknown {
  // Nothing deeper than set() accepts was ever written.
  if (tooDeep(level)) throw new DepthError()
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = nullPrototype(value[i], level + 1)
    return value
  }
  const out: SessionData = Object.create(null)
  for (const key of Object.keys(value))
    out[key] = nullPrototype((value as SessionData)[key], level + 1)
  return out
}
