/**
 * @module
 * Ending sessions in the store on the request's behalf (`flush()`, an emptied or expired
 * session, the keys a save replaced): a failure never fails the response, whose cookie
 * is deleted anyway; it is logged and retried once in the background.
 */
import { logFailure } from '../foundation/log.js'
import type { SessionState } from './state.js'

/** Destroys each of `tokens` in the request's store; a failure is logged and retried once (`waitUntil`). */
export async function destroyTokens(state: SessionState, tokens: readonly string[]): Promise<void> {
  await Promise.all(tokens.map((token) => destroyToken(state, token)))
}

async function destroyToken(state: SessionState, token: string): Promise<void> {
  const store = state.store()
  try {
    await store.destroy(token, state.context())
  } catch (cause) {
    logFailure('session.store_delete_failed', cause)
    const retry = store
      .destroy(token, state.context())
      .catch((error: unknown) => logFailure('session.store_delete_retry_failed', error))
    try {
      state.c.executionCtx.waitUntil(retry)
    } catch {
      // No execution context (e.g. app.request in a unit test): the retry still runs.
    }
  }
}
