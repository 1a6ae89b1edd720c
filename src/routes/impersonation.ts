/**
 * @module
 * Impersonation in the demo (`SESSION_STORE=do`): a user named in `ADMIN_USERS` acts as
 * another user (`POST /impersonate` `{ "username", "reason" }`) for `IMPERSONATION_SECONDS`
 * at most, and goes back to their own session (`POST /impersonate/stop`). The library
 * refuses what must stay the user's own (`IMPERSONATING`, 403); the page shows a banner.
 */
import { type Context, Hono } from 'hono'
import { DEFAULT_IMPERSONATION_MAX_AGE } from '../session/durable-object.js'
import { SessionError } from '../session/index.js'
import { bodyLimit } from './body-limit.js'
import type { DemoEnv } from './env.js'
import { sessionsChanged } from './live.js'
import { isUsername, MAX_BODY_BYTES } from './session-api.js'
import { freshAuthSeconds } from './sessions.js'
import { userExists } from './users.js'
import { wholeNumberVar } from './vars.js'

/** The longest reason the demo accepts (the library's own limit). */
const MAX_REASON = 500

/** The user names in `ADMIN_USERS` (comma-separated, spaces around each trimmed). */
export function adminUsers(c: Context<DemoEnv>): ReadonlySet<string> {
  const names = (c.env?.ADMIN_USERS ?? '').split(',').map((name) => name.trim())
  return new Set(names.filter((name) => name !== ''))
}

/** `IMPERSONATION_SECONDS` (default 1800, the library's), or `INVALID_OPTION` for a value that is not 1 to 86400. */
function impersonationSeconds(c: Context<DemoEnv>): number {
  return (
    wholeNumberVar('IMPERSONATION_SECONDS', c.env?.IMPERSONATION_SECONDS, 1, 86_400) ??
    DEFAULT_IMPERSONATION_MAX_AGE
  )
}

/** What a start answered: who acts as whom, or the refusal to send. */
export type Started =
  | { readonly ok: true; readonly username: string; readonly impersonator: string }
  | {
      readonly ok: false
      readonly status: 400 | 403 | 404
      readonly error: string
      readonly code: string
    }

/**
 * Starts acting as `username` for the logged-in admin, with `reason`; shared by
 * `POST /impersonate` and the page's form. `NOT_LOGGED_IN` (401), `IMPERSONATING` (403)
 * and `REAUTHENTICATION_REQUIRED` (403) are the library's errors, thrown.
 */
export async function startImpersonating(
  c: Context<DemoEnv>,
  username: unknown,
  reason: unknown,
): Promise<Started> {
  const session = c.get('session')
  const admin = await session.getUser()
  if (admin === null)
    throw new SessionError('NOT_LOGGED_IN', 'Nobody is logged in: log in as an admin first.')
  const by = await session.impersonator()
  if (by !== null)
    throw new SessionError('IMPERSONATING', `${by} is already acting as ${admin}: stop first.`)
  if (!adminUsers(c).has(admin))
    return refused(403, 'NOT_ADMIN', `${admin} is not in ADMIN_USERS: only admins may impersonate.`)
  if (!isUsername(username)) return refused(400, 'INVALID_VALUE', 'Name the user to act as.')
  if (typeof reason !== 'string' || reason.trim() === '' || reason.length > MAX_REASON)
    return refused(400, 'INVALID_VALUE', `Give a reason of 1 to ${MAX_REASON} characters.`)
  if (username === admin) return refused(400, 'INVALID_VALUE', 'An admin cannot act as themselves.')
  if (!(await userExists(c, username)))
    return refused(404, 'NOT_FOUND', `There is no user ${username}.`)
  await session.impersonate(username, {
    reason,
    maxAge: impersonationSeconds(c),
    freshness: freshAuthSeconds(c),
  })
  sessionsChanged(c, username)
  return { ok: true, username, impersonator: admin }
}

/** A refusal of {@link startImpersonating}, for the route to answer. */
const refused = (
  status: 400 | 403 | 404,
  code: string,
  error: string,
): Extract<Started, { ok: false }> => ({ ok: false, status, code, error })

/** Ends the impersonation, if the session is one; shared by `POST /impersonate/stop` and the page. */
export async function stopImpersonating(c: Context<DemoEnv>): Promise<boolean> {
  const session = c.get('session')
  const target = await session.getUser()
  const stopped = await session.stopImpersonating()
  if (stopped) sessionsChanged(c, target)
  return stopped
}

/** The JSON routes. Mounted by the demo app after the session middleware. */
export const impersonation = new Hono<DemoEnv>({ strict: false })

impersonation.use(
  '/impersonate',
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => c.json({ error: `The body is over ${MAX_BODY_BYTES} bytes.` }, 413),
  }),
)

impersonation.post('/impersonate', async (c) => {
  let body: unknown
  try {
    body = JSON.parse(await c.req.text())
  } catch {
    return c.json({ error: 'The body must be JSON: {"username": "…", "reason": "…"}.' }, 400)
  }
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {}
  const started = await startImpersonating(c, fields['username'], fields['reason'])
  if (!started.ok) return c.json({ error: started.error, code: started.code }, started.status)
  return c.json({ username: started.username, impersonator: started.impersonator })
})

impersonation.post('/impersonate/stop', async (c) => {
  const stopped = await stopImpersonating(c)
  return c.json({ stopped, username: await c.get('session').getUser() })
})
