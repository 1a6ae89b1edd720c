/**
 * @module
 * Signed cookies, as Django's `response.set_signed_cookie()` and
 * `request.get_signed_cookie()`, over the library's cookie helpers and {@link Signer}.
 *
 * The cookie carries `value:timestamp:signature` (see `signing.ts`), signed for the
 * purpose `cookie:` + its name and the given salt: a value copied under another cookie
 * name, or signed with another salt, does not verify.
 */
import type { Context } from 'hono'
import { readRawCookie, setCookie, type CookieOptions } from './helpers.js'
import { BadSignatureError, type SignatureExpiredError } from '../foundation/errors.js'
import type { Signer } from './signing.js'

/** Options of {@link setSignedCookie}: the signer, a salt, and every {@link CookieOptions}. */
export interface SetSignedCookieOptions extends CookieOptions {
  /** The signer (it holds the secrets). */
  signer: Signer
  /** Salt (Django's `salt`); reading needs the same one. @default '' */
  salt?: string
}

/** Options of {@link getSignedCookie}. */
export interface GetSignedCookieOptions {
  /** The signer (it holds the secrets). */
  signer: Signer
  /** The salt the cookie was signed with. @default '' */
  salt?: string
  /**
   * Largest accepted age in seconds, counted from signing (not from the last visit).
   * @default undefined (no limit)
   */
  maxAge?: number
  /**
   * When the cookie verified only with a fallback secret, set it again on the response,
   * signed with the current secret and its original timestamp (so it grows no younger),
   * with these cookie options (`true`: the defaults).
   * @default undefined (never re-sign)
   */
  resign?: true | CookieOptions
}

/** The purpose a signed cookie is bound to: its name, kept apart from other uses of the signer. */
const purposeOf = (name: string): string => `cookie:${name}`

/**
 * Signs `value` and sets it as cookie `name` (Django's `set_signed_cookie()`).
 * Cookie options and checks are those of {@link setCookie}: `maxAge` in seconds
 * (`SessionError` `INVALID_COOKIE` with `expires`, or when `name=value` passes 4096 bytes).
 * The value is readable by the client; signing only stops it being changed.
 *
 * @example
 * ```ts
 * const signer = timestampSigner({ secret: c.env.SESSION_SECRET })
 * await setSignedCookie(c, 'theme', 'dark', { signer, salt: 'prefs', maxAge: 86400 })
 * ```
 */
export async function setSignedCookie(
  c: Context,
  name: string,
  value: string,
  options: SetSignedCookieOptions,
): Promise<void> {
  const { signer, salt = '', ...cookieOptions } = options
  setCookie(c, name, await signer.sign(value, { purpose: purposeOf(name), salt }), cookieOptions)
}

/**
 * Reads and verifies signed cookie `name` (Django's `get_signed_cookie()`).
 *
 * - missing: resolves `undefined`, or `default` when given;
 * - tampered, foreign or malformed: throws {@link BadSignatureError}, or resolves `default`;
 * - older than `maxAge`: throws {@link SignatureExpiredError}, or resolves `default`.
 *
 * Without `default`, a missing cookie (`undefined`) is never confused with a bad one
 * (an error). With several cookies of one name only the first counts.
 *
 * @example
 * ```ts
 * const theme = await getSignedCookie(c, 'theme', { signer, salt: 'prefs', default: 'light' })
 * ```
 */
export async function getSignedCookie(
  c: Context,
  name: string,
  options: GetSignedCookieOptions,
): Promise<string | undefined>
export async function getSignedCookie<D>(
  c: Context,
  name: string,
  options: GetSignedCookieOptions & { default: D },
): Promise<string | D>
export async function getSignedCookie(
  c: Context,
  name: string,
  options: GetSignedCookieOptions & { default?: unknown },
): Promise<unknown> {
  const hasDefault = 'default' in options
  const raw = readRawCookie(c.req.raw.headers.get('Cookie'), name)
  if (raw === undefined) return hasDefault ? options.default : undefined
  let signed = raw
  try {
    if (raw.includes('%')) signed = decodeURIComponent(raw)
  } catch {
    // Not percent-encoding we wrote: verify it as sent, and let it fail there.
  }
  const { signer, salt = '', maxAge, resign } = options
  const purpose = purposeOf(name)
  try {
    const verified = await signer.verify(
      signed,
      maxAge === undefined ? { purpose, salt } : { purpose, salt, maxAge },
    )
    if (verified.rotated && resign !== undefined) {
      const fresh = await signer.sign(verified.value, {
        purpose,
        salt,
        timestamp: verified.timestamp,
      })
      setCookie(c, name, fresh, resign === true ? {} : resign)
    }
    return verified.value
  } catch (error) {
    if (hasDefault && error instanceof BadSignatureError) return options.default
    throw error
  }
}
