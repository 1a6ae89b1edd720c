/**
 * @module
 * The demo's live sessions (Durable Object store): `GET /live` upgrades to a socket bound
 * to the session, and every open socket of a user hears `{"type":"sessions"}` when the
 * user's list of sessions changes (a login, a logout, a revocation), the changing device's
 * own included. On the other stores `/live` is a 501.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { userSessions } from '../session/durable-object.js'
import type { DemoEnv } from './env.js'

/** The frame every socket of a user receives when the user's sessions change. */
const SESSIONS_CHANGED = JSON.stringify({ type: 'sessions' })

/** The users whose list of sessions this request changes, told once the session is committed. */
const changed = new WeakMap<Context, Set<string>>()

/**
 * Marks that this request changes `user`'s list of sessions: once the response is ready
 * (the session saved or destroyed), the user's open sockets are told.
 */
export function sessionsChanged(c: Context<DemoEnv>, user: string | null): void {
  if (user === null) return
  const users = changed.get(c) ?? new Set<string>()
  users.add(user)
  changed.set(c, users)
}

/** Tells `user`'s open sockets that their sessions changed (Durable Object store only). */
export async function notifySessions(c: Context<DemoEnv>, user: string): Promise<void> {
  if (c.env?.SESSION_STORE !== 'do') return
  await userSessions({ namespace: c.env.SESSION_OBJECTS }).send(user, SESSIONS_CHANGED)
}

/**
 * Mounted before `session()`: after the session middleware has committed (a login's new
 * session is saved only then), tells the users {@link sessionsChanged} named.
 */
export function notifyChangedSessions(): MiddlewareHandler<DemoEnv> {
  return async function notifyAfterCommit(c, next) {
    await next()
    const users = changed.get(c)
    if (users === undefined || c.res.status >= 400) return
    await Promise.all([...users].map((user) => notifySessions(c, user)))
  }
}

/** `GET /live`: the session's socket (501 without sockets, 403 from another origin, 401 logged out). */
export const live = new Hono<DemoEnv>({ strict: false })

live.get('/live', (c) => c.get('session').acceptWebSocket())
