/**
 * @module
 * The cookie attribute grammar and the limits browsers enforce: what the cookie helpers,
 * the options and the stores all check against.
 */

/** `SameSite` values a session cookie may carry. */
export type SameSite = 'Lax' | 'Strict' | 'None'

/** Browsers cap cookie lifetimes at 400 days (RFC 6265bis §5.5). */
export const MAX_COOKIE_AGE = 400 * 24 * 60 * 60

/** Browsers drop a cookie whose `name=value` exceeds 4096 bytes (RFC 6265bis §5.6). */
export const MAX_COOKIE_BYTES = 4096

/** RFC 6265 §4.1.1 token: the characters a cookie name may use. */
export const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** No CTLs, no `;` (it would end the attribute), nothing outside printable ASCII. */
export const ATTRIBUTE_VALUE = /^[\x21-\x3a\x3c-\x7e]+$/
