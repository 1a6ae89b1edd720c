/**
 * @module
 * Impersonation: an operator acts as another user (support staff seeing the app as the user
 * sees it), with a reason and a time limit, and goes back to their own session after; and
 * the rule that what must stay the user's own (re-authentication, ending sessions, a
 * password change) is refused while impersonating (`IMPERSONATING`). The store keeps the
 * impersonation (`SessionStore.impersonation`, Durable Objects).
 */
import { SessionError } from '../foundation/errors.js'
import { encodeRecord } from '../stores/record.js'
import type { SessionRecord } from '../stores/types.js'
import { MAX_USER_ID, refuseImpersonation, requireFreshAuth } from './auth.js'
import { currentHash } from './auth-hash.js'
import { emptyData, type SessionState } from './state.js'

/** How long an impersonation lasts unless `maxAge` says otherwise: 30 minutes, in seconds. */
export const DEFAULT_IMPERSONATION_MAX_AGE = 1800

/** How recent the operator's authentication must be to start one unless `freshness` says otherwise, in seconds. */
export const DEFAULT_IMPERSONATION_FRESHNESS = 600

/** The longest reason kept, in UTF-16 code units. */
const MAX_REASON = 500

/** Options of `session.impersonate()`. */
export interface ImpersonateOptions {
  /** Why (a ticket, a request of the user's): required, recorded in both users' trails; 1 to 500 characters. */
  reason: string
  /**
   * The time limit, in seconds (1 to 86400): past it, the next request is the operator's
   * own session again.
   * @default 1800 (30 minutes)
   */
  maxAge?: number
  /**
   * The operator must have authenticated (`login()`, `confirmAuthentication()`) within this
   * many seconds, as `requireFreshAuth()` checks; else `REAUTHENTICATION_REQUIRED` (403).
   * @default 600
   */
  freshness?: number
}

/** A whole number of seconds from 1 to `max`, or `INVALID_VALUE` naming the option. */
function seconds(value: unknown, name: string, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max)
    throw new SessionError(
      'INVALID_VALUE',
      `impersonate(): ${name} must be a whole number of seconds from 1 to ${max}`,
    )
  return value
}

/**
 * Starts acting as `target` from the operator's logged-in, saved session, whose
 * authentication is fresh: the operator's session is kept as it is, and from this response
 * on the cookie carries a session of `target`'s that knows its `impersonator`.
 */
export async function impersonate(
  state: SessionState,
  target: string,
  options: ImpersonateOptions,
): Promise<void> {
  if (typeof target !== 'string' || target === '' || target.length > MAX_USER_ID)
    throw new SessionError(
      'INVALID_VALUE',
      `impersonate(): the user id must be a string of 1 to ${MAX_USER_ID} characters`,
    )
  const reason = typeof options?.reason === 'string' ? options.reason.trim() : ''
  if (reason === '' || reason.length > MAX_REASON)
    throw new SessionError(
      'INVALID_VALUE',
      `impersonate(): a reason of 1 to ${MAX_REASON} characters is required`,
    )
  const maxAge = seconds(options.maxAge ?? DEFAULT_IMPERSONATION_MAX_AGE, 'maxAge', 86_400)
  const freshness = options.freshness ?? DEFAULT_IMPERSONATION_FRESHNESS
  const store = state.store()
  if (store.impersonation === undefined)
    throw new SessionError(
      'NOT_SUPPORTED',
      'impersonate(): this session store cannot impersonate (the Durable Object store can)',
    )
  await state.write()
  const admin = state.auth?.user
  if (admin === undefined)
    throw new SessionError('NOT_LOGGED_IN', 'impersonate(): the session is not logged in')
  refuseImpersonation(state, 'impersonate()')
  if (target === admin)
    throw new SessionError('INVALID_VALUE', 'impersonate(): an operator cannot act as themselves')
  await requireFreshAuth(state, freshness)
  const token = state.token
  if (token === null || state.retired.length > 0)
    throw new SessionError(
      'SESSION_INTERRUPTED',
      'impersonate(): the session changed key in this request; impersonate in the next one',
    )
  const hash = await currentHash(state, target)
  if (state.options.authHash !== null && hash === null)
    throw new SessionError(
      'INVALID_VALUE',
      'impersonate(): authHash() gave no verifier for this user',
    )
  const now = state.now()
  const record: SessionRecord = {
    data: emptyData(),
    expiry: null,
    expiresAt: now + state.options.maxAge * 1000,
    createdAt: now,
    auth: { user: target, hash, at: now },
  }
  const started = await store.impersonation.start(
    token,
    {
      impersonator: admin,
      target,
      reason,
      endsAt: now + maxAge * 1000,
      record,
      serialized: encodeRecord(record, state.options.maxPayloadBytes),
    },
    state.context(),
  )
  state.noteEvents(started.events)
  state.switchTo(started.token, record, admin)
}

/**
 * Ends the impersonation the session is: the operator's own session again, under a new key
 * (the same handle), or none when it ended meanwhile. Resolves whether it was one.
 */
export async function stopImpersonating(state: SessionState): Promise<boolean> {
  await state.read()
  const token = state.token
  const store = state.store()
  if (state.impersonator === null || token === null || store.impersonation === undefined)
    return false
  const back = await store.impersonation.stop(token, state.context())
  state.noteEvents(back.events)
  if (back.token !== null && back.record !== null) state.switchTo(back.token, back.record, null)
  else state.forgetRevoked()
  return true
}
