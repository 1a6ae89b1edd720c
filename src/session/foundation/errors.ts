/**
 * @module
 * Typed errors of the session library: one class, a stable `code`, an HTTP status.
 */
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/**
 * Stable error codes. Match on `code`, never on the message.
 *
 * - `INVALID_OPTION`: bad configuration, thrown when `session()` is constructed.
 * - `INVALID_VALUE`: a value JSON cannot carry faithfully was passed to `session.set()`.
 * - `INVALID_EXPIRY`: `setExpiry()` got something other than seconds, a `Date` or `null`.
 * - `PAYLOAD_TOO_LARGE`: the serialised session exceeds `maxPayloadBytes`.
 * - `STORE_UNAVAILABLE`: the store failed to read or write; retry later.
 * - `MISSING_STORE`: no store could be found for the request (e.g. no KV binding).
 * - `INVALID_COOKIE`: a cookie could not be written as asked (bad name, value or attribute).
 * - `BAD_SIGNATURE`: a signed value is malformed or its signature does not verify (`BadSignatureError`).
 * - `SIGNATURE_EXPIRED`: a signed value verified but is older than `maxAge` (`SignatureExpiredError`).
 * - `TOO_MANY_SOCKETS`: a session already holds `maxSocketsPerSession` open WebSockets; the
 *   upgrade is refused (429) and the open ones are kept.
 * - `SESSION_INTERRUPTED`: the session was destroyed (logged out, cycled, revoked) by a
 *   concurrent request while this one ran, so this request's save was refused rather than
 *   bring it back (Django's `SessionInterrupted`; Django answers 400, we answer 409).
 * - `NOT_SUPPORTED`: the store cannot do what was asked (e.g. list a user's sessions on KV).
 * - `NOT_LOGGED_IN`: a per-user operation on a session bound to no user (see `login()`).
 * - `REAUTHENTICATION_REQUIRED`: the session's last authentication is older than the
 *   action allows (`requireFreshAuth()`); ask the user to confirm (`confirmAuthentication()`).
 * - `FORBIDDEN_ORIGIN`: a WebSocket upgrade from another origin (or `Origin: null`).
 * - `LOGIN_THROTTLED`: too many failed logins for the user name (`loginFailed()`, Durable
 *   Object store): a login or re-authentication is refused (429) for `retryAfter` seconds.
 * - `IMPERSONATING`: the session is an impersonation (`impersonate()`), and the action must
 *   stay the user's own (re-authentication, ending sessions, a password change): 403.
 */
export type SessionErrorCode =
  | 'INVALID_OPTION'
  | 'INVALID_VALUE'
  | 'INVALID_EXPIRY'
  | 'PAYLOAD_TOO_LARGE'
  | 'STORE_UNAVAILABLE'
  | 'MISSING_STORE'
  | 'INVALID_COOKIE'
  | 'BAD_SIGNATURE'
  | 'SIGNATURE_EXPIRED'
  | 'SESSION_INTERRUPTED'
  | 'NOT_SUPPORTED'
  | 'NOT_LOGGED_IN'
  | 'REAUTHENTICATION_REQUIRED'
  | 'FORBIDDEN_ORIGIN'
  | 'LOGIN_THROTTLED'
  | 'TOO_MANY_SOCKETS'
  | 'IMPERSONATING'

const STATUS: Record<SessionErrorCode, ContentfulStatusCode> = {
  INVALID_OPTION: 500,
  INVALID_VALUE: 500,
  INVALID_EXPIRY: 500,
  PAYLOAD_TOO_LARGE: 413,
  STORE_UNAVAILABLE: 503,
  MISSING_STORE: 500,
  INVALID_COOKIE: 500,
  BAD_SIGNATURE: 400,
  SIGNATURE_EXPIRED: 400,
  SESSION_INTERRUPTED: 409,
  NOT_SUPPORTED: 501,
  NOT_LOGGED_IN: 401,
  REAUTHENTICATION_REQUIRED: 403,
  FORBIDDEN_ORIGIN: 403,
  LOGIN_THROTTLED: 429,
  TOO_MANY_SOCKETS: 429,
  IMPERSONATING: 403,
}

