/**
 * @module
 * A body-size limit for the demo's routes: `hono/body-limit`'s, except that a chunked
 * body found to be over the limit is read to its end (up to a bound) before the 413.
 *
 * Why: `hono/body-limit` stops reading at the limit and leaves the stream locked. Under
 * `wrangler dev` (4.86) that leaves the dev proxy's keep-alive connection to the Worker
 * dead, and the next request through it, from any client, stalls (GET, HEAD) or gets a
 * 503 "Your worker restarted mid-request" for about 5 s (cloudflare/workerd#1741,
 * cloudflare/workers-sdk#14593). Wrangler's own dev middleware drains a body the Worker
 * never touched, but not one it has started to read. Draining here avoids it; deployed,
 * it only costs reading bytes the client sends anyway. `scripts/repro-dev-chunked.sh`
 * reproduces it; docs/security.md tells the whole story.
 */
import type { Context, Env, MiddlewareHandler } from 'hono'

/** Options of {@link bodyLimit}. */
export interface BodyLimitOptions<E extends Env> {
  /** The largest body accepted, in bytes. */
  maxSize: number
  /** Answers a body over `maxSize` (a 413). */
  onError: (c: Context<E>) => Response | Promise<Response>
  /**
   * How many bytes in all to read of a chunked body over the limit before answering;
   * past it the rest is cancelled (and, under `wrangler dev`, the next request may stall).
   * @default 16 MiB
   */
  drainUpTo?: number
}

/** Reads and drops what is left of `reader`, at most `budget` more bytes; cancels past that. */
async function discard(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  budget: number,
): Promise<void> {
  let read = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return
    read += value.byteLength
    if (read > budget) return reader.cancel()
  }
}

/**
 * Refuses a body over `maxSize` with `onError`. A `Content-Length` over the limit is
 * refused unread (as `hono/body-limit` does); a chunked body is counted as it arrives,
 * handed on whole if it fits, and drained (up to `drainUpTo`) before the refusal if not.
 *
 * Throws a `RangeError` naming the option, at construction, for a `maxSize` that is not
 * a number of bytes, or a `drainUpTo` under `maxSize`.
 *
 * @example
 * ```ts
 * app.use('/session', bodyLimit({ maxSize: 128 * 1024, onError: (c) => c.json({ error: 'Too large' }, 413) }))
 * ```
 */
export function bodyLimit<E extends Env>({
  maxSize,
  onError,
  drainUpTo = 16 * 1024 * 1024,
}: BodyLimitOptions<E>): MiddlewareHandler<E> {
  if (!(maxSize >= 0))
    throw new RangeError(
      `bodyLimit(): option "maxSize" must be a number of bytes >= 0, not ${maxSize}`,
    )
  if (!(drainUpTo >= maxSize))
    throw new RangeError(
      `bodyLimit(): option "drainUpTo" must be a number of bytes >= maxSize (${maxSize}), not ${drainUpTo}`,
    )
  return async function drainingBodyLimit(c, next) {
    const body = c.req.raw.body
    if (body === null) return next()
    const length = c.req.raw.headers.get('Content-Length')
    if (length !== null && !c.req.raw.headers.has('Transfer-Encoding')) {
      return Number.parseInt(length, 10) > maxSize ? onError(c) : next()
    }
    const reader = body.getReader()
    const chunks: Uint8Array[] = []
    let size = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > maxSize) {
        await discard(reader, drainUpTo - size)
        return onError(c)
      }
      chunks.push(value)
    }
    const whole = new Uint8Array(size)
    let offset = 0
    for (const chunk of chunks) {
      whole.set(chunk, offset)
      offset += chunk.byteLength
    }
    c.req.raw = new Request(c.req.raw, { body: whole })
    return next()
  }
}
