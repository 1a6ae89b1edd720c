/**
 * @module
 * Binding a session to a user (Django's `login()` and `update_session_auth_hash()`): a new
 * key, the user and the hash of their verifier kept beside the data, on every store; and
 * re-authentication freshness ("sudo mode"): when the user last proved who they are.
 */
import { SessionError } from '../foundation/errors.js'
import { currentHash } from './auth-hash.js'
import type { SessionState } from './state.js'

/**
 * Refuses, with `IMPERSONATING` (403), what must stay the user's own (re-authentication,
 * ending sessions, a password change, a login) while an operator acts as them.
 */
export function refuseImpersonation(state: SessionState, call: string): void {
  if (state.impersonator !== null)
    throw new SessionError(
      'IMPERSONATING',
      `${call}: refused while ${state.impersonator} is acting as this user; it must be the user's own`,
    )
}

/** Longest user id `login()` accepts, in UTF-16 code units. */
export const MAX_USER_ID = 256

/**
 * Logs `user` in (Django's `login()`): a new key against session fixation, the user (and
 * the SHA-256 of their verifier) kept beside the data, and the absolute lifetime starting
 * now. A session bound to another user is emptied first, as Django flushes it.
 */
export async function login(state: SessionState, user: string): Promise<void> {
  if (typeof user !== 'string' || user === '' || user.length > MAX_USER_ID) {
    throw new SessionError(
      'INVALID_VALUE',
      `login(): the user id must be a string of 1 to ${MAX_USER_ID} characters`,
    )
  }
  await state.write()
  refuseImpersonation(state, 'login()')
  const hash = await currentHash(state, user)
  if (state.options.authHash !== null && hash === null) {
    throw new SessionError('INVALID_VALUE', 'login(): authHash() gave no verifier for this user')
  }
  state.logIn({ user, hash, at: state.now() })
}

/**
 * Keeps the current session after the user's credentials changed (Django's
 * `update_session_auth_hash()`): a new key, bound to the new verifier. Every other
 * session of the user reads as logged out from its next request.
 */
export async function updateAuthHash(state: SessionState): Promise<void> {
  await state.write()
  const auth = state.auth
  if (auth === null)
    throw new SessionError('NOT_LOGGED_IN', 'updateAuthHash(): the session is not logged in')
  refuseImpersonation(state, 'updateAuthHash()')
  if (state.options.authHash === null)
    throw new SessionError('INVALID_OPTION', 'updateAuthHash(): session() has no "authHash" option')
  const hash = await currentHash(state, auth.user)
  if (hash === null)
    throw new SessionError(
      'INVALID_VALUE',
      'updateAuthHash(): authHash() gave no verifier for this user',
    )
  state.rebind({ ...auth, hash })
}

/**
 * Records that the logged-in user just proved who they are again (a password or passkey
 * the app checked): the last authentication becomes now, on a new key (ASVS 7.2.4).
 */
export async function confirmAuthentication(state: SessionState): Promise<void> {
  await state.write()
  const auth = state.auth
  if (auth === null)
    throw new SessionError('NOT_LOGGED_IN', 'confirmAuthentication(): the session is not logged in')
  refuseImpersonation(state, 'confirmAuthentication()')
  state.reauthenticate({ ...auth, at: state.now() })
}

/**
 * Refuses (`REAUTHENTICATION_REQUIRED`, 403) a session whose last authentication is more
 * than `maxAge` seconds old (a whole number, as `freshAuth()`'s option; else `INVALID_VALUE`); `NOT_LOGGED_IN` (401) without a user. A record written before
 * the last authentication was kept counts from its creation (its login).
 */
export async function requireFreshAuth(state: SessionState, maxAge: number): Promise<void> {
  if (!Number.isSafeInteger(maxAge) || maxAge < 0)
    throw new SessionError(
      'INVALID_VALUE',
      'requireFreshAuth(): maxAge must be a whole number of seconds >= 0',
    )
  await state.read()
  const auth = state.auth
  if (auth === null)
    throw new SessionError('NOT_LOGGED_IN', 'requireFreshAuth(): the session is not logged in')
  refuseImpersonation(state, 'requireFreshAuth()')
  const at = auth.at ?? state.createdAt ?? 0
  if (state.now() - at > maxAge * 1000) {
    throw new SessionError(
      'REAUTHENTICATION_REQUIRED',
      `Confirm it is you: this action needs an authentication within the last ${maxAge} s.`,
    )
  }
}
