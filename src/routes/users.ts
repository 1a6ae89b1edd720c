/**
 * @module
 * The demo's users: no passwords, only a verifier per user name in the `USERS` KV
 * namespace, standing in for a password hash. `session({ authHash })` binds each login
 * to it, and "change password" replaces it, which logs every other session of the user
 * out (Django's session auth hash), on every store.
 */
import type { Context } from 'hono'
import { SessionError } from '../session/index.js'
import { generateSessionId } from '../session/store.js'
import type { DemoEnv } from './env.js'

/** Prefix of a user's verifier in `USERS`. */
export const USER_KEY_PREFIX = 'user:'

/**
 * What every session is bound to when the app has no `USERS` binding (e.g. a test that
 * passes only `SESSIONS`): a constant, so the binding holds and "change password" is off.
 */
const NO_USERS = 'no USERS binding'

/** 256 random bits, as a session id has. */
const newVerifier = (): string => generateSessionId()

/** The user's current verifier (the demo's `authHash` option), or `null` for an unknown user. */
export async function demoAuthHash(c: Context<DemoEnv>, user: string): Promise<string | null> {
  const users = c.env?.USERS
  if (users === undefined) return NO_USERS
  return users.get(USER_KEY_PREFIX + user, 'text')
}

/** Makes sure `user` exists, so that logging in can bind to a verifier. */
export async function ensureUser(c: Context<DemoEnv>, user: string): Promise<void> {
  const users = c.env?.USERS
  if (users === undefined || (await users.get(USER_KEY_PREFIX + user, 'text')) !== null) return
  await users.put(USER_KEY_PREFIX + user, newVerifier())
}

/**
 * "Changes the password" of `user`: a new verifier, so every session bound to the old one
 * reads as logged out. `NOT_SUPPORTED` without a `USERS` binding.
 */
export async function changePassword(c: Context<DemoEnv>, user: string): Promise<void> {
  const users = c.env?.USERS
  if (users === undefined)
    throw new SessionError(
      'NOT_SUPPORTED',
      'This deployment has no USERS binding, so there is no password to change.',
    )
  await users.put(USER_KEY_PREFIX + user, newVerifier())
}

/** Whether `user` exists (has logged in once); every name does without a `USERS` binding. */
export async function userExists(c: Context<DemoEnv>, user: string): Promise<boolean> {
  const users = c.env?.USERS
  return users === undefined || (await users.get(USER_KEY_PREFIX + user, 'text')) !== null
}
