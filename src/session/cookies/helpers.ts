/**
 * @module
 * Cookie helpers over `hono/cookie` with Django's argument semantics
 * (`set_cookie`, `COOKIES.get`, `delete_cookie`) and safe defaults.
 */
import type { Context } from 'hono'
import { generateCookie, getCookie as honoGetCookie } from 'hono/cookie'
import type { CookieOptions as HonoCookieOptions } from 'hono/utils/cookie'
import { byteLength } from '../foundation/bytes.js'
import {
  ATTRIBUTE_VALUE,
  MAX_COOKIE_AGE,
  MAX_COOKIE_BYTES,
  type SameSite,
} from '../foundation/cookie-grammar.js'
import { SessionError } from '../foundation/errors.js'

/** Options of {@link setCookie}. */
export interface CookieOptions {
  /**
   * Lifetime in seconds, written as `Max-Age` and as the `Expires` date it comes to
   * (see `now`), as Django's `set_cookie(max_age=…)`. Fractions are truncated, values over
   * 400 days are clamped to 400 days (browsers cap there), a negative value deletes the
   * cookie. Without `maxAge` and `expires` the cookie is temporary: it ends when the
   * browser closes. Cannot be combined with `expires`.
   */
  maxAge?: number
  /**
   * Absolute expiry; `Max-Age` is written beside it (the seconds until then, rounded up),
   * as Django turns an `expires` datetime into `max_age`. Cannot be combined with `maxAge`.
   */
  expires?: Date
  /**
   * The instant `maxAge` counts from, in ms since the epoch: `Expires` is written as
   * `now + maxAge` (Django's `http_date(time.time() + max_age)`). The session middleware
   * passes its own clock (`session({ now })`).
   * @default Date.now()
   */
  now?: number
  /** @default '/' */
  path?: string
  /** @default undefined (host-only) */
  domain?: string
  /** `'auto'` sets `Secure` when the request is https. @default 'auto' */
  secure?: boolean | 'auto'
  /** @default true */
  httpOnly?: boolean
  /** @default 'Lax' */
  sameSite?: SameSite
  /**
   * `Partitioned` (CHIPS): the browser keeps the cookie in a separate jar for each
   * top-level site it is embedded under, so a cookie set in a third-party iframe is not
   * shared across the sites embedding it. It requires `Secure`: with `secure: false` the
   * cookie is refused (`INVALID_COOKIE`); with `secure: 'auto'` it is partitioned on https
   * and sent as an ordinary cookie on http, where it could not be `Secure`.
   * @default false
   */
  partitioned?: boolean
}

const SAME_SITE: ReadonlySet<string> = new Set(['Lax', 'Strict', 'None'])

/** Whether the request arrived over https (what `secure: 'auto'` follows). */
export function isHttps(c: Context): boolean {
  return c.req.url.startsWith('https:')
}

const cookieError = (message: string): SessionError => new SessionError('INVALID_COOKIE', message)

/**
 * Sets a cookie, as Django's `response.set_cookie()`.
 *
 * Defaults are the safe ones (`HttpOnly`, `SameSite=Lax`, `Secure` on https, `Path=/`),
 * not Django's bare cookie. Throws `SessionError` `INVALID_COOKIE` when `maxAge` and
 * `expires` are both given, `sameSite` is not a known value, `partitioned` comes with
 * `secure: false`, a name or attribute holds a character that could split the header, or
 * `name=value` exceeds 4096 bytes.
 *
 * @example
 * ```ts
 * setCookie(c, 'hit', String(n))                  // temporary: no Max-Age
 * setCookie(c, 'hit', String(n), { maxAge: 120 }) // persistent: Max-Age=120 and Expires two minutes ahead
 * ```
 */
export function setCookie(
  c: Context,
  name: string,
  value: string,
  options: CookieOptions = {},
): void {
  c.header('Set-Cookie', serializeCookie(c, name, value, options), { append: true })
}

/**
 * Builds the `Set-Cookie` value {@link setCookie} would append, with the same checks.
 */
