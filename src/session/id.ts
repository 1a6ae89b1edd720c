/**
 * @module
 * Session ids: 256 bits from `crypto.getRandomValues`, base64url without padding.
 */

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

/** Encodes bytes as base64url without padding (RFC 4648 §5). */
export function toBase64Url(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** base64url character code -> 6-bit value, or -1. */
const B64URL = new Int8Array(128).fill(-1)
for (let i = 0; i < 64; i++) B64URL['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.charCodeAt(i)] = i

/**
 * Decodes base64url without padding; `null` for anything that is not its canonical
 * encoding (RFC 4648 §3.5): a last character whose unused low bits are not zero would
 * decode to the same bytes as the canonical one, so it is refused, and no two strings
 * decode to the same bytes. Table-driven: on the signature-verify hot path it is several
 * times faster than `atob` after two `replace`s.
 */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | null {
  const length = text.length
  if (length % 4 === 1) return null
  const bytes = new Uint8Array((length * 3) >> 2)
  let bits = 0
  let buffer = 0
  let out = 0
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i)
    const value = code < 128 ? (B64URL[code] as number) : -1
    if (value === -1) return null
    buffer = (buffer << 6) | value
    bits += 6
    if (bits >= 8) {
      bits -= 8
      bytes[out++] = (buffer >> bits) & 0xff
    }
  }
  // 0, 2 or 4 bits are left over: padding, which must be zero.
  if ((buffer & ((1 << bits) - 1)) !== 0) return null
  return bytes
}

/** Lower-case hex of the SHA-256 of a string. */
export async function sha256Hex(value: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(value)))
  let hex = ''
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0')
  return hex
}
