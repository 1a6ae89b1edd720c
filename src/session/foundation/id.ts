/**
 * @module
 * Session ids: 256 bits from `crypto.getRandomValues`, base64url without padding, and the
 * SHA-256 they are kept under at rest.
 */
import { toBase64Url } from './bytes.js'

const encoder = new TextEncoder()

/** 32 random bytes encode to exactly 43 base64url characters. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/

/**
 * Creates a new, unguessable session id (256 bits of entropy).
 *
 * @example
 * ```ts
 * const id = generateSessionId() // 'q3Vt…' (43 characters)
 * ```
 */
export function generateSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  return toBase64Url(bytes)
}

/**
 * Whether `value` has the exact shape of an id made by {@link generateSessionId}.
 * Anything else (empty, `..`, over-long, percent-encoded, non-ASCII) is refused.
 */
export function isSessionId(value: string): boolean {
  return SESSION_ID.test(value)
}

/** Lower-case hex of the SHA-256 of a string. */
export async function sha256Hex(value: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(value)))
  let hex = ''
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0')
  return hex
}
