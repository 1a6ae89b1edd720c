/**
 * @module
 * Options of the `session()` middleware: their types, Django's defaults, and the
 * validation that runs once, when the middleware is constructed.
 */
import type { Context, Env } from 'hono'
import {
  ATTRIBUTE_VALUE,
  COOKIE_NAME,
  MAX_COOKIE_AGE,
  type SameSite,
} from '../foundation/cookie-grammar.js'
import { invalidOption, SessionError } from '../foundation/errors.js'
import { isNamespace, KV_ROTATION, kvStore } from '../stores/kv.js'
import type { SessionEvent } from '../stores/events.js'
import type {
  RotationPolicy,
  SessionAuth,
  SessionData,
  SessionDevice,
  SessionStore,
} from '../stores/types.js'

/** Sliding expiry: how eagerly an unmodified session is re-saved to extend its life. */
export interface RollingOptions {
  /**
   * Share of the session's lifetime that must have passed before a read-only
   * request extends it (KV TTL and cookie `Max-Age` together).
   * @default 0.25
   */
  threshold?: number
  /**
   * Never extend a session more often than this many seconds.
   * @default 60
   */
  minInterval?: number
}

/**
 * Options of {@link session}. Every one is optional; defaults follow Django's settings.
 * `E` is the app's Hono environment, which types `c.env` in the `store` callback
 * (`session<AppEnv>({ … })`); by default `c.env` is untyped.
 */
// biome-ignore lint/suspicious/noExplicitAny: Hono's own default environment (`Context<E extends Env = any>`)
export interface SessionOptions<E extends Env = any> {
  /**
   * Where sessions are kept: a store, or a function returning one per request
   * (bindings are only reachable through `c.env`).
   * @default the Workers KV namespace bound as `kvBinding`
   */
  store?: SessionStore | ((c: Context<E>) => SessionStore)
  /**
   * Name of the KV binding the default store uses.
   * @default 'SESSIONS'
   */
  kvBinding?: string
  /**
   * Cookie name (Django's `SESSION_COOKIE_NAME`). A `__Host-` name requires
   * `path: '/'`, no `domain` and forces `Secure`; a `__Secure-` name forces `Secure`.
   * @default 'sessionid'
   */
  cookieName?: string
  /**
   * Session lifetime in seconds (`SESSION_COOKIE_AGE`), between 1 and 400 days.
   * @default 1209600 (two weeks)
   */
  maxAge?: number
  /** Cookie `Path` (`SESSION_COOKIE_PATH`). @default '/' */
  path?: string
  /** Cookie `Domain` (`SESSION_COOKIE_DOMAIN`). @default undefined (host-only) */
  domain?: string
  /** Cookie `HttpOnly` (`SESSION_COOKIE_HTTPONLY`). @default true */
  httpOnly?: boolean
  /** Cookie `SameSite` (`SESSION_COOKIE_SAMESITE`). `None` requires `Secure`. @default 'Lax' */
  sameSite?: SameSite
  /**
   * Cookie `Secure` (`SESSION_COOKIE_SECURE`): `'auto'` sets it when the request URL is https.
   * @default 'auto'
   */
  secure?: boolean | 'auto'
  /**
   * Cookie `Partitioned` (CHIPS), for a session used inside a third-party iframe: one
   * cookie jar per top-level site. Requires `Secure`: `secure: false` is refused; with
   * `'auto'` the cookie is partitioned on https and ordinary on http (a plain-http
   * development server keeps working first-party). Applies to the test cookie too.
   * Django has no setting for it.
   * @default false
   */
  partitioned?: boolean
  /** Sessions end when the browser closes (`SESSION_EXPIRE_AT_BROWSER_CLOSE`). @default false */
  expireAtBrowserClose?: boolean
  /** Save and refresh the cookie on every request that has a session (`SESSION_SAVE_EVERY_REQUEST`). @default false */
  saveEveryRequest?: boolean
  /**
   * Sliding expiry without a write per request: `true` for the defaults, or the options.
   * @default false
   */
  rolling?: boolean | RollingOptions
  /**
   * Largest serialised session, in bytes of UTF-8 JSON.
   * @default 65536
   */
  maxPayloadBytes?: number
  /** Name of the test cookie (Django's `TEST_COOKIE_NAME`). @default 'testcookie' */
  testCookieName?: string
  /**
   * Absolute session lifetime in seconds, counted from the session's creation (its
   * `login()`), that neither `rolling`, `saveEveryRequest` nor `cycleKey()` extends
   * (OWASP ASVS V7.3); `maxAge` stays the idle timeout. Django has no such setting.
   * @default undefined (none)
   */
  absoluteMaxAge?: number
  /**
   * The current verifier of a user (Django's `get_session_auth_hash()`): any string that
   * changes when the user's credentials do, e.g. derived from the password hash, or
   * `null` when the user no longer exists. `login()` binds the session to its SHA-256;
   * a session whose verifier no longer matches reads as logged out (and its record is
   * deleted), so a password change logs every other session out, on every store.
   * `c` carries the app's bindings like `store`'s (`session<AppEnv>({ authHash })`).
   * @default undefined (sessions are bound to a user only)
   */
  authHash?: (
    c: Context<E>,
    user: string,
  ) => string | null | undefined | Promise<string | null | undefined>
  /**
   * The clock, in milliseconds since the epoch. Inject one in tests: KV's own clock
   * cannot be faked, so expiry decisions are made with this one.
   * @default Date.now
   */
  now?: () => number
  /**
   * The known-device cookie: a random id that a login sets for 400 days and that
   * survives logout, so a login from a browser that never logged in as the user before is
   * a `login` event with `newDevice: true` (docs/events.md). Its name, or `false` for none
   * (every login is then a new device to the KV and cookie stores).
   * @default the session cookie's name + `_device`
   */
  deviceCookie?: string | false
  /**
   * Called with each security event of a request (a login, a logout, a revocation, …),
   * after the response is decided (`waitUntil`): what it throws is logged and never
   * changes the response. The Durable Object store also keeps them in a per-user trail.
   * @default undefined (none)
   */
  onEvent?: (event: SessionEvent, c: Context<E>) => void | Promise<void>
  /**
   * Device Bound Session Credentials: made by `deviceBound({ secret })`. A login offers
   * the browser registration; once its key is registered, the session works only with
   * the short-lived bound cookie only that browser can renew (docs/device-bound.md).
   * @default undefined (off)
   */
  deviceBound?: DeviceBinding
  /**
   * Rotating session ids with reuse detection (the Durable Object store only: KV and the
   * cookie store are refused with `INVALID_OPTION`). The first request `every` seconds
   * after a logged-in session's id was issued gets a new id for the same session (data,
   * user, expiry, sockets kept); the old id keeps working until `grace` seconds after the
   * new one is first presented (other tabs, requests in flight, retries, a lost response),
   * and its use after that ends the whole session as theft (`session-reused` event,
   * docs/security.md). A session bound to a device key (DBSC) is not rotated.
   * @default undefined (off); `grace` defaults to 60
   */
  rotation?: { every: number; grace?: number }
}

