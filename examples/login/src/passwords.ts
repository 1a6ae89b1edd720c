/**
 * Password hashing on Web Crypto: PBKDF2-HMAC-SHA256 with a random 16-byte salt per
 * password, stored in Django's format, `pbkdf2_sha256$<iterations>$<salt>$<hash>`
 * (salt and hash in base64), so the count travels with each hash.
 *
 * Why 100,000 iterations: it is the most PBKDF2 iterations the Workers runtime accepts
 * (deployed Workers refuse more), and one hash costs about 10-20 ms of CPU, once per
 * sign-up, login or password change. That fits the paid plan's CPU limit easily. On the
 * Free plan (10 ms of CPU per request) lower ITERATIONS: hashes made with another count
 * keep verifying, since each stores its own. (OWASP asks 600,000 for PBKDF2-SHA256, which
 * Workers cannot run; a memory-hard hash such as Argon2 needs WebAssembly.)
 */

/** PBKDF2 iterations for new hashes. */
export const ITERATIONS = 100_000
const SALT_BYTES = 16
const HASH_BITS = 256
const PREFIX = 'pbkdf2_sha256'

const toBase64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes))
/** The bytes of base64 `text`, or `null` when it is not base64 (`atob()` throws). */
function fromBase64(text: string): Uint8Array | null {
  try {
    return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0))
  } catch {
    return null
  }
}

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(password),
    'PBKDF2',
    false,
    ['deriveBits'],
  )
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    key,
    HASH_BITS,
  )
  return new Uint8Array(bits)
}

/** Compares two byte strings in time that depends only on their length. */
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

/** Hashes a password with a fresh random salt. */
export async function hashPassword(password: string, iterations = ITERATIONS): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES))
  return `${PREFIX}$${iterations}$${toBase64(salt)}$${toBase64(await derive(password, salt, iterations))}`
}

/** Whether `password` matches `stored` (a hash from {@link hashPassword}); a malformed hash matches nothing. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [prefix, count, salt, hash] = stored.split('$')
  const iterations = Number(count)
  if (
    prefix !== PREFIX ||
    salt === undefined ||
    hash === undefined ||
    !Number.isSafeInteger(iterations) ||
    iterations < 1 ||
    iterations > ITERATIONS
  )
    return false
  const saltBytes = fromBase64(salt)
  const hashBytes = fromBase64(hash)
  if (saltBytes === null || hashBytes === null) return false
  return equalBytes(await derive(password, saltBytes, iterations), hashBytes)
}

/**
 * Spends the time a real check would, for a user that does not exist, so that the
 * login's timing does not tell which user names are taken.
 */
export async function verifyNobody(password: string): Promise<false> {
  await derive(password, new Uint8Array(SALT_BYTES), ITERATIONS)
  return false
}
