/**
 * @module
 * `session.loginFailed(user)`: the app reports a failed password check (Django's
 * `user_login_failed` signal). A store that throttles logins (Durable Objects) records it in
 * the user's trail and counts it, in one call to the user's object; elsewhere it is an
 * event for the app's `onEvent` hook alone.
 */
import { describeDevice } from '../foundation/device.js'
import { SessionError } from '../foundation/errors.js'
import type { SessionEvent } from '../stores/events.js'
import { MAX_USER_ID } from './auth.js'
import type { SessionState } from './state.js'

/**
 * Records a failed password check for `user` (the name tried, whether or not it exists):
 * `INVALID_VALUE` for a name `login()` would refuse; `LOGIN_THROTTLED` (429, `retryAfter`)
 * while the store holds a lock on the name; `STORE_UNAVAILABLE` when the store failed.
 */
export async function loginFailed(state: SessionState, user: string): Promise<void> {
  if (typeof user !== 'string' || user === '' || user.length > MAX_USER_ID) {
    throw new SessionError(
      'INVALID_VALUE',
      `loginFailed(): the user name must be a string of 1 to ${MAX_USER_ID} characters`,
    )
  }
  const event: Extract<SessionEvent, { type: 'login-failed' }> = {
    type: 'login-failed',
    id: null,
    at: state.now(),
    user,
    handle: null,
    device: describeDevice(state.c.req.raw.headers),
    location: null,
    actor: null,
  }
  const store = state.store()
  if (store.loginFailed === undefined) {
    state.noteEvents([event])
    return
  }
  let recorded: readonly SessionEvent[]
  try {
    recorded = await store.loginFailed(event, state.context())
  } catch (cause) {
    if (cause instanceof SessionError) throw cause
    const message = 'The failed login could not be recorded; try again shortly.'
    throw new SessionError('STORE_UNAVAILABLE', message, { cause })
  }
  state.noteEvents(recorded)
}