/**
 * What a device binding uses of one request's session (the core's state is one): it reads
 * the session and changes it only through these named transitions.
 * @internal
 */
export interface BindingState {
  readonly c: Context
  readonly options: ResolvedSessionOptions
  now(): number
  read(): Promise<SessionData>
  readonly auth: SessionAuth | null
  readonly device: SessionDevice | null
  /** Binds the session to `device` (a refresh); the session is then saved. */
  setDevice(device: SessionDevice): void
  /** Binds the session to the key a browser just registered; saved, and recorded as `device-bound`. */
  registerDevice(device: SessionDevice): void
  /**
   * The commit leaves the session and its cookie alone unless the handler changes it; set
   * before the load, the load asks for no bound cookie (the refresh route proves the key).
   */
  freeze(): void
  /** Undoes {@link BindingState.freeze} once a proof holds. */
  thaw(): void
}

/**
 * What a request may do with a session bound to a device key: use it until its bound
 * cookie expires (`until`, ms); not at all (no valid bound cookie: it reads as none, left
 * alone unless changed); or not now, with nothing it does saved (Chrome skipped the
 * refresh: `Secure-Session-Skipped`).
 * @internal
 */
export type Admission =
  | { readonly kind: 'bound'; readonly until: number }
  | { readonly kind: 'refused' }
  | { readonly kind: 'skipped' }

/**
 * The hook a device binding plugs into, so that the core calls it during a load and a
 * commit without knowing it (`deviceBound()` makes one).
 * @internal
 */
export interface DeviceBinding {
  /** The paths the binding answers itself; each must lie under the session cookie's `path`. */
  readonly paths: readonly string[]
  /** Answers the binding's own routes (before any handler); `undefined` for other requests. */
  route(state: BindingState): Promise<Response> | undefined
  /** Whether this request may use a loaded session bound to `device` (it carries a valid bound cookie), and until when. */
  admits(state: BindingState, device: SessionDevice): Promise<Admission>
  /** The device of a newly logged-in session: an id, no key yet. */
  newDevice(): SessionDevice
  /** For the response saving a session with a new device: writes the registration offer and the first bound cookie. */
  offer(state: BindingState, device: SessionDevice): Promise<() => void>
}

