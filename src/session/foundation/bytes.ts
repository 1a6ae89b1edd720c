/**
 * @module
 * Bytes and text: UTF-8 length as browsers and stores count it, and base64url without
 * padding (RFC 4648 §5), strict on input.
 */

const encoder = new TextEncoder()

/** Above this many UTF-16 units, {@link byteLength} lets `TextEncoder` count. */
const COUNT_IN_JS = 256

/**
 * UTF-8 length of a string, in bytes, as `TextEncoder` encodes it (a lone surrogate
 * becomes U+FFFD, 3 bytes). Short strings, the usual keys and values, are counted in JS:
 * a call into the runtime's encoder and the array it allocates cost more than the loop.
 */
export function byteLength(text: string): number {
  const length = text.length
  if (length > COUNT_IN_JS) return encoder.encode(text).byteLength
  let bytes = length
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) continue
    if (code < 0x800) bytes += 1
    else if (
      code <= 0xdbff &&
      code >= 0xd800 &&
      i + 1 < length &&
      (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      bytes += 2 // a surrogate pair: 2 units, 4 bytes
      i++
    } else bytes += 2
  }
  return bytes
}

/** Encodes bytes as base64url without padding (RFC 4648 §5). */
export function toBase64Url(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** base64url character code -> 6-bit value, or -1. */
const B64URL = new Int8Array(128).fill(-1)
for (let i = 0; i < 64; i++)
  B64URL['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.charCodeAt(i)] = i

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
