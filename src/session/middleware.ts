/**
 * @module
 * The `session()` middleware: a lazily loaded session per request, persisted after
 * the handler as Django's `SessionMiddleware` does.
 */
import type { MiddlewareHandler } from 'hono'
import { commit } from './commit.js'
import { resolveOptions, type SessionOptions } from './options.js'
import { Session } from './session.js'
import { SessionState } from './state.js'
import type { SessionData } from './stores/types.js'

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
    const state = new SessionState(resolved, c)
    c.set('session', new Session<Data>(state))
    await next()
    if (!state.pending) return
    try {
      await commit(state)
    } catch (error) {
      // Replace the handler's response with a blank one, so the error response carries
      // none of its headers (Hono merges the old response's headers, Set-Cookie
      // included, into the next one) while app.onError can still call c.header().
      c.res = undefined
      c.res = new Response(null, { status: 500 })
      throw error
    }
  }
}