/** Options after defaults and validation: what the middleware uses on every request. */
export interface ResolvedSessionOptions {
  store: (c: Context) => SessionStore
  cookieName: string
  maxAge: number
  path: string
  domain: string | undefined
  httpOnly: boolean
  sameSite: SameSite
  secure: boolean | 'auto'
  partitioned: boolean
  expireAtBrowserClose: boolean
  saveEveryRequest: boolean
  rolling: Required<RollingOptions> | null
  maxPayloadBytes: number
  testCookieName: string
  absoluteMaxAge: number | null
  authHash:
    | ((c: Context, user: string) => string | null | undefined | Promise<string | null | undefined>)
    | null
  now: () => number
  deviceBound: DeviceBinding | null
  /** The known-device cookie's name, or `null` for none. */
  deviceCookie: string | null
  onEvent: ((event: SessionEvent, c: Context) => void | Promise<void>) | null
  /** `rotation`, in ms, or `null` (off). */
  rotation: RotationPolicy | null
}

/** `rotation.grace` when unset, in seconds. */
export const DEFAULT_ROTATION_GRACE = 60

const invalid = (option: string, why: string): SessionError =>
  invalidOption('session()', option, why)

/**
 * Applies the defaults and validates the options, once. Throws a `SessionError`
 * with code `INVALID_OPTION` naming the offending option.
 */
export function resolveOptions(options: SessionOptions = {}): ResolvedSessionOptions {
  const cookieName = options.cookieName ?? 'sessionid'
  if (!COOKIE_NAME.test(cookieName)) throw invalid('cookieName', 'must be an RFC 6265 token')
  const testCookieName = options.testCookieName ?? 'testcookie'
  if (!COOKIE_NAME.test(testCookieName))
    throw invalid('testCookieName', 'must be an RFC 6265 token')

  const maxAge = options.maxAge ?? 1209600
  if (!Number.isInteger(maxAge) || maxAge < 1 || maxAge > MAX_COOKIE_AGE) {
    throw invalid('maxAge', `must be a whole number of seconds from 1 to ${MAX_COOKIE_AGE}`)
  }
  const path = options.path ?? '/'
  if (!path.startsWith('/') || !ATTRIBUTE_VALUE.test(path))
    throw invalid('path', 'must start with "/" and hold no ";", control or non-ASCII character')
  const domain = options.domain
  if (domain !== undefined && !ATTRIBUTE_VALUE.test(domain))
    throw invalid('domain', 'must hold no ";", control or non-ASCII character')

  const sameSite = options.sameSite ?? 'Lax'
  if (sameSite !== 'Lax' && sameSite !== 'Strict' && sameSite !== 'None')
    throw invalid('sameSite', 'must be "Lax", "Strict" or "None"')
  let secure = options.secure ?? 'auto'
  if (secure !== true && secure !== false && secure !== 'auto')
    throw invalid('secure', 'must be true, false or "auto"')

  // Cookie prefixes (RFC 6265bis §4.1.3): browsers drop cookies that break them.
  const lower = cookieName.toLowerCase()
  if (lower.startsWith('__host-')) {
    if (path !== '/') throw invalid('path', 'must be "/" for a __Host- cookie')
    if (domain !== undefined) throw invalid('domain', 'must be unset for a __Host- cookie')
  }
  if (lower.startsWith('__host-') || lower.startsWith('__secure-')) {
    if (secure === false) throw invalid('secure', 'cannot be false for a __Host-/__Secure- cookie')
    secure = true
  }
  if (sameSite === 'None' && secure === false) throw invalid('sameSite', '"None" requires secure')
  const partitioned = options.partitioned ?? false
  if (typeof partitioned !== 'boolean') throw invalid('partitioned', 'must be true or false')
  // CHIPS (RFC 6265bis draft, "Partitioned"): browsers drop a Partitioned cookie without Secure.
  if (partitioned && secure === false)
    throw invalid(
      'partitioned',
      'requires secure: true or "auto" (a Partitioned cookie must be Secure)',
    )

  const maxPayloadBytes = options.maxPayloadBytes ?? 65536
  // KV values may be up to 25 MiB.
  if (
    !Number.isInteger(maxPayloadBytes) ||
    maxPayloadBytes < 1 ||
    maxPayloadBytes > 25 * 1024 * 1024
  ) {
    throw invalid('maxPayloadBytes', 'must be a whole number of bytes from 1 to 26214400')
  }

  let rolling: Required<RollingOptions> | null = null
  if (options.rolling) {
    const r = options.rolling === true ? {} : options.rolling
    rolling = { threshold: r.threshold ?? 0.25, minInterval: r.minInterval ?? 60 }
    if (!(rolling.threshold > 0 && rolling.threshold < 1))
      throw invalid('rolling.threshold', 'must be between 0 and 1')
    if (!(rolling.minInterval >= 0) || !Number.isFinite(rolling.minInterval))
      throw invalid('rolling.minInterval', 'must be a number of seconds >= 0')
  }

  const absoluteMaxAge = options.absoluteMaxAge ?? null
  if (absoluteMaxAge !== null && (!Number.isSafeInteger(absoluteMaxAge) || absoluteMaxAge < 1)) {
    throw invalid('absoluteMaxAge', 'must be a whole number of seconds >= 1')
  }
  const authHash = options.authHash ?? null
  if (authHash !== null && typeof authHash !== 'function')
    throw invalid('authHash', 'must be a function (c, user) => verifier')

  const deviceBound = options.deviceBound ?? null
  if (
    deviceBound !== null &&
    (typeof deviceBound.route !== 'function' || !Array.isArray(deviceBound.paths))
  )
    throw invalid('deviceBound', 'must be made by deviceBound()')
  if (deviceBound?.paths.some((p) => !p.startsWith(path)))
    throw invalid('deviceBound', `routes must lie under the cookie's path "${path}"`)

  const deviceCookie =
    options.deviceCookie === false ? null : (options.deviceCookie ?? `${cookieName}_device`)
  if (
    deviceCookie !== null &&
    (typeof deviceCookie !== 'string' || !COOKIE_NAME.test(deviceCookie))
  ) {
    throw invalid('deviceCookie', 'must be an RFC 6265 token, or false')
  }
  if (deviceCookie === cookieName) throw invalid('deviceCookie', 'must differ from cookieName')
  const onEvent = options.onEvent ?? null
  if (onEvent !== null && typeof onEvent !== 'function') {
    throw invalid('onEvent', 'must be a function (event, c) => void')
  }

  const rotation = resolveRotation(options.rotation)
  const kvBinding = options.kvBinding ?? 'SESSIONS'
  const resolved = resolveStore(options.store, kvBinding)
  // A store given as an object (or the default, KV) is checked now; one made per request at
  // its first request, since only then is it known.
  if (rotation !== null && typeof options.store !== 'function') {
    rotatingStore(options.store === undefined ? { rotation: KV_ROTATION } : options.store)
  }
  const store =
    rotation === null || typeof options.store !== 'function'
      ? resolved
      : (c: Context) => rotatingStore(resolved(c))

  return {
    store,
    cookieName,
    maxAge,
    path,
    domain,
    httpOnly: options.httpOnly ?? true,
    sameSite,
    secure,
    partitioned,
    expireAtBrowserClose: options.expireAtBrowserClose ?? false,
    saveEveryRequest: options.saveEveryRequest ?? false,
    rolling,
    maxPayloadBytes,
    testCookieName,
    absoluteMaxAge,
    authHash,
    now: options.now ?? Date.now,
    deviceBound,
    deviceCookie,
    onEvent,
    rotation,
  }
}

