/**
 * @module
 * Retrying a write that Workers KV refused for its rate limit (429, one write per second to
 * one key), with a short bounded backoff inside the request.
 */
import { invalidOption } from '../foundation/errors.js'

/** The default waits before each retry, in ms: about 1.4 s in all, past KV's one-second window. */
export const KV_RATE_LIMIT_RETRIES: readonly number[] = [200, 400, 800]

/** At most this many retries, each waiting at most {@link MAX_RETRY_WAIT_MS}: a request must not hang. */
const MAX_RETRIES = 5
const MAX_RETRY_WAIT_MS = 5000

/** Validates the `rateLimitRetries` option; the error names it. */
export function resolveRetries(
  caller: string,
  retries: readonly number[] | undefined,
): readonly number[] {
  if (retries === undefined) return KV_RATE_LIMIT_RETRIES
  const valid =
    Array.isArray(retries) &&
    retries.length <= MAX_RETRIES &&
    retries.every((ms) => typeof ms === 'number' && ms >= 0 && ms <= MAX_RETRY_WAIT_MS)
  if (!valid) {
    throw invalidOption(
      caller,
      'rateLimitRetries',
      `must be at most ${MAX_RETRIES} waits of 0 to ${MAX_RETRY_WAIT_MS} ms`,
    )
  }
  return [...retries]
}

/** Whether KV refused a write for its rate limit ("KV PUT failed: 429 Too Many Requests"). */
function isRateLimited(error: unknown): boolean {
  return /\b429\b|too many requests/i.test(String(error instanceof Error ? error.message : error))
}

/** Runs `write`, and again after each wait of `waits` while it fails with 429; any other failure at once. */
export async function withRetries(
  waits: readonly number[],
  write: () => Promise<void>,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write()
    } catch (error) {
      const wait = waits[attempt]
      if (wait === undefined || !isRateLimited(error)) throw error
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
  }
}
