/**
 * @module
 * The `session()` middleware: a lazily loaded session per request, persisted after
 * the handler as Django's `SessionMiddleware` does.
 */
import type { MiddlewareHandler } from 'hono'
import { resolveOptions, type SessionOptions } from './options'
import { COMMIT, Session } from './session'
import type { SessionData } from './stores/types'

/**
 * The Hono environment the middleware provides: `c.get('session')` is typed.
 *
 * @example
 * ```ts
 * type Data = { username: string; hits: number }
 * const app = new Hono<SessionEnv<Data> & { Bindings: { SESSIONS: KVNamespace } }>()
 * ```
 */
export interface SessionEnv<Data extends SessionData = SessionData> {
  Variables: { session: Session<Data> }
}

/**
 * Session middleware. Handlers get `c.get('session')`; the session is read from the
 * store only if they use it, and written (with its cookie) only if they change it.
 *
 * Throws `SessionError` `INVALID_OPTION` at construction for bad options.
 * After the handler, a store failure becomes `SessionError` `STORE_UNAVAILABLE` (503)
 * and an oversized session `PAYLOAD_TOO_LARGE` (413), both handed to `app.onError`
 * with no session cookie on the response.
 *
 * @example
 * ```ts
 * const app = new Hono<SessionEnv>()
 * app.use(session()) // KV binding SESSIONS, cookie "sessionid", two weeks
 * app.get('/hit', async (c) => {
 *   const s = c.get('session')
 *   const hits = ((await s.get('hits')) as number | undefined ?? 0) + 1
 *   await s.set('hits', hits)
 *   return c.text(`${hits}`)
 * })
 * ```
 */
export function session<Data extends SessionData = SessionData>(options?: SessionOptions): MiddlewareHandler<SessionEnv<Data>> {
  const resolved = resolveOptions(options)
  return async function sessionMiddleware(c, next) {
    const current = new Session<Data>({ options: resolved, context: c, now: resolved.now() })
    c.set('session', current)
    await next()
    try {
      await current[COMMIT]()
    } catch (error) {
      // Drop the handler's response so the error response carries none of its headers
      // (Hono would merge them in, Set-Cookie included).
      c.res = undefined
      throw error
    }
  }
}
