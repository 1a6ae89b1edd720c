/**
 * @module
 * Handing a request's security events to the app's `onEvent` hook, after the response is
 * decided: in `waitUntil`, one event at a time, in order; what the hook throws is logged
 * and never reaches the response.
 */
import type { Context } from 'hono'
import { logFailure } from '../foundation/log.js'
import type { SessionEvent } from '../stores/events.js'

/** Runs `onEvent` for each of `events` after the response (`waitUntil`), isolating its failures. */
export function report(
  c: Context,
  onEvent: (event: SessionEvent, c: Context) => void | Promise<void>,
  events: readonly SessionEvent[],
): void {
  if (events.length === 0) return
  const run = (async () => {
    for (const event of events) {
      try {
        await onEvent(event, c)
      } catch (error) {
        logFailure('session.event_hook_failed', error)
      }
    }
  })()
  waitUntil(c, run)
}

/** `c.executionCtx.waitUntil(promise)`, or nothing where there is no execution context (`app.request()` in a test): the promise still runs. */
function waitUntil(c: Context, promise: Promise<void>): void {
  try {
    c.executionCtx.waitUntil(promise)
  } catch {
    // No execution context: the hook still runs, unawaited.
  }
}
