/**
 * @module
 * "Your sessions" and "change password" as JSON: list the logged-in user's sessions,
 * revoke one, the others, or all (Durable Object store only: elsewhere 501), and
 * replace the user's verifier, which logs every other session out (every store).
 */
import { Hono, type Context } from 'hono'
import type { SessionInfo } from '../session/index.js'
import { type DemoEnv, SESSION_PAGE } from './env.js'
import { sessionsChanged } from './live.js'
import { changePassword } from './users.js'
import { wholeNumberVar } from './vars.js'

/** `FRESH_AUTH_SECONDS`' default: ten minutes. */
const DEFAULT_FRESH_AUTH_SECONDS = 600

/**
 * Refuses (`REAUTHENTICATION_REQUIRED`, 403) a request whose session last authenticated
 * more than `FRESH_AUTH_SECONDS` ago (default 600; `INVALID_OPTION` for a value that is not
 * a whole number of seconds); `NOT_LOGGED_IN` (401) without a user.
 */
async function requireFresh(c: Context<DemoEnv>): Promise<void> {
  await c.get('session').requireFreshAuth(freshAuthSeconds(c))
}

/** `FRESH_AUTH_SECONDS` (default 600), or `INVALID_OPTION` for a value that is not a whole number of seconds. */
export function freshAuthSeconds(c: Context<DemoEnv>): number {
  return (
    wholeNumberVar('FRESH_AUTH_SECONDS', c.env?.FRESH_AUTH_SECONDS, 0, 999_999_999) ??
    DEFAULT_FRESH_AUTH_SECONDS
  )
}

/**
 * Checks freshness, then runs `action` (a revocation, a password change) and marks the
 * user's list of sessions as changed, for their open sockets. A revocation on a store
 * without a registry is refused first, by the action itself (501), whatever the freshness.
 */
export async function sensitive<T>(
  c: Context<DemoEnv>,
  action: () => Promise<T>,
  { revocation = false } = {},
): Promise<T> {
  if (revocation && c.env?.SESSION_STORE !== 'do') return action()
  await requireFresh(c)
  const result = await action()
  sessionsChanged(c, await c.get('session').getUser())
  return result
}

/** A session as the JSON routes and the page show it (the library's `SessionInfo`), with dates as ISO strings. */
export type SessionView = Omit<SessionInfo, 'createdAt' | 'lastSeenAt' | 'expiresAt'> & {
  createdAt: string
  lastSeenAt: string
  expiresAt: string
}

/** The view of one session. */
export function sessionView(info: SessionInfo): SessionView {
  return {
    ...info,
    createdAt: new Date(info.createdAt).toISOString(),
    lastSeenAt: new Date(info.lastSeenAt).toISOString(),
    expiresAt: new Date(info.expiresAt).toISOString(),
  }
}

/** A page of "your sessions": at most `limit`, of `total`, and where the next page starts (`null`: none). */
export interface SessionsPage {
  sessions: SessionView[]
  total: number
  limit: number
  next: string | null
}

/** `<createdAt>.<handle>`: the cursor `GET /sessions?after=` takes, naming the last session of a page. */
const CURSOR = /^(\d{1,16})\.([A-Za-z0-9_-]{1,64})$/

/**
 * A page of the logged-in user's sessions and how many there are, shared by `GET /sessions`
 * and the page. `limit` and `after` are the query's strings; a malformed one is `null` (400).
 */
export async function sessionsPage(
  c: Context<DemoEnv>,
  limitParam?: string,
  afterParam?: string,
): Promise<SessionsPage | null> {
  const limit = limitParam === undefined ? SESSION_PAGE.default : Number(limitParam)
  if (!/^\d{1,4}$/.test(limitParam ?? '1') || limit < 1 || limit > SESSION_PAGE.max) return null
  const match = afterParam === undefined ? undefined : CURSOR.exec(afterParam)
  if (match === null) return null
  const after =
    match === undefined ? null : { createdAt: Number(match[1]), handle: match[2] as string }
  const session = c.get('session')
  const infos = await session.listSessions({ limit, after })
  // A first page that is not full holds them all: no second call to count them.
  const total =
    after === null && infos.length < limit ? infos.length : await session.countSessions()
  const last = infos.at(-1)
  const next =
    infos.length === limit && last !== undefined ? `${last.createdAt}.${last.handle}` : null
  return { sessions: infos.map(sessionView), total, limit, next }
}

/**
 * Changes the logged-in user's "password" and keeps this session (Django's
 * `update_session_auth_hash()`); shared by `POST /password` and the page's form.
 * `NOT_LOGGED_IN` when nobody is.
 */
export async function changeOwnPassword(c: Context<DemoEnv>): Promise<void> {
  const session = c.get('session')
  const user = await session.getUser()
  sessionsChanged(c, user)
  if (user === null) {
    await session.updateAuthHash() // throws NOT_LOGGED_IN, the same error as everywhere else
    return
  }
  await changePassword(c, user)
  await session.updateAuthHash()
}

/** The JSON routes. Mounted by the demo app after the session middleware. */
export const sessions = new Hono<DemoEnv>({ strict: false })

sessions.get('/sessions', async (c) => {
  const page = await sessionsPage(c, c.req.query('limit'), c.req.query('after'))
  if (page === null)
    return c.json(
      {
        error: `"limit" must be 1 to ${SESSION_PAGE.max}, and "after" the "next" of the previous page.`,
      },
      400,
    )
  return c.json(page)
})

sessions.delete('/sessions/:handle', async (c) =>
  c.json({
    revoked: await sensitive(c, () => c.get('session').revokeSession(c.req.param('handle')), {
      revocation: true,
    }),
  }),
)

sessions.post('/sessions/revoke-others', async (c) =>
  c.json({
    revoked: await sensitive(c, () => c.get('session').revokeOtherSessions(), { revocation: true }),
  }),
)

sessions.post('/sessions/revoke-all', async (c) => {
  const user = await c.get('session').getUser()
  const revoked = await sensitive(c, () => c.get('session').revokeAllSessions(), {
    revocation: true,
  })
  sessionsChanged(c, user)
  return c.json({ revoked })
})

sessions.post('/password', async (c) => {
  await sensitive(c, () => changeOwnPassword(c))
  return c.json({ changed: true, user: await c.get('session').getUser() })
})
