/**
 * @module
 * `freshAuth({ maxAge })`: a middleware that lets a request through only when its
 * session's user authenticated within `maxAge` seconds ("sudo mode"), on every store.
 * Built on the session's public API (`requireFreshAuth()`).
 */
import type { MiddlewareHandler } from 'hono'
import { invalidOption } from '../foundation/errors.js'
import { sessionOf } from '../core/session.js'

/** Options of {@link freshAuth}. */
export interface FreshAuthOptions {
  /**
   * How long an authentication (`login()`, `confirmAuthentication()`) counts as fresh, in
   * seconds. GitHub's sudo mode keeps 2 hours, Laravel's `password.confirm` 3 hours.
   * @default 600
   */
  maxAge?: number
}

/**
 * Refuses a request whose session last authenticated more than `maxAge` seconds ago with
 * `SessionError` `REAUTHENTICATION_REQUIRED` (403), and one bound to no user with
 * `NOT_LOGGED_IN` (401), for `app.onError` to turn into a "confirm your password" page or
 * JSON. Mount it after `session()`. Throws `INVALID_OPTION` naming `maxAge` at construction
 * for anything but a whole number of seconds >= 0.
 *
 * @example
 * ```ts
 * app.post('/account/password', freshAuth({ maxAge: 600 }), async (c) => { … })
 * ```
 */
export function freshAuth(options: FreshAuthOptions = {}): MiddlewareHandler {
  const maxAge = options.maxAge ?? 600
  if (!Number.isSafeInteger(maxAge) || maxAge < 0)
    throw invalidOption('freshAuth()', 'maxAge', 'must be a whole number of seconds >= 0')
  return async function freshAuthGuard(c, next) {
    await sessionOf(c, 'freshAuth()').requireFreshAuth(maxAge)
    await next()
  }
}
