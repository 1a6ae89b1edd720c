/**
 * @module
 * The browser's proof in DBSC: the `Secure-Session-Response` compact JWT (`typ`
 * `dbsc+jwt`, `alg` ES256 or RS256 only, the key in `jwk` at registration) checked with
 * Web Crypto, and the structured-field strings its headers carry, quoted or bare.
 */
import { fromBase64Url } from '../foundation/bytes.js'
import { parseDeviceKey } from '../stores/record.js'
import type { DeviceKey, SessionDevice } from '../stores/types.js'

/** Longest header value read: an RS256 registration JWT with a 4096-bit key is about 1.5 kB. */
const MAX_PROOF_CHARS = 8192

/** Longest `jti` accepted (the library's challenges are under 100 characters). */
const MAX_JTI = 512

/** Fewest base64url characters of an RSA modulus: 2048 bits. */
const MIN_RSA_MODULUS = 342

/** The algorithms a binding accepts: a binding needs a key, so never `none`, never HMAC. */
export type ProofAlg = 'ES256' | 'RS256'

/** A JWT whose shape is valid, not yet verified. */
export interface ParsedProof {
  alg: ProofAlg
  /** The public key from the header (`jwk`), or `null` when it has none (refresh). */
  jwk: DeviceKey | null
  /** The challenge it answers. */
  jti: string
  /** `header.payload`, the bytes signed. */
  signed: Uint8Array<ArrayBuffer>
  /** The signature's bytes. */
  signature: Uint8Array<ArrayBuffer>
}

const JWT = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

/** The JSON object a base64url string (a JWT part, the key cookie's key) encodes, or `null`. */
export function base64UrlJson(part: string): Record<string, unknown> | null {
  const bytes = fromBase64Url(part)
  if (bytes === null) return null
  try {
    const value: unknown = JSON.parse(decoder.decode(bytes))
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null
  } catch {
    return null
  }
}

/**
 * Reads a compact JWT without verifying it; `null` unless it is a `dbsc+jwt` of ES256 or
 * RS256 with a `jti` (and, if present, a P-256 or RSA `jwk` of the algorithm's kind).
 * Anything hostile (too long, not base64url, not JSON, `alg: none`, HS256) is `null`.
 */
export function parseProof(token: string | null): ParsedProof | null {
  if (token === null || token.length > MAX_PROOF_CHARS) return null
  const parts = JWT.exec(token)
  if (parts === null) return null
  const [, head = '', body = '', sig = ''] = parts
  const header = base64UrlJson(head)
  const payload = base64UrlJson(body)
  const signature = fromBase64Url(sig)
  if (header === null || payload === null || signature === null) return null
  const alg = header['alg']
  if (header['typ'] !== 'dbsc+jwt' || (alg !== 'ES256' && alg !== 'RS256')) return null
  let jwk: DeviceKey | null = null
  if (header['jwk'] !== undefined) {
    const key = parseDeviceKey(header['jwk'])
    if (key === undefined || (key.kty === 'EC') !== (alg === 'ES256')) return null
    if (key.kty === 'RSA' && key.n.length < MIN_RSA_MODULUS) return null
    jwk = key
  }
  const jti = payload['jti']
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI) return null
  // JWS ES256 signatures are r ‖ s, 64 bytes: what Web Crypto's ECDSA verifies.
  if (alg === 'ES256' && signature.byteLength !== 64) return null
  return {
    alg,
    jwk,
    jti,
    signed: encoder.encode(`${head}.${body}`) as Uint8Array<ArrayBuffer>,
    signature,
  }
}

/** Whether `proof` is signed by `key` with `alg` (Web Crypto); any import or verify failure is `false`. */
export async function verifyProof(
  proof: ParsedProof,
  alg: ProofAlg,
  key: DeviceKey,
): Promise<boolean> {
  if (proof.alg !== alg) return false
  try {
    if (alg === 'ES256') {
      const imported = await crypto.subtle.importKey(
        'jwk',
        key,
        { name: 'ECDSA', namedCurve: 'P-256' },
        false,
        ['verify'],
      )
      return await crypto.subtle.verify(
        { name: 'ECDSA', hash: 'SHA-256' },
        imported,
        proof.signature,
        proof.signed,
      )
    }
    const imported = await crypto.subtle.importKey(
      'jwk',
      key,
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      false,
      ['verify'],
    )
    return await crypto.subtle.verify('RSASSA-PKCS1-v1_5', imported, proof.signature, proof.signed)
  } catch {
    return false
  }
}

/** Whether the registered device's key signed `proof`. */
export function signedByDevice(proof: ParsedProof, device: SessionDevice): Promise<boolean> {
  if (device.alg === null || device.jwk === null) return Promise.resolve(false)
  return verifyProof(proof, device.alg, device.jwk)
}

/** A bare value as Chromium sends it: visible ASCII without quotes, backslashes, commas or semicolons. */
const BARE = /^[!#-+\--:<-[\]-~]+$/
/** The inside of a structured-field string (RFC 8941 §3.3.3): visible ASCII and space, `\"` and `\\` escaped. */
const QUOTED = /^"((?:[ !#-[\]-~]|\\["\\])*)"$/

/**
 * A structured-field string header (`"abc"`), or the same value bare (`abc`), as
 * Chromium 156 sends `Sec-Secure-Session-Id` and `Secure-Session-Response`; `null` when
 * absent, empty, over {@link MAX_PROOF_CHARS}, or neither form.
 */
export function readStringHeader(value: string | undefined): string | null {
  if (value === undefined) return null
  const text = value.trim()
  if (text === '' || text.length > MAX_PROOF_CHARS + 2) return null
  const quoted = QUOTED.exec(text)
  if (quoted !== null)
    return quoted[1] === '' ? null : (quoted[1] as string).replace(/\\(["\\])/g, '$1')
  return BARE.test(text) ? text : null
}

/** A structured-field string of a value the library made (no `"` or `\` in it). */
export const sfString = (value: string): string => `"${value}"`
