/**
 * @module
 * Rendering the demo page for a request: what the server received, the session's state,
 * and the error pages, as complete HTML documents.
 */
import type { Context } from 'hono'
import { html } from 'hono/html'
import type { Child } from 'hono/jsx'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { messages, SessionError } from '../../session/index.js'
import type { DemoEnv } from '../env.js'
import { adminUsers } from '../impersonation.js'
import { sessionState } from '../session-api.js'
import { type EventsPage, securityPage } from '../events.js'
import { sessionsPage, type SessionsPage } from '../sessions.js'
import { Account } from './account.js'
import { ACTIVITY_LIMIT } from './activity.js'
import { ErrorPage, type Notices, Page, type ReceivedCookie } from './components.js'
import { rotationSetting } from '../rotation.js'

/** Trims the spaces and tabs around a cookie pair (RFC 6265 OWS), as browsers send them. */
const trimOws = (text: string): string => text.replace(/^[ \t]+|[ \t]+$/g, '')

/**
 * Every pair of a `Cookie` header, in order, without decoding or dropping anything
 * (duplicates and malformed pairs included): the page shows what arrived, not what a
 * parser kept. A pair without `=` is a nameless cookie, as browsers send it. Only SP
 * and HTAB are trimmed (RFC 6265 §5.2).
 *
 * @example
 * ```ts
 * receivedCookies('a=1; sessionid=abc') // [{ name: 'a', value: '1' }, { name: 'sessionid', value: 'abc' }]
 * ```
 */
export function receivedCookies(header: string | null | undefined): ReceivedCookie[] {
  if (!header) return []
  const cookies: ReceivedCookie[] = []
  for (const pair of header.split(';')) {
    // Trimmed as cookies are read (SP and HTAB only), so a name with U+2000 around it
    // shows as the other cookie it is.
    if (trimOws(pair) === '') continue
    const eq = pair.indexOf('=')
    cookies.push(
      eq === -1
        ? { name: '', value: trimOws(pair) }
        : {
            name: trimOws(pair.slice(0, eq)),
            value: trimOws(pair.slice(eq + 1)),
          },
    )
  }
  return cookies
}

// ----- rendering -----------------------------------------------------------------

const htmlDocument = (node: Child): ReturnType<typeof html> => html`<!DOCTYPE html>${node}`

/** Heading of an error page for a status. */
function titleFor(status: number): string {
  if (status === 503) return 'Please try again in a moment'
  if (status === 404) return 'Not found'
  if (status === 413) return 'Too large'
  if (status === 409) return 'Your session ended meanwhile'
  if (status === 401) return 'Not logged in'
  if (status === 429) return 'Too many failed logins'
  if (status >= 500) return 'Something went wrong'
  return 'Request refused'
}

/**
 * A complete HTML error page: a heading for the status, the message (escaped), and a
 * link back to `/`. A 503 carries `Retry-After: 1`, a refusal that says when to retry
 * (`retryAfter`, seconds: a throttled login) that.
 *
 * @example
 * ```ts
 * app.notFound((c) => errorPage(c, 404, 'There is no page here.'))
 * ```
 */
export function errorPage(
  c: Context,
  status: ContentfulStatusCode,
  message: string,
  retryAfter: number | null = null,
): Response | Promise<Response> {
  // Headers go with the response, not through c.header(): when the session failed to
  // commit, the middleware has dropped c.res and c.header() would have nothing to set.
  const headers: Record<string, string> = { 'Cache-Control': 'no-store' }
  if (status === 503 || retryAfter !== null) headers['Retry-After'] = String(retryAfter ?? 1)
  return c.html(
    htmlDocument(<ErrorPage status={status} title={titleFor(status)} message={message} />),
    status,
    headers,
  )
}

/**
 * The page with the session's current state and the flash messages waiting for it (read
 * first, so they show once and are not listed as session data); a 503 page if the store
 * could not be read. A page re-rendered with an error leaves the messages for the next
 * page, so a refused form writes nothing.
 */
export async function renderPage(
  c: Context<DemoEnv>,
  status: ContentfulStatusCode = 200,
  error?: string,
  confirm = false,
): Promise<Response> {
  const session = c.get('session')
  const flashes = error === undefined ? await messages.get(c) : []
  const state = await sessionState(session).catch((err: unknown) => {
    if (err instanceof SessionError && err.code === 'STORE_UNAVAILABLE') return null
    throw err
  })
  if (state === null) {
    return errorPage(
      c,
      503,
      'The session store could not be read just now. Nothing was lost: your cookie is unchanged. Reload in a moment.',
    )
  }
  const username = await session.getUser()
  const notices: Notices = {
    reused: (await session.endedBy()) === 'reused',
    rotation: rotationSetting(c.env).kind,
  }
  const account =
    username === null
      ? null
      : {
          user: username,
          sessions: await listed(c),
          events: await activity(c),
          now: Date.now(),
          confirm,
          deviceBound: await session.isDeviceBound(),
        }
  const impersonator = username === null ? null : await session.impersonator()
  const admin = username !== null && c.env?.SESSION_STORE === 'do' && adminUsers(c).has(username)
  const cookies = receivedCookies(c.req.header('Cookie'))
  // The page shows this browser's cookies and session: never let a cache keep it.
  return c.html(
    htmlDocument(
      <Page
        cookies={cookies}
        state={state}
        username={username}
        account={account}
        messages={flashes}
        notices={notices}
        error={error}
        impersonator={impersonator}
        admin={admin}
      />,
    ),
    status,
    { 'Cache-Control': 'no-store' },
  )
}

/** `GET /account`: the account section alone, for the page's socket to refresh it in place; 401 when logged out. */
export async function renderAccount(c: Context<DemoEnv>): Promise<Response> {
  const user = await c.get('session').getUser()
  if (user === null) return c.text('Not logged in', 401, { 'Cache-Control': 'no-store' })
  const account = {
    user,
    sessions: await listed(c),
    events: await activity(c),
    now: Date.now(),
    confirm: false,
    deviceBound: await c.get('session').isDeviceBound(),
  }
  return c.html(<Account account={account} />, 200, { 'Cache-Control': 'no-store' })
}

/** The first page of the logged-in user's sessions, or `null` on a store without a registry. */
async function listed(c: Context<DemoEnv>): Promise<SessionsPage | null> {
  try {
    return await sessionsPage(c)
  } catch (error) {
    if (error instanceof SessionError && error.code === 'NOT_SUPPORTED') return null
    throw error
  }
}

/** The newest events of the logged-in user's trail, or `null` on a store that keeps none. */
async function activity(c: Context<DemoEnv>): Promise<EventsPage | null> {
  try {
    return await securityPage(c, String(ACTIVITY_LIMIT))
  } catch (error) {
    if (error instanceof SessionError && error.code === 'NOT_SUPPORTED') return null
    throw error
  }
}
