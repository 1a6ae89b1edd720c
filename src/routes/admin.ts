/**
 * @module
 * The demo's admin routes, on the Durable Object store: a user's sessions, ending one
 * or all of them (sockets included), and the user's security trail, authorised by
 * `Authorization: Bearer <ADMIN_TOKEN>`.
 * With `ADMIN_TOKEN` unset, empty, blank or under 32 characters the routes do not exist
 * (404; a weak one is logged as a warning).
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { userSessions } from '../session/durable-object.js'
import { SessionError } from '../session/index.js'
import type { DemoEnv } from './env.js'
import { BAD_EVENTS_QUERY, eventsPage, eventsQuery, logSessionEvent } from './events.js'
import { notifySessions } from './live.js'
import { isUsername } from './session-api.js'
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

/** The shortest `ADMIN_TOKEN` that opens the admin routes: 32 characters, about 190 bits when random. */
export const MIN_ADMIN_TOKEN_LENGTH = 32

/**
 * The admin token, or `null` when the routes stay closed: unset, empty, blank or shorter
 * than {@link MIN_ADMIN_TOKEN_LENGTH} (a weak one is also logged, as a warning line, so an
 * operator who set one learns why the routes answer 404).
 */
function adminToken(c: Context<DemoEnv>): string | null {
  const token = c.env?.ADMIN_TOKEN ?? ''
  if (token === '') return null
  if (token.trim().length < MIN_ADMIN_TOKEN_LENGTH) {
    // The library's log line format (foundation/log.ts); never the token itself.
    console.warn(
      JSON.stringify({
        event: 'demo.admin_token_weak',
        reason: `ADMIN_TOKEN must hold at least ${MIN_ADMIN_TOKEN_LENGTH} characters that are not blank; the admin routes stay closed (404)`,
        length: token.length,
      }),
    )
    return null
  }
  return token
}

/** 404 without a strong `ADMIN_TOKEN`; 401 without the right bearer token. */
function adminOnly(): MiddlewareHandler<DemoEnv> {
  return async function adminGuard(c, next) {
    const expected = adminToken(c)
    if (expected === null) return c.json({ error: 'Not Found' }, 404)
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

const BAD_USER = '"user" must be a user name a login accepts (1 to 150 characters, not all blank).'
const BAD_REVOKE =
  'The body must be JSON {"handle": "…"} (one session) or {"all": true} (every session).'

/** A user id the admin routes accept: exactly what a login accepts ({@link isUsername}). */
function userId(value: unknown): string | null {
  return isUsername(value) ? value : null
}

/** What a revoke asks for: one session, or all of them (only when said), or why not. */
type RevokeAsk = { handle: string } | { all: true } | { error: string }

/** Reads a revoke body: `{"handle"}` or `{"all": true}`; an empty or blank body ends nothing. */
function revokeAsk(body: Record<string, unknown>): RevokeAsk {
  const { handle, all } = body
  if (handle !== undefined && all !== undefined) return { error: BAD_REVOKE }
  if (handle !== undefined)
    return typeof handle === 'string' && handle !== ''
      ? { handle }
      : { error: '"handle" must be a non-empty string.' }
  return all === true ? { all: true } : { error: BAD_REVOKE }
}

/** The request's JSON object body, or `null` when it is not one (empty, blank, not JSON, not an object). */
async function jsonObject(c: Context<DemoEnv>): Promise<Record<string, unknown> | null> {
  const text = await c.req.text()
  if (text.trim() === '') return null
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null
  } catch {
    return null
  }
}

/** Ends what `ask` names of `user`'s sessions; answers `{"revoked": n}`. */
async function revoke(c: Context<DemoEnv>, user: string, ask: RevokeAsk): Promise<Response> {
  if ('error' in ask) return c.json({ error: ask.error }, 400)
  const sessions = admin(c)
  const revoked =
    'handle' in ask
      ? Number(await sessions.revokeSession(user, ask.handle))
      : await sessions.revokeAllSessions(user)
  if (revoked > 0) await notifySessions(c, user)
  return c.json({ revoked })
}

/** Answers the user's sessions. */
async function sessionsOf(c: Context<DemoEnv>, user: string): Promise<Response> {
  const sessions = await admin(c).listSessions(user)
  return c.json({ sessions: sessions.map(sessionView) })
}

/** Answers a page of the user's trail. */
async function eventsOf(c: Context<DemoEnv>, user: string): Promise<Response> {
  const query = eventsQuery(c.req.query('limit'), c.req.query('after'))
  if (query === null) return c.json({ error: BAD_EVENTS_QUERY }, 400)
  const events = await admin(c).securityEvents(user, query)
  return c.json(eventsPage(events, query.limit))
}

/**
 * The admin routes. Each takes the user in the path (`/admin/users/:user/…`, for ordinary
 * ids) or, for any id a login accepts (`.`, `..` and `%2E` included, which URL parsing
 * removes from a path), in the query (`?user=`) or the JSON body (`"user"`).
 */
export const adminRoutes = new Hono<DemoEnv>({ strict: false })

adminRoutes.use('/admin/*', adminOnly())

adminRoutes.get('/admin/users/:user/sessions', (c) => sessionsOf(c, c.req.param('user')))

adminRoutes.get('/admin/sessions', (c) => {
  const user = userId(c.req.query('user'))
  return user === null ? c.json({ error: BAD_USER }, 400) : sessionsOf(c, user)
})

adminRoutes.post('/admin/users/:user/revoke', async (c) => {
  const body = await jsonObject(c)
  return revoke(c, c.req.param('user'), body === null ? { error: BAD_REVOKE } : revokeAsk(body))
})

adminRoutes.post('/admin/revoke', async (c) => {
  const body = await jsonObject(c)
  if (body === null) return c.json({ error: BAD_REVOKE }, 400)
  const user = userId(body['user'])
  return user === null ? c.json({ error: BAD_USER }, 400) : revoke(c, user, revokeAsk(body))
})

adminRoutes.get('/admin/users/:user/events', (c) => eventsOf(c, c.req.param('user')))

adminRoutes.get('/admin/events', (c) => {
  const user = userId(c.req.query('user'))
  return user === null ? c.json({ error: BAD_USER }, 400) : eventsOf(c, user)
})
