/**
 * @module
 * "Your sessions": list a user's sessions and revoke one, the others, or all, on stores
 * that keep a per-user registry (Durable Objects). Elsewhere each call is `NOT_SUPPORTED`.
 */
import { SessionError } from '../foundation/errors.js'
import { refuseImpersonation } from './auth.js'
import type { SessionState } from './state.js'
import type { SessionEvent } from '../stores/events.js'
import {
  eventPage,
  listPage,
  type ListSessionsOptions,
  type SecurityEventsOptions,
} from '../stores/list-page.js'
import type { SessionInfo, SessionRegistry } from '../stores/types.js'

/** The store's registry and the session's user, or the typed error saying why there are none. */
async function scope(
  state: SessionState,
  call: string,
): Promise<{ registry: SessionRegistry; user: string }> {
  const registry = state.store().registry
  if (registry === undefined) {
    throw new SessionError(
      'NOT_SUPPORTED',
      `${call}: this session store keeps no per-user registry (the Durable Object store does)`,
    )
  }
  await state.write()
  const user = state.auth?.user
  if (user === undefined)
    throw new SessionError('NOT_LOGGED_IN', `${call}: the session is not logged in`)
  return { registry, user }
}

/** A page of the user's live sessions, newest first, the current one marked. */
export async function listSessions(
  state: SessionState,
  options: ListSessionsOptions = {},
): Promise<SessionInfo[]> {
  const page = listPage('listSessions()', options)
  const { registry, user } = await scope(state, 'listSessions()')
  return registry.list(user, state.ownToken(), {
    ...state.context(),
    authHash: state.auth?.hash ?? null,
    ...page,
  })
}

/** How many live sessions the user has (all pages of {@link listSessions}). */
export async function countSessions(state: SessionState): Promise<number> {
  const { registry, user } = await scope(state, 'countSessions()')
  return registry.count(user, state.context())
}

/** Revokes one of the user's sessions by its handle; resolves whether it existed. */
export async function revokeSession(state: SessionState, handle: string): Promise<boolean> {
  if (typeof handle !== 'string')
    throw new SessionError('INVALID_VALUE', 'revokeSession(): the handle must be a string')
  const { registry, user } = await scope(state, 'revokeSession()')
  refuseImpersonation(state, 'revokeSession()')
  const own = state.ownToken()
  const { revoked, current, events } = await registry.revoke(user, handle, own, state.context())
  state.noteEvents(events)
  if (current) state.forgetRevoked()
  return revoked
}

/** Revokes every session of the user but this one ("log out other devices"); resolves how many. */
export async function revokeOtherSessions(state: SessionState): Promise<number> {
  const { registry, user } = await scope(state, 'revokeOtherSessions()')
  refuseImpersonation(state, 'revokeOtherSessions()')
  const own = state.ownToken()
  const { count, events } = await registry.revokeAll(user, own, own, state.context())
  state.noteEvents(events)
  return count
}

/** Revokes every session of the user, this one included ("log out everywhere"); resolves how many. */
export async function revokeAllSessions(state: SessionState): Promise<number> {
  const { registry, user } = await scope(state, 'revokeAllSessions()')
  refuseImpersonation(state, 'revokeAllSessions()')
  const own = state.ownToken()
  const { count, events } = await registry.revokeAll(user, null, own, state.context())
  state.noteEvents(events)
  state.forgetRevoked()
  return count
}

/** A page of the user's security trail, newest first. */
export async function securityEvents(
  state: SessionState,
  options: SecurityEventsOptions = {},
): Promise<SessionEvent[]> {
  const page = eventPage('securityEvents()', options)
  const { registry, user } = await scope(state, 'securityEvents()')
  return registry.securityEvents(user, { ...state.context(), ...page })
}
