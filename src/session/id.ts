/**
 * @module
 * Session ids: 256 bits from `crypto.getRandomValues`, base64url without padding.
 */

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

/** Encodes bytes as base64url without padding (RFC 4648 §5). */
export function toBase64Url(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** Decodes base64url (padding optional); `null` for anything that is not base64url. */
export function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/** Lower-case hex of the SHA-256 of a string. */
export async function sha256Hex(value: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value)))
  let hex = ''
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0')
  return hex
}