export function serializeCookie(
  c: Context,
  name: string,
  value: string,
  options: CookieOptions = {},
): string {
  const { maxAge, expires } = options
  if (maxAge !== undefined && expires !== undefined)
    throw cookieError(`Cookie "${name}": "expires" and "maxAge" cannot both be set`)
  if (maxAge !== undefined && !Number.isFinite(maxAge))
    throw cookieError(`Cookie "${name}": "maxAge" must be a finite number of seconds`)
  if (expires !== undefined && Number.isNaN(expires.getTime()))
    throw cookieError(`Cookie "${name}": "expires" is an invalid Date`)
  const now = options.now ?? Date.now()
  if (!Number.isFinite(now))
    throw cookieError(`Cookie "${name}": "now" must be a finite number of milliseconds`)
  // hono/cookie only refuses ";", CR and LF here; a NUL would make the Headers API
  // throw a TypeError and other controls or non-ASCII would reach the header.
  if (options.path !== undefined && !ATTRIBUTE_VALUE.test(options.path))
    throw cookieError(`Cookie "${name}": "path" must be printable ASCII without ";"`)
  if (options.domain !== undefined && !ATTRIBUTE_VALUE.test(options.domain))
    throw cookieError(`Cookie "${name}": "domain" must be printable ASCII without ";"`)
  const sameSite = options.sameSite ?? 'Lax'
  if (!SAME_SITE.has(sameSite))
    throw cookieError(`Cookie "${name}": "sameSite" must be "Lax", "Strict" or "None"`)
  const secureOption = options.secure ?? 'auto'
  let secure = secureOption === 'auto' ? isHttps(c) : secureOption
  if (/^__(host|secure)-/i.test(name)) secure = true
  const partitioned = options.partitioned ?? false
  if (typeof partitioned !== 'boolean')
    throw cookieError(`Cookie "${name}": "partitioned" must be a boolean`)
  // CHIPS: browsers drop a Partitioned cookie without Secure.
  if (partitioned && secureOption === false && !secure)
    throw cookieError(`Cookie "${name}": "partitioned" requires Secure, but "secure" is false`)

  const opt: HonoCookieOptions = {
    path: options.path ?? '/',
    httpOnly: options.httpOnly ?? true,
    sameSite,
    secure,
  }
  if (options.domain !== undefined) opt.domain = options.domain
  if (partitioned && secure) opt.partitioned = true
  // Persistent cookies carry both attributes, as Django's set_cookie() writes them:
  // clients that read only Expires would otherwise keep them as browser-session cookies.
  // Expires never lies more than 400 days past the real clock (the browsers' cap, and
  // hono/cookie throws beyond it), whatever clock `now` comes from.
  const cap = Date.now() + MAX_COOKIE_AGE * 1000
  if (maxAge !== undefined) {
    // Truncate like Django; negative means "delete now"; clamp to the browsers' cap
    // instead of letting hono/cookie throw.
    const seconds = Math.trunc(maxAge)
    opt.maxAge = seconds < 0 ? 0 : Math.min(seconds, MAX_COOKIE_AGE)
    opt.expires = seconds < 0 ? new Date(0) : new Date(Math.min(now + opt.maxAge * 1000, cap))
  } else if (expires !== undefined) {
    opt.expires = expires.getTime() > cap ? new Date(cap) : expires
    opt.maxAge = Math.min(
      Math.max(0, Math.ceil((opt.expires.getTime() - now) / 1000)),
      MAX_COOKIE_AGE,
    )
  }

  let serialized: string
  try {
    // hono/cookie's serialiser keeps its own checks: name token, prefix rules,
    // no CR/LF/";" in attributes.
    serialized = generateCookie(name, value, opt)
  } catch (cause) {
    throw new SessionError('INVALID_COOKIE', `Cookie "${name}": ${(cause as Error).message}`, {
      cause,
    })
  }
  const pair = serialized.slice(
    0,
    serialized.indexOf(';') === -1 ? serialized.length : serialized.indexOf(';'),
  )
  if (byteLength(pair) > MAX_COOKIE_BYTES) {
    throw cookieError(
      `Cookie "${name}" is over ${MAX_COOKIE_BYTES} bytes; browsers would silently drop it`,
    )
  }
  return serialized
}

/**
 * Deletes a cookie, as Django's `response.delete_cookie()`: an empty value with
 * `Max-Age=0` and `Expires=Thu, 01 Jan 1970 00:00:00 GMT`, on the same `path` and
 * `domain` it was set with.
 *
 * @example
 * ```ts
 * deleteCookie(c, 'user')
 * ```
 */
export function deleteCookie(
  c: Context,
  name: string,
  options: Omit<CookieOptions, 'maxAge' | 'expires' | 'now'> = {},
): void {
  setCookie(c, name, '', { ...options, maxAge: -1 })
}

/**
 * Reads a cookie from the request, as Django's `request.COOKIES.get(name, default)`.
 * Malformed pairs are skipped; with several cookies of one name the first wins.
 *
 * @example
 * ```ts
 * const hits = Number(getCookie(c, 'hit', '0'))
 * ```
 */
export function getCookie(c: Context, name: string): string | undefined
export function getCookie(c: Context, name: string, defaultValue: string): string
export function getCookie(c: Context, name: string, defaultValue?: string): string | undefined {
  return honoGetCookie(c, name) ?? defaultValue
}

/**
 * `text` without the spaces and horizontal tabs around it: the only whitespace RFC 6265
 * §5.2 removes from a cookie's name and value. `String.prototype.trim()` also strips
 * Unicode spaces (U+00A0, U+2000, U+3000, U+FEFF, …): a cookie named `\u2000sessionid`
 * would then be read as `sessionid`, and a sibling subdomain could toss one in front of
 * a `__Host-` cookie, whose prefix rules browsers do not apply to that other name.
 *
 * @example
 * ```ts
 * trimCookieWhitespace(' \tsessionid ') // 'sessionid'
 * trimCookieWhitespace('\u2000sessionid') // unchanged: another name
 * ```
 */
export function trimCookieWhitespace(text: string): string {
  let start = 0
  let end = text.length
  while (start < end && isWsp(text.charCodeAt(start))) start++
  while (end > start && isWsp(text.charCodeAt(end - 1))) end--
  return start === 0 && end === text.length ? text : text.slice(start, end)
}

/** SP or HTAB (RFC 5234 `WSP`). */
const isWsp = (code: number): boolean => code === 0x20 || code === 0x09

/**
 * The raw value of the first `name=` pair of a `Cookie` header, without percent-decoding
 * (surrounding double quotes removed), or `undefined`. Names are compared exactly, after
 * removing only SP and HTAB ({@link trimCookieWhitespace}). The session middleware uses
 * it so that a session cookie is taken exactly as sent: a later pair of the same name is
 * never a fallback for a malformed first one.
 */
export function readRawCookie(header: string | null | undefined, name: string): string | undefined {
  if (!header || header.indexOf(name) === -1) return undefined
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=')
    if (eq === -1) continue
    if (trimCookieWhitespace(pair.slice(0, eq)) !== name) continue
    let value = trimCookieWhitespace(pair.slice(eq + 1))
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
      value = value.slice(1, -1)
    return value
  }
  return undefined
}
