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
import { report } from './report.js'
import type { SessionData } from '../stores/types.js'

/**
 * The Hono environment the middleware provides: `c.get('session')` is typed. `Data` may
 * be an `interface` or a type alias.
 *
 * @example
 * ```ts
 * interface Data { username: string; hits: number }
 * const app = new Hono<SessionEnv<Data> & { Bindings: { SESSIONS: KVNamespace } }>()
 * ```
 */
export interface SessionEnv<Data extends object = SessionData> {
  Variables: { session: Session<Data> }
}

/**
 * What `session<T>()` provides: `T` itself when it is an app's whole environment
 * (`SessionEnv<Data> & { Bindings: … }`), or `SessionEnv<T>` when `T` is only the data.
 */
// biome-ignore lint/suspicious/noExplicitAny: matches a SessionEnv of any data type
export type SessionEnvFor<T extends object> = T extends SessionEnv<any> ? T : SessionEnv<T>

/**
 * The environment the `store` callback's context is typed with: the app's when
 * `session<AppEnv>()` was given it (so `c.env` has the app's bindings), `any` when only
 * the data was given (`c.env` untyped, as before).
 */
// biome-ignore lint/suspicious/noExplicitAny: c.env stays untyped when only the data type is named, as Hono's own Env default
export type StoreEnvFor<T extends object> = T extends SessionEnv<any> ? T : any

/**
 * Session middleware. Handlers get `c.get('session')`; the session is read from the
 * store only if they use it, and written (with its cookie) only if they change it.
 *
 * The one type argument is the app's environment, so that `c.env` in a
 * `store: (c) => …` callback has the app's bindings and a typo fails to compile:
 * `app.use(session<AppEnv>({ store: (c) => kvStore({ namespace: c.env.SESSIONS }) }))`.
 * TypeScript cannot infer it from `app.use()` (Hono infers the middleware's environment
 * from the middleware, not the other way round), so name it. `session<Data>()` with only
 * the data type still works, with `c.env` untyped there.
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
 *
 * // Typed bindings in the store callback: name the app's environment.
 * type AppEnv = SessionEnv<{ hits: number }> & { Bindings: { SESSION_SECRET: string } }
 * const typed = new Hono<AppEnv>()
 * typed.use(session<AppEnv>({ store: (c) => cookieStore({ secret: c.env.SESSION_SECRET }) }))
 * ```
 */
export function session<T extends object = SessionData>(
  options?: SessionOptions<StoreEnvFor<T>>,
): MiddlewareHandler<SessionEnvFor<T>> {
  const resolved = resolveOptions(options)
  const middleware: MiddlewareHandler<SessionEnv> = async function sessionMiddleware(c, next) {
    const state = new SessionState(resolved, c)
    c.set('session', new Session(state))
    // The device binding's registration and refresh routes answer before any handler.
    const own = resolved.deviceBound?.route(state)
    if (own !== undefined) c.res = await own
    else await next()
    if (!state.pending) return
    try {
      const stored = commit(state)
      if (stored !== undefined) await stored
    } catch (error) {
      // Replace the handler's response with a blank one, so the error response carries
      // none of its headers (Hono merges the old response's headers, Set-Cookie
      // included, into the next one) while app.onError can still call c.header().
      c.res = undefined
      c.res = new Response(null, { status: 500 })
      throw error
    } finally {
      // Events the store recorded (a revocation in the handler stays, whatever the commit did).
      if (resolved.onEvent !== null) report(c, resolved.onEvent, state.takeEvents())
    }
  }
  // The handler only ever uses its own variable; the app's environment is the caller's.
  return middleware as unknown as MiddlewareHandler<SessionEnvFor<T>>
}
