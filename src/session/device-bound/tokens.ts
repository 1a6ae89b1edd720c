/**
 * @module
 * What the server signs for a device binding, with the binding's secret (HMAC-SHA256
 * through the library's signer, resolved once): the short-lived bound cookie, checked on
 * every load with no store operation; the key cookie, the registered public key a refresh
 * falls back on; and the challenges a proof must answer (recent, made for this session,
 * each accepted once).
 */
import { BoundedMap } from '../foundation/bounded-map.js'
import type { Context } from 'hono'
import { timestampSigner, type Signer } from '../cookies/signing.js'
import { toBase64Url } from '../foundation/bytes.js'
import { parseDeviceKey } from '../stores/record.js'
import type { DeviceKey } from '../stores/types.js'
import { base64UrlJson, type ProofAlg } from './proof.js'

/** Purposes: a bound cookie never verifies as a challenge, nor the other way round. */
const COOKIE_PURPOSE = 'edge-session/device-bound/cookie'
const CHALLENGE_PURPOSE = 'edge-session/device-bound/challenge'
const KEY_PURPOSE = 'edge-session/device-bound/key'

/**
 * Where the secret comes from: a string, or per request (bindings are only reachable
 * through `c.env`) the secret or the secrets, current first, then those still verifying.
 */
export type SecretSource = string | ((c: Context) => string | readonly string[])

/** Signers of secrets a function returned, one per secret set for the isolate's life (keys imported once), bounded. */
const signers = new BoundedMap<string, Signer>(16)

/**
 * The signer for each request, resolved once: a string secret's is made here, at
 * construction (`INVALID_OPTION` for a secret under 32 bytes); a function's is looked up
 * per request by the secrets it returns (followed by `fallbacks`).
 */
export function resolveSigner(
  secret: SecretSource,
  fallbacks: readonly string[],
): (c: Context) => Signer {
  if (typeof secret === 'string') {
    const signer = timestampSigner({ secret, fallbacks })
    return () => signer
  }
  return (c) => {
    const returned: unknown = secret(c)
    // Unchecked here: timestampSigner() refuses a missing or short secret with INVALID_OPTION.
    const secrets = (
      Array.isArray(returned) ? [...returned, ...fallbacks] : [returned, ...fallbacks]
    ) as string[]
    const key = secrets.length === 1 ? (secrets[0] as string) : JSON.stringify(secrets)
    return signers.getOrSet(key, () => {
      const [current, ...older] = secrets
      return timestampSigner({ secret: current as string, fallbacks: older })
    })
  }
}

/**
 * A bound cookie's value for device `id`, good until `expires` (whole seconds since the
 * epoch): `expires.timestamp.signature`, the signature over the session's device id too
 * (the signer's `:` written as `.`, which cookie values carry without percent-encoding).
 */
export async function boundCookieValue(
  signer: Signer,
  id: string,
  expires: number,
): Promise<string> {
  return (await signer.sign(String(expires), { purpose: COOKIE_PURPOSE, salt: id })).replaceAll(
    ':',
    '.',
  )
}

/** Whether `value` is a bound cookie made for device `id` and still unexpired at `nowMs`. */
export async function boundCookieValid(
  signer: Signer,
  id: string,
  value: string | undefined,
  nowMs: number,
): Promise<boolean> {
  return (await boundCookieExpiry(signer, id, value, nowMs)) !== null
}

/** When a valid bound cookie for device `id` expires, in ms; `null` for one that is not valid at `nowMs`. */
export async function boundCookieExpiry(
  signer: Signer,
  id: string,
  value: string | undefined,
  nowMs: number,
): Promise<number | null> {
  if (value === undefined || value.length > 128 || value.includes(':')) return null
  try {
    const expires = await signer.unsign(value.replaceAll('.', ':'), {
      purpose: COOKIE_PURPOSE,
      salt: id,
    })
    if (!/^\d{1,12}$/.test(expires)) return null
    const at = Number(expires) * 1000
    return at > nowMs ? at : null
  } catch {
    return null
  }
}

/** A registered key as the key cookie carries it: the algorithm and the public JWK. */
export interface SignedKey {
  alg: ProofAlg
  jwk: DeviceKey
}

const encoder = new TextEncoder()

/**
 * The key cookie's value: device `id`'s registered public key, signed by the server
 * (`alg~base64url(jwk).timestamp.signature`). Not a secret and no credential: it lets a
 * refresh verify the browser's proof when a concurrent write on a store that keeps whole
 * records (KV, the cookie store) dropped the key from the record.
 */
export async function keyCookieValue(signer: Signer, id: string, key: SignedKey): Promise<string> {
  const value = `${key.alg}~${toBase64Url(encoder.encode(JSON.stringify(key.jwk)))}`
  return (await signer.sign(value, { purpose: KEY_PURPOSE, salt: id })).replaceAll(':', '.')
}

/** The key a key cookie made for device `id` carries, or `null`. */
export async function keyFromCookie(
  signer: Signer,
  id: string,
  value: string | undefined,
): Promise<SignedKey | null> {
  if (value === undefined || value.length > 2048 || value.includes(':')) return null
  let signed: string
  try {
    signed = await signer.unsign(value.replaceAll('.', ':'), { purpose: KEY_PURPOSE, salt: id })
  } catch {
    return null
  }
  const [alg, encoded = ''] = signed.split('~')
  if (alg !== 'ES256' && alg !== 'RS256') return null
  const jwk = parseDeviceKey(base64UrlJson(encoded))
  return jwk !== undefined && (jwk.kty === 'EC') === (alg === 'ES256') ? { alg, jwk } : null
}

/** A new challenge for device `id`: `issued.nonce:timestamp:signature`, `issued` in ms (base 36). */
export function newChallenge(signer: Signer, id: string, nowMs: number): Promise<string> {
  const nonce = toBase64Url(crypto.getRandomValues(new Uint8Array(12)))
  return signer.sign(`${nowMs.toString(36)}.${nonce}`, { purpose: CHALLENGE_PURPOSE, salt: id })
}

/**
 * When the challenge `jti` was issued, in ms, if this server made it for device `id`
 * within the last `maxAgeMs`; else `null`. Whether it was used already is the caller's
 * check (against the device's `seen`).
 */
export async function challengeIssued(
  signer: Signer,
  id: string,
  jti: string,
  nowMs: number,
  maxAgeMs: number,
): Promise<number | null> {
  let value: string
  try {
    value = await signer.unsign(jti, { purpose: CHALLENGE_PURPOSE, salt: id })
  } catch {
    return null
  }
  const match = /^([0-9a-z]{1,11})\.[A-Za-z0-9_-]{16}$/.exec(value)
  if (match === null) return null
  const issued = parseInt(match[1] as string, 36)
  // A few seconds ahead are allowed: isolates' clocks differ slightly.
  return issued - nowMs <= 5000 && nowMs - issued <= maxAgeMs ? issued : null
}

/** A new DBSC `session_identifier`: 128 random bits, base64url. */
export const newDeviceId = (): string => toBase64Url(crypto.getRandomValues(new Uint8Array(16)))