/** The `rotation` option, checked, in ms; `null` when off. */
function resolveRotation(option: SessionOptions['rotation']): RotationPolicy | null {
  if (option === undefined) return null
  if (typeof option !== 'object' || option === null)
    throw invalid('rotation', 'must be { every, grace? } in seconds')
  const { every, grace = DEFAULT_ROTATION_GRACE } = option
  if (!Number.isSafeInteger(every) || every < 1)
    throw invalid('rotation.every', 'must be a whole number of seconds >= 1')
  if (!Number.isSafeInteger(grace) || grace < 0 || grace > 3600)
    throw invalid('rotation.grace', 'must be a whole number of seconds from 0 to 3600')
  return { everyMs: every * 1000, graceMs: grace * 1000 }
}

/**
 * `store`, when it can rotate session ids; else `INVALID_OPTION` with the store's reason
 * (KV: eventually consistent, no compare-and-set; the cookie store: no server state).
 */
function rotatingStore<S extends Pick<SessionStore, 'rotation'>>(store: S): S {
  const rotation = store.rotation
  if (rotation?.supported === true) return store
  throw invalid(
    'rotation',
    rotation?.supported === false
      ? rotation.why
      : 'needs a store that can rotate session ids (the Durable Object store)',
  )
}

function resolveStore(
  store: SessionOptions['store'],
  kvBinding: string,
): (c: Context) => SessionStore {
  if (typeof store === 'function') return store
  if (store !== undefined) {
    if (
      typeof store.load !== 'function' ||
      typeof store.save !== 'function' ||
      typeof store.destroy !== 'function'
    ) {
      throw invalid('store', 'must implement load(), save() and destroy()')
    }
    return () => store
  }
  return (c) => {
    const env = c.env as Record<string, unknown> | undefined
    const namespace = env?.[kvBinding]
    if (!isNamespace(namespace)) {
      throw new SessionError(
        'MISSING_STORE',
        `session(): no KV namespace is bound as "${kvBinding}"`,
      )
    }
    return kvStore({ namespace })
  }
}
