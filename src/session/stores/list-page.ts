/**
 * @module
 * How a user's sessions are paged, for `session.listSessions()` and `userSessions().listSessions()`
 * alike: the default and the largest page, and the options checked once into a cursor.
 */
import { SessionError } from '../foundation/errors.js'
import type { EventCursor, SessionEvent } from './events.js'
import type { SessionCursor, SessionInfo } from './types.js'

/** How many sessions a list gives when not told: one page of "your sessions". */
export const DEFAULT_SESSION_LIST_LIMIT = 100
/** The most sessions one list call gives. */
export const MAX_SESSION_LIST_LIMIT = 1000

/** Options of `session.listSessions()` and `userSessions().listSessions()`. */
export interface ListSessionsOptions {
  /**
   * At most this many sessions, 1 to {@link MAX_SESSION_LIST_LIMIT}.
   * @default 100
   */
  limit?: number
  /** The next page: the sessions after this one (the last of the previous page), newest first. */
  after?: Pick<SessionInfo, 'createdAt' | 'handle'> | null
}

/** A page's size, checked: `INVALID_VALUE` for anything but a whole number from 1 to the most. */
function checkLimit(caller: string, value: number | undefined): number {
  const limit = value ?? DEFAULT_SESSION_LIST_LIMIT
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_SESSION_LIST_LIMIT) {
    throw new SessionError(
      'INVALID_VALUE',
      `${caller}: "limit" must be a whole number from 1 to ${MAX_SESSION_LIST_LIMIT}`,
    )
  }
  return limit
}

/** A checked page request: its size and where it starts. */
export interface ListPage {
  limit: number
  after: SessionCursor | null
}

/**
 * Checks `options` for the list call named `caller`: `INVALID_VALUE` for a `limit` that is
 * not a whole number from 1 to {@link MAX_SESSION_LIST_LIMIT}, or an `after` that is not a
 * session of a previous page.
 */
export function listPage(caller: string, options: ListSessionsOptions = {}): ListPage {
  const limit = checkLimit(caller, options.limit)
  const after = options.after ?? null
  if (
    after !== null &&
    (typeof after !== 'object' ||
      !Number.isFinite(after.createdAt) ||
      typeof after.handle !== 'string')
  ) {
    throw new SessionError(
      'INVALID_VALUE',
      `${caller}: "after" must be a session of the previous page ({ createdAt, handle })`,
    )
  }
  return {
    limit,
    after: after === null ? null : { createdAt: after.createdAt, handle: after.handle },
  }
}

/** Options of `session.securityEvents()` and `userSessions().securityEvents()`. */
export interface SecurityEventsOptions {
  /**
   * At most this many events, 1 to {@link MAX_SESSION_LIST_LIMIT}.
   * @default 100
   */
  limit?: number
  /** The next page: the events after this one (the last of the previous page), newest first. */
  after?: Pick<SessionEvent, 'id'> | null
}

/** A checked page request of a trail: its size and where it starts. */
export interface EventPage {
  limit: number
  after: EventCursor | null
}

/**
 * Checks `options` for the trail call named `caller`: `INVALID_VALUE` for a `limit` that is
 * not a whole number from 1 to {@link MAX_SESSION_LIST_LIMIT}, or an `after` that is not an
 * event of a previous page.
 */
export function eventPage(caller: string, options: SecurityEventsOptions = {}): EventPage {
  const limit = checkLimit(caller, options.limit)
  const after = options.after ?? null
  if (after === null) return { limit, after: null }
  const id: unknown = typeof after === 'object' ? after.id : undefined
  if (typeof id !== 'string' || !/^\d{1,15}$/.test(id)) {
    throw new SessionError(
      'INVALID_VALUE',
      `${caller}: "after" must be an event of the previous page ({ id })`,
    )
  }
  return { limit, after: { id } }
}
