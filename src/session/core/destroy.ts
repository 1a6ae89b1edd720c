/**
 * @module
 * Ending sessions in the store on the request's behalf (`flush()`, an emptied or expired
 * session, the keys a save replaced): a failure never fails the response, whose cookie
 * is deleted anyway; it is logged and retried once in the background.
 */
import { logFailure } from '../foundation/log.js'
import type { DestroyContext } from '../stores/types.js'
import type { Leaving, SessionState } from './state.js'

/**
 * Destroys each key the session leaves in the request's store, recording its event (a
 * logout) with it; a failure is logged and retried once (`waitUntil`).
 */
export async function destroyTokens(
  state: SessionState,
  leaving: readonly Leaving[],
): Promise<void> {
  await Promise.all(leaving.map((one) => destroyToken(state, one)))
}

async function destroyToken(state: SessionState, { token, event }: Leaving): Promise<void> {
  const store = state.store()
  const context: DestroyContext = { ...state.context(), events: event === null ? [] : [event] }
  try {
    state.noteEvents(await store.destroy(token, context))
  } catch (cause) {
    logFailure('session.store_delete_failed', cause)
    const retry = store
      .destroy(token, context)
      .then((events) => state.noteEvents(events))
      .catch((error: unknown) => logFailure('session.store_delete_retry_failed', error))
    try {
      state.c.executionCtx.waitUntil(retry)
    } catch {
      // No execution context (e.g. app.request in a unit test): the retry still runs.
    }
  }
}
