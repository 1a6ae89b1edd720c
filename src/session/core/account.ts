/**
 * @module
 * The user's side of the `Session` view (`Session` extends it): login and the auth hash
 * (Django's `login()`, `update_session_auth_hash()`), re-authentication freshness, "your
 * sessions" on stores with a registry, and session-bound WebSockets. Each method hands the
 * request's state to the module that does the work (`auth.ts`, `registry.ts`, `sockets.ts`).
 */
import { confirmAuthentication, login, requireFreshAuth, updateAuthHash } from './auth.js'
import type { ListSessionsOptions } from '../stores/list-page.js'
import {
  countSessions,
  listSessions,
  revokeAllSessions,
  revokeOtherSessions,
  revokeSession,
} from './registry.js'
import { acceptWebSocket } from './sockets.js'
import type { SessionState } from './state.js'
import type { SessionInfo } from '../stores/types.js'

/** The user's side of a `Session`: use it through `c.get('session')`, never on its own. */
export class SessionAccount {
  readonly #s: SessionState

  /** Made by `Session`'s constructor; not for direct use. */
  constructor(state: SessionState) {
    this.#s = state
  }

  /**
   * Logs `user` in (Django's `login()`): `cycleKey()` against session fixation, the user id
   * kept beside the data (not in it), bound to the user's verifier when `session({ authHash })`
   * is set, and the absolute lifetime (`absoluteMaxAge`) starting now. A session bound to
   * another user is emptied first. Log out with `flush()`.
   *
   * @example
   * ```ts
   * if (await checkPassword(name, password)) await c.get('session').login(userId)
   * ```
   */
  async login(user: string): Promise<void> {
    await login(this.#s, user)
  }

  /** The user the session is bound to by {@link SessionAccount.login}, or `null`. */
  async getUser(): Promise<string | null> {
    await this.#s.read()
    return this.#s.auth?.user ?? null
  }

  /**
   * Whether this browser registered a key for the session (`session({ deviceBound })`, DBSC).
   * @example `if (await c.get('session').isDeviceBound()) showBadge()`
   */
  async isDeviceBound(): Promise<boolean> {
    await this.#s.read()
    return Boolean(this.#s.device?.jwk)
  }

  /**
   * Keeps this session logged in after the user's credentials changed (Django's
   * `update_session_auth_hash()`): a new key, bound to the new verifier, while every
   * other session of the user reads as logged out on its next request. Needs `authHash`.
   */
  async updateAuthHash(): Promise<void> {
    await updateAuthHash(this.#s)
  }

  /** Records that the user just proved who they are again (password, passkey): a new key, the last authentication now. */
  async confirmAuthentication(): Promise<void> {
    await confirmAuthentication(this.#s)
  }

  /** Throws `REAUTHENTICATION_REQUIRED` (403) if the last `login()`/`confirmAuthentication()` is over `maxAge` s old. */
  async requireFreshAuth(maxAge: number): Promise<void> {
    await requireFreshAuth(this.#s, maxAge)
  }

  /** Accepts a WebSocket for this logged-in session (501 / 403 Origin / 401 refused first); see `core/sockets.ts`. */
  async acceptWebSocket(): Promise<Response> {
    return acceptWebSocket(this.#s)
  }

  /**
   * The logged-in user's sessions, newest first, the current one marked: at most `limit`
   * (default 100); the next page is `after` the last, e.g. `listSessions({ after: page.at(-1) })`.
   * Durable Objects only: elsewhere `SessionError` `NOT_SUPPORTED`; `NOT_LOGGED_IN` without `login()`.
   */
  async listSessions(options?: ListSessionsOptions): Promise<SessionInfo[]> {
    return listSessions(this.#s, options)
  }

  /** How many live sessions the logged-in user has (what {@link SessionAccount.listSessions} pages through). */
  async countSessions(): Promise<number> {
    return countSessions(this.#s)
  }

  /** Revokes one of the user's sessions by `handle`, at once for every device; resolves whether it existed. */
  async revokeSession(handle: string): Promise<boolean> {
    return revokeSession(this.#s, handle)
  }

  /** Revokes every other session of the user ("log out other devices"); resolves how many. */
  async revokeOtherSessions(): Promise<number> {
    return revokeOtherSessions(this.#s)
  }

  /** Revokes every session of the user, this one included ("log out everywhere"); resolves how many. */
  async revokeAllSessions(): Promise<number> {
    return revokeAllSessions(this.#s)
  }
}
