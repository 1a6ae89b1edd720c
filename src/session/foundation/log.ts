/**
 * @module
 * The library's one logger: one JSON line per event on `console.warn`, which Workers
 * Logs and `wrangler tail` keep as structured fields. Callers pass only what is safe to
 * log: an event name and facts about it, never a session id, a token, a secret or data.
 */

/**
 * Logs `{"event": event, ...fields}` as one JSON line.
 *
 * @example
 * ```ts
 * logEvent('session.corrupt_record', { reason: 'not-json', keyPrefix: 'a1b2c3d4e5f6' })
 * ```
 */
export function logEvent(event: string, fields: Readonly<Record<string, unknown>> = {}): void {
  console.warn(JSON.stringify({ event, ...fields }))
}

/**
 * Logs a failure the library recovered from (the error's text only: a store's error
 * message holds no id).
 *
 * @example
 * ```ts
 * logFailure('session.store_delete_failed', error)
 * ```
 */
export function logFailure(event: string, error: unknown): void {
  logEvent(event, { error: String(error) })
}
