/**
 * @module
 * "Your sessions" and "change password" as JSON: list the logged-in user's sessions,
 * revoke one, the others, or all (Durable Object store only: elsewhere 501), and
 * replace the user's verifier, which logs every other session out (every store).
 */
import { Hono, type Context } from 'hono'
import type { SessionInfo } from '../session/index.js'
import type { DemoEnv } from './env.js'
import { changePassword } from './users.js'

/** A session as the JSON routes and the page show it: dates as ISO strings. */
export interface SessionView {
  handle: string
  current: boolean
  createdAt: string
  lastSeenAt: string
  expiresAt: string
  userAgent: string | null
  country: string | null
  colo: string | null
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

/**
 * Changes the logged-in user's "password" and keeps this session (Django's
 * `update_session_auth_hash()`); shared by `POST /password` and the page's form.
 * `NOT_LOGGED_IN` when nobody is.
 */
export async function changeOwnPassword(c: Context<DemoEnv>): Promise<void> {
  const session = c.get('session')
  const user = await session.getUser()
  if (user === null) {
    await session.updateAuthHash() // throws NOT_LOGGED_IN, the same error as everywhere else
    return
  }
  await changePassword(c, user)
  await session.updateAuthHash()
}

/** The JSON routes. Mounted by the demo app after the session middleware. */
export const sessions = new Hono<DemoEnv>({ strict: false })

sessions.get('/sessions', async (c) => c.json({ sessions: (await c.get('session').listSessions()).map(sessionView) }))

sessions.delete('/sessions/:handle', async (c) => c.json({ revoked: await c.get('session').revokeSession(c.req.param('handle')) }))

sessions.post('/sessions/revoke-others', async (c) => c.json({ revoked: await c.get('session').revokeOtherSessions() }))

sessions.post('/sessions/revoke-all', async (c) => c.json({ revoked: await c.get('session').revokeAllSessions() }))

sessions.post('/password', async (c) => {
  await changeOwnPassword(c)
  return c.json({ changed: true, user: await c.get('session').getUser() })
})
