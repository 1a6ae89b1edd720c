/**
 * @module
 * `userSessions({ namespace })`: a user's sessions and sockets from any Worker code that
 * has the namespace, with no request and no session of theirs: an admin route, a cron
 * (`scheduled`) handler, a queue consumer. Each call is one RPC to the user's object.
 */
import { invalidOption, SessionError } from '../../foundation/errors.js'
import { logFailure } from '../../foundation/log.js'
import type { SessionEvent } from '../events.js'
import {
  eventPage,
  listPage,
  type ListSessionsOptions,
  type SecurityEventsOptions,
} from '../list-page.js'
import type { SessionInfo } from '../types.js'
import type { Acting, SessionObject } from './object.js'
import { toSessionInfo, userObjectName } from './schema.js'

/** Options of {@link userSessions}. */
export interface UserSessionsOptions {
  /** The namespace bound to {@link SessionObject}, e.g. `env.SESSION_OBJECTS`. */
  namespace: DurableObjectNamespace<SessionObject>
  /**
   * The clock, in ms since the epoch, that decides which sessions are live.
   * @default Date.now
   */
  now?: () => number
  /**
   * Called with each security event a call records (the `revoked` events of a revocation,
   * `by: 'admin'`); awaited before the call resolves, what it throws is logged.
   * @default undefined (none)
   */
  onEvent?: (event: SessionEvent) => void | Promise<void>
}

/** Who an admin call acts as, recorded as the `actor` of its events. */
export interface AdminCallOptions {
  /** The operator's name or id (e.g. the admin's user id); `null` for an unnamed job. @default null */
  actor?: string | null
}

/** What {@link userSessions} can do for any user, outside a request. */
export interface UserSessions {
  /**
   * The user's live sessions, newest first (`current` is always `false`: no request asks):
   * at most `limit` (default 100, at most 1000); the next page is `after` the last.
   */
  listSessions(user: string, options?: ListSessionsOptions): Promise<SessionInfo[]>
  /** How many live sessions the user has (what {@link UserSessions.listSessions} pages through). */
  countSessions(user: string): Promise<number>
  /**
   * Ends one session of the user (closing its sockets with 4401), recorded in their trail as
   * revoked by an admin (`actor`); resolves whether it existed.
   */
  revokeSession(user: string, handle: string, options?: AdminCallOptions): Promise<boolean>
  /** Ends every session of the user (closing every socket with 4401), recorded as revoked by an admin; resolves how many. */
  revokeAllSessions(user: string, options?: AdminCallOptions): Promise<number>
  /** A page of the user's security trail, newest first (as `session.securityEvents()`). */
  securityEvents(user: string, options?: SecurityEventsOptions): Promise<SessionEvent[]>
  /** Sends `message` to the user's open sockets, or one session's (`handle`); resolves how many received it. */
  send(user: string, message: string | ArrayBuffer, options?: { handle?: string }): Promise<number>
}

/**
 * A user's sessions and sockets, reachable with only the namespace (ASVS 7.4.2, 7.4.5: an
 * administrator or a job ends a user's sessions). Throws `INVALID_OPTION` for a namespace
 * that is not one; each method `INVALID_VALUE` for a user id that is not a non-empty string.
 *
 * @example
 * ```ts
 * export default {
 *   async scheduled(_event, env) {
 *     const admin = userSessions({ namespace: env.SESSION_OBJECTS })
 *     for (const user of await disabledAccounts(env)) await admin.revokeAllSessions(user)
 *   },
 * }
 * ```
 */
export function userSessions(options: UserSessionsOptions): UserSessions {
  const { namespace } = options
  if (
    namespace === null ||
    typeof namespace !== 'object' ||
    typeof namespace.idFromName !== 'function'
  ) {
    throw invalidOption('userSessions()', 'namespace', 'must be a Durable Object namespace binding')
  }
  const now = options.now ?? Date.now
  const onEvent = options.onEvent ?? null
  if (onEvent !== null && typeof onEvent !== 'function') {
    throw invalidOption('userSessions()', 'onEvent', 'must be a function (event) => void')
  }
  /** The admin acting, for the events a revocation records. */
  const acting = (call: AdminCallOptions = {}): Acting => {
    const actor = call.actor ?? null
    if (actor !== null && (typeof actor !== 'string' || actor.length > 256)) {
      throw new SessionError(
        'INVALID_VALUE',
        'userSessions(): "actor" must be a string of at most 256 characters, or null',
      )
    }
    return { by: 'admin', actor, actingHash: null, now: now(), retention: null }
  }
  /** Hands `events` to `onEvent`, each in turn, logging what it throws. */
  const told = async (events: readonly SessionEvent[]): Promise<void> => {
    if (onEvent === null) return
    for (const event of events) {
      try {
        await onEvent(event)
      } catch (error) {
        logFailure('session.event_hook_failed', error)
      }
    }
  }
  const stub = (user: string): DurableObjectStub<SessionObject> => {
    if (typeof user !== 'string' || user === '')
      throw new SessionError(
        'INVALID_VALUE',
        'userSessions(): the user id must be a non-empty string',
      )
    return namespace.get(namespace.idFromName(userObjectName(user)))
  }
  return {
    async listSessions(user, options) {
      const { limit, after } = listPage('userSessions().listSessions()', options)
      return (await stub(user).list(user, now(), null, limit, after)).map((row) =>
        toSessionInfo(row, false),
      )
    },
    countSessions: async (user) => stub(user).countSessions(user, now()),
    async revokeSession(user, handle, call) {
      if (typeof handle !== 'string')
        throw new SessionError(
          'INVALID_VALUE',
          'userSessions().revokeSession(): the handle must be a string',
        )
      const { hashes, events } = await stub(user).revoke(user, handle, acting(call))
      await told(events)
      return hashes.length > 0
    },
    async revokeAllSessions(user, call) {
      const { count, events } = await stub(user).revokeAll(user, null, acting(call))
      await told(events)
      return count
    },
    async securityEvents(user, options) {
      const { limit, after } = eventPage('userSessions().securityEvents()', options)
      return stub(user).securityEvents(user, now(), limit, after)
    },
    send: async (user, message, { handle } = {}) => stub(user).send(message, handle ?? null),
  }
}
