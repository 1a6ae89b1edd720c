/**
 * @module
 * How the test kit reaches a client's session without knowing any store's layout: it
 * runs the app's own session options through `session()` in a small Hono app of its
 * own, whose one route hands the session to a step (`login()`, `toObject()`, `flush()`).
 * The real middleware reads and writes the record, on whatever store the options name;
 * nothing in the app's middleware answers a test-only header or route.
 */
import { Hono, type Context } from 'hono'
import { session, type SessionEnv } from '../core/middleware.js'
import type { SessionOptions } from '../core/options.js'
import type { Session } from '../core/session.js'
import type { SessionData } from '../stores/types.js'

/** What a step does with the session, in one request of the kit's own app. */
export type SessionStep<T, Data extends object = SessionData> = (
  session: Session<Data>,
  c: Context,
) => T | Promise<T>

/** The kit's app for one set of session options: `run()` sends one request through it. */
export interface SessionAccess {
  /**
   * Runs `step` in a request to `url` carrying `headers` (the client's cookies), with
   * `env` as its bindings; resolves the step's result and the response, whose
   * `Set-Cookie` the client keeps. A step or commit that throws rejects with that error.
   */
  run<T>(
    // biome-ignore lint/suspicious/noExplicitAny: a step for a session of any data type
    step: SessionStep<T, any>,
    url: string,
    headers: Headers,
    env: unknown,
    executionCtx?: ExecutionContext,
  ): Promise<{ result: T; res: Response }>
}

/** The header naming the step of a request to the kit's app (never sent to the app under test). */
const STEP = 'x-edge-session-testing-step'

/** Builds the kit's app for `options` (those of the app's `session()`). */
export function sessionAccess(options: SessionOptions = {}): SessionAccess {
  const steps = new Map<string, (s: Session, c: Context) => Promise<void>>()
  const errors = new Map<string, unknown>()
  let next = 0
  const app = new Hono<SessionEnv>()
  app.use(session(options))
  app.all('*', async (c) => {
    const id = c.req.header(STEP) ?? ''
    try {
      await steps.get(id)?.(c.get('session'), c)
    } catch (error) {
      // A 5xx saves nothing: a step that failed leaves the session as it was.
      errors.set(id, error)
      return c.body(null, 500)
    }
    return c.body(null, 204)
  })
  app.onError((error, c) => {
    errors.set(c.req.header(STEP) ?? '', error)
    return c.body(null, 500)
  })
  return {
    async run(step, url, headers, env, executionCtx) {
      const id = String(next++)
      let result: unknown
      steps.set(id, async (s, c) => {
        result = await step(s, c)
      })
      const sent = new Headers(headers)
      sent.set(STEP, id)
      try {
        const res = await app.request(url, { headers: sent }, env, executionCtx)
        if (errors.has(id)) throw errors.get(id)
        return { result: result as never, res }
      } finally {
        steps.delete(id)
        errors.delete(id)
      }
    },
  }
}
