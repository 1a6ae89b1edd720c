/**
 * A DBSC browser in a test: a key pair made by Web Crypto (ES256 or RS256), the compact
 * JWTs a browser sends (`Secure-Session-Response`), and the headers the server sends
 * read back (the registration offer's challenge, the refresh challenge).
 */

/** The two algorithms DBSC servers accept. */
export type Alg = 'ES256' | 'RS256'

/** A browser's device key. */
export interface DeviceKeyPair {
  alg: Alg
  privateKey: CryptoKey
  /** The public key as a JWK, as the browser puts it in the registration JWT's `jwk`. */
  jwk: JsonWebKey
}

const encoder = new TextEncoder()
const b64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
/** base64url of a JSON value (or of a string as is). */
export const part = (value: unknown): string =>
  b64url(encoder.encode(typeof value === 'string' ? value : JSON.stringify(value)))

/** A new key pair for `alg`, made by Web Crypto. */
export async function deviceKey(alg: Alg): Promise<DeviceKeyPair> {
  const params =
    alg === 'ES256'
      ? { name: 'ECDSA', namedCurve: 'P-256' }
      : {
          name: 'RSASSA-PKCS1-v1_5',
          modulusLength: 2048,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: 'SHA-256',
        }
  const pair = (await crypto.subtle.generateKey(params, true, ['sign', 'verify'])) as CryptoKeyPair
  const { kty, crv, x, y, n, e } = (await crypto.subtle.exportKey(
    'jwk',
    pair.publicKey,
  )) as JsonWebKey
  const jwk = alg === 'ES256' ? { kty, crv, x, y } : { kty, n, e }
  return { alg, privateKey: pair.privateKey, jwk }
}

/** Options of {@link proof}: what a hostile client might change. */
export interface ProofOptions {
  /** Put the public key in the header (registration). @default false */
  withJwk?: boolean
  /** Header members to add or replace (e.g. `{ alg: 'none' }`). */
  header?: Record<string, unknown>
  /** Sign with this key instead (a wrong key). */
  signWith?: DeviceKeyPair
}

/** A `Secure-Session-Response` JWT answering `jti`, signed by `key`. */
export async function proof(
  key: DeviceKeyPair,
  jti: string,
  options: ProofOptions = {},
): Promise<string> {
  const header = {
    alg: key.alg,
    typ: 'dbsc+jwt',
    ...(options.withJwk ? { jwk: key.jwk } : {}),
    ...options.header,
  }
  const signed = `${part(header)}.${part({ jti })}`
  const signer = options.signWith ?? key
  const algorithm =
    signer.alg === 'ES256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' }
  const signature = new Uint8Array(
    await crypto.subtle.sign(algorithm, signer.privateKey, encoder.encode(signed)),
  )
  return `${signed}.${b64url(signature)}`
}

/** The challenge of a `Secure-Session-Registration` header (`…;challenge="…"`). */
export function registrationChallenge(res: Response): string {
  const header = res.headers.get('Secure-Session-Registration') ?? ''
  const match = /^\(ES256 RS256\);path="([^"]+)";challenge="([^"]+)"$/.exec(header)
  if (match === null) throw new Error(`not a registration offer: ${JSON.stringify(header)}`)
  return match[2]!
}

/** The challenge and session id of a `Secure-Session-Challenge` header (`"…";id="…"`). */
export function refreshChallenge(res: Response): { challenge: string; id: string } {
  const header = res.headers.get('Secure-Session-Challenge') ?? ''
  const match = /^"([^"]+)";id="([^"]+)"$/.exec(header)
  if (match === null) throw new Error(`not a refresh challenge: ${JSON.stringify(header)}`)
  return { challenge: match[1]!, id: match[2]! }
}
