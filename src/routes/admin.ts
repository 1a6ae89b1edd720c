/**
 * @module
 * The demo's admin routes, on the Durable Object store: a user's sessions, ending one
 * or all of them (sockets included), and the user's security trail, authorised by
 * `Authorization: Bearer <ADMIN_TOKEN>`.
 * With `ADMIN_TOKEN` unset or empty the routes do not exist (404).
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { userSessions } from '../session/durable-object.js'
import { SessionError } from '../session/index.js'
import type { DemoEnv } from './env.js'
import { BAD_EVENTS_QUERY, eventsPage, eventsQuery, logSessionEvent } from './events.js'
import { notifySessions } from './live.js'
import { sessionView } from './sessions.js'

/** Compares two strings in time that depends on neither: both are hashed, then compared whole. */
async function sameSecret(given: string, expected: string): Promise<boolean> {
  const digest = async (text: string): Promise<Uint8Array> =>
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))
  const [a, b] = await Promise.all([digest(given), digest(expected)])
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

/** 404 without `ADMIN_TOKEN`; 401 without the right bearer token. */
function adminOnly(): MiddlewareHandler<DemoEnv> {
  return async function adminGuard(c, next) {
    const expected = c.env?.ADMIN_TOKEN ?? ''
    if (expected === '') return c.json({ error: 'Not Found' }, 404)
    const header = c.req.header('Authorization') ?? ''
    const given = /^Bearer (.+)$/.exec(header)?.[1] ?? ''
    if (!(await sameSecret(given, expected)))
      return c.json({ error: 'A valid admin token is required.' }, 401, {
        'WWW-Authenticate': 'Bearer',
      })
    return next()
  }
}

/** The user's sessions and sockets, through the namespace alone. */
function admin(c: Context<DemoEnv>): ReturnType<typeof userSessions> {
  if (c.env?.SESSION_STORE !== 'do')
    throw new SessionError(
      'NOT_SUPPORTED',
      'Admin revocation needs the Durable Object store (SESSION_STORE=do).',
    )
  return userSessions({ namespace: c.env.SESSION_OBJECTS, onEvent: logSessionEvent })
}

/** The admin routes. */
export const adminRoutes = new Hono<DemoEnv>({ strict: false })

adminRoutes.use('/admin/*', adminOnly())

adminRoutes.get('/admin/users/:user/sessions', async (c) => {
  const sessions = await admin(c).listSessions(c.req.param('user'))
  return c.json({ sessions: sessions.map(sessionView) })
})

adminRoutes.post('/admin/users/:user/revoke', async (c) => {
  const user = c.req.param('user')
  const text = await c.req.text()
  let handle: unknown
  if (text.trim() !== '') {
    try {
      handle = (JSON.parse(text) as { handle?: unknown } | null)?.handle
    } catch {
      return c.json({ error: 'The body must be empty, or JSON {"handle": "…"}.' }, 400)
    }
    if (typeof handle !== 'string' || handle === '')
      return c.json({ error: '"handle" must be a non-empty string.' }, 400)
  }
  const sessions = admin(c)
  const revoked =
    typeof handle === 'string'
      ? Number(await sessions.revokeSession(user, handle))
      : await sessions.revokeAllSessions(user)
  if (revoked > 0) await notifySessions(c, user)
  return c.json({ revoked })
})

adminRoutes.get('/admin/users/:user/events', async (c) => {
  const query = eventsQuery(c.req.query('limit'), c.req.query('after'))
  if (query === null) return c.json({ error: BAD_EVENTS_QUERY }, 400)
  const events = await admin(c).securityEvents(c.req.param('user'), query)
  return c.json(eventsPage(events, query.limit))
})
