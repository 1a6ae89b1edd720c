/**
 * @module
 * The demo worker's app: the tutorial's routes and the JSON playground, wired to the
 * library exactly as a user's own app would import it.
 */
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { SessionError, type SessionOptions } from './session/index.js'
import { demoSession } from './routes/device-bound.js'
import type { DemoEnv } from './routes/env.js'
import { sameOriginOnly } from './routes/guard.js'
import { adminRoutes } from './routes/admin.js'
import { live, notifyChangedSessions } from './routes/live.js'
import { impersonation } from './routes/impersonation.js'
import { errorPage, page } from './routes/page/index.js'
import { logSessionEvent, securityEvents } from './routes/events.js'
import { djangoSecurityHeaders } from './routes/security-headers.js'
import { sessionApi } from './routes/session-api.js'
import { sessions } from './routes/sessions.js'
import { signed } from './routes/signed.js'
import { checkSecretsAtStart, selectStore } from './routes/store.js'
import { tutorial } from './routes/tutorial.js'
import { demoAuthHash } from './routes/users.js'

/** Paths that answer JSON, errors included. */
const JSON_ROUTES =
  /^\/(session|sessions|login|logout|whoami|password|confirm|live|admin|security-events|impersonate)(\/|$)/

/**
 * Builds the demo app. Options go to the session middleware (tests inject a clock or a
 * counting store here); the deployed worker uses the defaults.
 */
export function createApp(options: SessionOptions = {}): Hono<DemoEnv> {
  const app = new Hono<DemoEnv>({ strict: false })
  // First, so that every response carries them: refusals, error pages and 404s too.
  app.use(djangoSecurityHeaders())
  app.use(checkSecretsAtStart())
  app.use(sameOriginOnly())
  // Without a store given, SESSION_STORE picks one: KV (default), the cookie store or
  // Durable Objects. Logins are bound to the user's verifier in USERS ("change password").
  // Before the session: it tells a user's open sockets once their sessions are committed.
  app.use(notifyChangedSessions())
  // DEVICE_BOUND=1 adds device binding (DBSC): src/routes/device-bound.ts.
  const withStore =
    options.store === undefined ? { ...options, store: selectStore(options) } : options
  // Every security event is also one JSON line in the worker's log (routes/events.ts).
  app.use(demoSession({ authHash: demoAuthHash, onEvent: logSessionEvent, ...withStore }))
  app.route('/', tutorial)
  app.route('/', page)
  app.route('/', sessionApi)
  app.route('/', sessions)
  app.route('/', securityEvents)
  app.route('/', signed)
  app.route('/', live)
  app.route('/', adminRoutes)
  app.route('/', impersonation)

  app.onError((err, c) => {
    const json = JSON_ROUTES.test(c.req.path)
    // Client-side session errors (4xx), a store outage (503) and a store that cannot do
    // what was asked (501) are told to the client; other 5xx SessionErrors are not.
    if (
      err instanceof SessionError &&
      (err.status < 500 || err.code === 'STORE_UNAVAILABLE' || err.code === 'NOT_SUPPORTED')
    ) {
      // A store outage (1 s) and a throttled login (the lock's time left) say when to retry.
      const headers: Record<string, string> =
        err.retryAfter === null ? {} : { 'Retry-After': String(err.retryAfter) }
      return json
        ? c.json({ error: err.message, code: err.code }, err.status, headers)
        : errorPage(c, err.status, err.message, err.retryAfter)
    }
    // A SessionError of 500 is a server fault (no binding, a bad cookie write): its text
    // names internals, so it is logged, never sent.
    if (err instanceof HTTPException && !(err instanceof SessionError)) return err.getResponse()
    console.error(err)
    return json
      ? c.json({ error: 'Internal Server Error' }, 500)
      : errorPage(c, 500, 'The server failed to answer this request.')
  })
  app.notFound((c) =>
    JSON_ROUTES.test(c.req.path)
      ? c.json({ error: 'Not Found' }, 404)
      : errorPage(c, 404, 'There is no page here.'),
  )
  return app
}
