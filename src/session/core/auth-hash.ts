/**
 * @module
 * The session auth hash (Django's `get_session_auth_hash()`): the SHA-256 of a user's
 * current verifier, and the check every load makes that a logged-in session still holds.
 */
import type { Context } from 'hono'
import { SessionError } from '../foundation/errors.js'
import { sha256Hex } from '../foundation/id.js'
import type { SessionAuth } from '../stores/types.js'
import type { ResolvedSessionOptions } from './options.js'

/** Where a verifier is looked up: the `authHash` option and the request it runs for. */
export interface VerifierSource {
  readonly options: Pick<ResolvedSessionOptions, 'authHash'>
  readonly c: Context
}

/** Compares two equal-length hex digests without an early exit. */
function sameDigest(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

/** The SHA-256 of the user's current verifier, or `null` without `authHash` (or when it has none). */
export async function currentHash(source: VerifierSource, user: string): Promise<string | null> {
  const authHash = source.options.authHash
  if (authHash === null) return null
  const verifier = await authHash(source.c, user)
  if (verifier === null || verifier === undefined) return null
  if (typeof verifier !== 'string')
    throw new SessionError('INVALID_VALUE', 'authHash() must return a string, null or undefined')
  return sha256Hex(verifier)
}

/**
 * Whether a loaded session's binding still holds: always without `authHash`; otherwise
 * only while the user's current verifier hashes to the one bound at login (Django's
 * `get_user()`, which flushes the session otherwise).
 */
export async function authHashMatches(source: VerifierSource, auth: SessionAuth): Promise<boolean> {
  if (source.options.authHash === null) return true
  const current = await currentHash(source, auth.user)
  return current !== null && auth.hash !== null && sameDigest(current, auth.hash)
}