/**
 * The one error class of the library. It is an `HTTPException`, so Hono's default
 * error handler answers it with its status and a short text that never includes the
 * underlying cause (a KV error's text stays on the server, in `cause`).
 *
 * @example
 * ```ts
 * app.onError((err, c) => {
 *   if (err instanceof SessionError && err.code === 'STORE_UNAVAILABLE') {
 *     return c.text('Try again in a moment', 503, { 'Retry-After': '1' })
 *   }
 *   if (err instanceof HTTPException) return err.getResponse() // every other status kept
 *   return c.text('Internal Server Error', 500)
 * })
 * ```
 */
export class SessionError extends HTTPException {
  /** The stable code; see {@link SessionErrorCode}. */
  readonly code: SessionErrorCode
  /**
   * Seconds to wait before trying again, when that is known: how long a `LOGIN_THROTTLED`
   * lock has left, `1` for `STORE_UNAVAILABLE`; else `null`. `getResponse()` sends it as
   * `Retry-After`.
   */
  readonly retryAfter: number | null

  constructor(
    code: SessionErrorCode,
    message: string,
    options: { cause?: unknown; retryAfter?: number } = {},
  ) {
    super(STATUS[code], { message, cause: options.cause })
    this.name = 'SessionError'
    this.code = code
    this.retryAfter = options.retryAfter ?? (code === 'STORE_UNAVAILABLE' ? 1 : null)
  }

  /**
   * The response Hono sends when nothing else handles the error: the status, the
   * message as text, and `Retry-After` when {@link retryAfter} is known.
   */
  override getResponse(): Response {
    const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=UTF-8' }
    if (this.retryAfter !== null) headers['Retry-After'] = String(this.retryAfter)
    return new Response(this.message, { status: this.status, headers })
  }
}

/**
 * The one wording of a bad option, thrown when a factory runs (never per request):
 * `INVALID_OPTION` naming the factory and the option, e.g. `session(): option "maxAge"
 * must be …`.
 *
 * @example
 * ```ts
 * if (!Number.isInteger(maxAge)) throw invalidOption('session()', 'maxAge', 'must be a whole number')
 * ```
 */
export function invalidOption(factory: string, option: string, why: string): SessionError {
  return new SessionError('INVALID_OPTION', `${factory}: option "${option}" ${why}`)
}

/** Why a signed value was refused. */
export type BadSignatureReason =
  /** Not in the signer's format: no separators, a signature of the wrong shape, a bad timestamp. */
  | 'malformed'
  /** Well-formed, but no listed secret signed it for this purpose and salt: tampered, or foreign. */
  | 'mismatch'
  /** Verified, but older than `maxAge` ({@link SignatureExpiredError}). */
  | 'expired'

/**
 * A signed value was refused (Django's `BadSignature`). `code` is `'BAD_SIGNATURE'`
 * (status 400), or `'SIGNATURE_EXPIRED'` for the {@link SignatureExpiredError} subclass;
 * `reason` says why.
 *
 * @example
 * ```ts
 * try {
 *   await signer.unsign(token, { purpose: 'reset' })
 * } catch (err) {
 *   if (err instanceof BadSignatureError) return c.text('Invalid link', 400)
 *   throw err
 * }
 * ```
 */
export class BadSignatureError extends SessionError {
  /** Why the value was refused. */
  readonly reason: BadSignatureReason

  constructor(reason: BadSignatureReason, message: string) {
    super(reason === 'expired' ? 'SIGNATURE_EXPIRED' : 'BAD_SIGNATURE', message)
    this.name = 'BadSignatureError'
    this.reason = reason
  }
}

/**
 * A signed value verified but is older than `maxAge` (Django's `SignatureExpired`).
 * `code` is `'SIGNATURE_EXPIRED'`; it is also a {@link BadSignatureError}.
 *
 * @example
 * ```ts
 * if (err instanceof SignatureExpiredError) return c.text(`Link expired ${err.age - err.maxAge} s ago`, 400)
 * ```
 */
export class SignatureExpiredError extends BadSignatureError {
  /** The value's age in seconds. */
  readonly age: number
  /** The limit it exceeded, in seconds. */
  readonly maxAge: number

  constructor(age: number, maxAge: number) {
    super('expired', `Signature age ${age} > ${maxAge} seconds`)
    this.name = 'SignatureExpiredError'
    this.age = age
    this.maxAge = maxAge
  }
}
