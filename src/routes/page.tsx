/**
 * @module
 * The demo's page: `GET /` explains the tutorial, links to each step and shows what the
 * server sees (the cookies it received, the session's data and expiry); plain HTML forms
 * drive the session API with POST + 303 redirect, so it all works without JavaScript.
 */
import { Hono, type Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { html } from 'hono/html'
import type { Child, FC } from 'hono/jsx'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { MAX_COOKIE_AGE, SessionError } from '../session/index.js'
import type { DemoEnv } from './env.js'
import { isUsername, logIn, MAX_BODY_BYTES, MAX_USERNAME, sessionState, type SessionState } from './session-api.js'

/** Longest key the "set a key" form accepts. */
export const MAX_KEY_LENGTH = 128

/** Where each form posts; every one answers `303 See Other` to `/` when it succeeds. */
export const FORM_ROUTES = {
  set: '/form/set',
  delete: '/form/delete',
  expiry: '/form/expiry',
  cycle: '/form/cycle',
  flush: '/form/flush',
  login: '/form/login',
  logout: '/form/logout',
} as const

/** A form field the page cannot use; answered 400 with the page and the message. */
class BadInput extends Error {}

// ----- what the server sees -----------------------------------------------------

/** One `name=value` pair of a `Cookie` header, exactly as sent. */
export interface ReceivedCookie {
  name: string
  value: string
}

/**
 * Every pair of a `Cookie` header, in order, without decoding or dropping anything
 * (duplicates and malformed pairs included): the page shows what arrived, not what a
 * parser kept. A pair without `=` is a nameless cookie, as browsers send it.
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
    if (pair.trim() === '') continue
    const eq = pair.indexOf('=')
    cookies.push(eq === -1 ? { name: '', value: pair.trim() } : { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim() })
  }
  return cookies
}

/** "1209600 s (14 days)", "90 s (1 min 30 s)". */
function duration(seconds: number): string {
  if (seconds <= 0) return `${seconds} s (expired)`
  const units: [number, string][] = [
    [86400, 'days'],
    [3600, 'h'],
    [60, 'min'],
    [1, 's'],
  ]
  const parts: string[] = []
  let rest = seconds
  for (const [size, name] of units) {
    const n = Math.floor(rest / size)
    if (n > 0) parts.push(`${n} ${n === 1 && name === 'days' ? 'day' : name}`)
    rest -= n * size
  }
  return `${seconds} s (${parts.slice(0, 2).join(' ')})`
}

// ----- components ---------------------------------------------------------------

const STYLE = `
body{font:16px/1.5 system-ui,sans-serif;max-width:56rem;margin:0 auto;padding:1rem 1.25rem 3rem;color:#1d232a;background:#fff}
h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.2rem;margin:2rem 0 .5rem;border-bottom:1px solid #d6dbe0;padding-bottom:.25rem}
code,td.v{font-family:ui-monospace,monospace;font-size:.9em;word-break:break-all}
table{border-collapse:collapse;width:100%;margin:.25rem 0}th,td{text-align:left;padding:.3rem .5rem;border:1px solid #d6dbe0;vertical-align:top}
th{background:#f3f5f7;font-weight:600}th:first-child,td:first-child{width:14rem}
.empty{color:#5b6670;font-style:italic}
.alert{border:2px solid #b3261e;background:#fdecea;padding:.6rem .9rem;border-radius:4px}
.alert strong{color:#b3261e}
form{margin:.4rem 0;padding:.6rem .8rem;border:1px solid #d6dbe0;border-radius:4px;background:#fafbfc}
form.inline{display:inline-block;margin-right:.5rem}
label{margin-right:.75rem}input{font:inherit;padding:.15rem .35rem}button{font:inherit;padding:.15rem .7rem;cursor:pointer}
ol>li{margin-bottom:.6rem}small{color:#5b6670}
`

const Layout: FC<{ title: string; children?: Child }> = ({ title, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{title}</title>
      <style>{STYLE}</style>
    </head>
    <body>{children}</body>
  </html>
)

const CookieTable: FC<{ cookies: ReceivedCookie[] }> = ({ cookies }) =>
  cookies.length === 0 ? (
    <p class="empty" id="no-cookies">
      The browser sent no cookies.
    </p>
  ) : (
    <table id="cookies">
      <thead>
        <tr>
          <th>Name</th>
          <th>Value</th>
        </tr>
      </thead>
      <tbody>
        {cookies.map((cookie) => (
          <tr>
            <td>
              <code>{cookie.name}</code>
            </td>
            <td class="v">{cookie.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )

const SessionTable: FC<{ state: SessionState }> = ({ state }) => {
  const entries = Object.entries(state.data)
  return (
    <>
      {entries.length === 0 ? (
        <p class="empty" id="session-empty">
          The session is empty: nothing is stored, and no session cookie is needed.
        </p>
      ) : (
        <table id="session-data">
          <thead>
            <tr>
              <th>Key</th>
              <th>Value (JSON)</th>
            </tr>
          </thead>
          <tbody>
            {entries.map(([key, value]) => (
              <tr>
                <td>
                  <code>{key}</code>
                </td>
                <td class="v">{JSON.stringify(value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <table id="session-expiry">
        <tbody>
          <tr>
            <th>Expiry age</th>
            <td id="expiry-age">{duration(state.expiryAge)}</td>
          </tr>
          <tr>
            <th>Expiry date</th>
            <td id="expiry-date">{state.expiryDate}</td>
          </tr>
          <tr>
            <th>Ends when the browser closes</th>
            <td id="browser-close">{state.expireAtBrowserClose ? 'yes (the cookie has no Max-Age)' : 'no'}</td>
          </tr>
        </tbody>
      </table>
      {entries.length === 0 ? <small>The expiry shown is what a session saved now would get.</small> : null}
    </>
  )
}

const Tutorial: FC = () => (
  <ol>
    <li>
      <strong>Does the browser keep cookies?</strong> <a href="/test/">/test/</a> sets a test cookie (
      <code>testcookie=worked</code>); then <a href="/check/">/check/</a> reads it back and deletes it, or says
      "Please enable cookies and try again." when it did not come back. It costs no storage: the test cookie is not
      session data.
    </li>
    <li>
      <strong>Set, get, delete a cookie.</strong> <a href="/set-cook/">/set-cook/</a> sets <code>user=Raju</code>,{' '}
      <a href="/get-cook/">/get-cook/</a> reads it, <a href="/del-cook/">/del-cook/</a> deletes it (an empty value
      with <code>Max-Age=0</code>).
    </li>
    <li>
      <strong>Count visits.</strong> <a href="/hit/">/hit/</a> counts in a temporary cookie (no <code>Max-Age</code>
      : gone when the browser closes); <a href="/hit/persistent/">/hit/persistent/</a> in a persistent one (
      <code>Max-Age=120</code>: two minutes, browser restarts or not); <a href="/session-hit/">/session-hit/</a> in
      the session, kept in Workers KV, while the cookie holds only the session's id.
    </li>
    <li>
      <strong>Use the session.</strong> The forms below change the session and come back here; the same operations
      exist as JSON routes (<code>GET /session</code>, <code>POST /session</code>, <code>POST /login</code>, ...).
    </li>
  </ol>
)

const Forms: FC = () => (
  <>
    <form method="post" action={FORM_ROUTES.set} id="form-set">
      <label>
        Key <input name="key" required maxlength={MAX_KEY_LENGTH} />
      </label>
      <label>
        Value <input name="value" />
      </label>
      <button type="submit">Set key</button> <small>stored as a string</small>
    </form>
    <form method="post" action={FORM_ROUTES.delete} id="form-delete">
      <label>
        Key <input name="key" required maxlength={MAX_KEY_LENGTH} />
      </label>
      <button type="submit">Delete key</button>
    </form>
    <form method="post" action={FORM_ROUTES.expiry} id="form-expiry">
      <label>
        Expire after <input name="seconds" type="number" min="0" max={MAX_COOKIE_AGE} step="1" placeholder="seconds" />{' '}
        seconds of inactivity
      </label>
      <button type="submit">Set expiry</button> <small>0 = when the browser closes; empty = the default</small>
    </form>
    <form method="post" action={FORM_ROUTES.expiry} class="inline" id="form-expiry-default">
      <input type="hidden" name="seconds" value="" />
      <button type="submit">Default expiry</button>
    </form>
    <form method="post" action={FORM_ROUTES.cycle} class="inline" id="form-cycle">
      <button type="submit">Cycle the key</button>
    </form>
    <form method="post" action={FORM_ROUTES.flush} class="inline" id="form-flush">
      <button type="submit">Flush</button>
    </form>
    <form method="post" action={FORM_ROUTES.login} id="form-login">
      <label>
        Name <input name="username" required maxlength={MAX_USERNAME} />
      </label>
      <button type="submit">Log in</button> <small>cycles the key first, against session fixation</small>
    </form>
    <form method="post" action={FORM_ROUTES.logout} class="inline" id="form-logout">
      <button type="submit">Log out</button> <small>flushes the session</small>
    </form>
  </>
)

const Page: FC<{ cookies: ReceivedCookie[]; state: SessionState; username: string | null; error?: string }> = ({ cookies, state, username, error }) => (
  <Layout title="edge-session demo">
    <h1>edge-session demo</h1>
    <p>
      Django's cookie and session tutorial on Cloudflare Workers: every link below is a step of it, and this page
      shows what the server sees on each request. {username === null ? 'Nobody is logged in.' : <>Logged in as <strong id="whoami">{username}</strong>.</>}
    </p>
    {error === undefined ? null : (
      <p class="alert" role="alert" id="error">
        <strong>That did not work:</strong> {error}
      </p>
    )}
    <h2>What the server received</h2>
    <p>
      <small>
        The <code>Cookie</code> header carries only names and values, <code>HttpOnly</code> cookies included;
        attributes such as <code>Max-Age</code> stay in the browser. A real app would never echo its session id into
        a page: it is shown here to see it change.
      </small>
    </p>
    <CookieTable cookies={cookies} />
    <h2>The session</h2>
    <SessionTable state={state} />
    <h2>The tutorial, step by step</h2>
    <Tutorial />
    <h2>Change the session</h2>
    <Forms />
  </Layout>
)

const ErrorPage: FC<{ status: number; title: string; message: string }> = ({ status, title, message }) => (
  <Layout title={`${status} ${title}`}>
    <h1>{title}</h1>
    <p class="alert" role="alert" id="error">
      {message}
    </p>
    <p>
      <a href="/">Back to the demo page</a>
    </p>
  </Layout>
)

// ----- rendering -----------------------------------------------------------------

const htmlDocument = (node: Child): ReturnType<typeof html> => html`<!DOCTYPE html>${node}`

/** Heading of an error page for a status. */
function titleFor(status: number): string {
  if (status === 503) return 'Please try again in a moment'
  if (status === 404) return 'Not found'
  if (status === 413) return 'Too large'
  if (status >= 500) return 'Something went wrong'
  return 'Request refused'
}

/**
 * A complete HTML error page: a heading for the status, the message (escaped), and a
 * link back to `/`. A 503 carries `Retry-After: 1`.
 *
 * @example
 * ```ts
 * app.notFound((c) => errorPage(c, 404, 'There is no page here.'))
 * ```
 */
export function errorPage(c: Context, status: ContentfulStatusCode, message: string): Response | Promise<Response> {
  // Headers go with the response, not through c.header(): when the session failed to
  // commit, the middleware has dropped c.res and c.header() would have nothing to set.
  const headers: Record<string, string> = { 'Cache-Control': 'no-store' }
  if (status === 503) headers['Retry-After'] = '1'
  return c.html(htmlDocument(<ErrorPage status={status} title={titleFor(status)} message={message} />), status, headers)
}

/** The page with the session's current state; a 503 page if the store could not be read. */
async function renderPage(c: Context<DemoEnv>, status: ContentfulStatusCode = 200, error?: string): Promise<Response> {
  const session = c.get('session')
  const state = await sessionState(session).catch((err: unknown) => {
    if (err instanceof SessionError && err.code === 'STORE_UNAVAILABLE') return null
    throw err
  })
  if (state === null) {
    return errorPage(c, 503, 'The session store could not be read just now. Nothing was lost: your cookie is unchanged. Reload in a moment.')
  }
  const username = typeof state.data.username === 'string' ? state.data.username : null
  const cookies = receivedCookies(c.req.header('Cookie'))
  // The page shows this browser's cookies and session: never let a cache keep it.
  return c.html(htmlDocument(<Page cookies={cookies} state={state} username={username} error={error} />), status, { 'Cache-Control': 'no-store' })
}

/** The text fields of a submitted form (urlencoded or multipart); files are left out. */
async function formFields(c: Context): Promise<Record<string, string>> {
  const fields: Record<string, string> = Object.create(null) as Record<string, string>
  for (const [name, value] of Object.entries(await c.req.parseBody())) {
    if (typeof value === 'string') fields[name] = value
  }
  return fields
}

/** A `303 See Other` back to the page: the browser follows it with a GET (RFC 9110 §15.4.4). */
const backToPage = (c: Context): Response => c.redirect('/', 303)

// ----- routes --------------------------------------------------------------------

/**
 * The page (`GET /`) and its form routes (`POST /form/*`). Mounted by the demo app after
 * the session middleware; bad form input answers 400 with the page and the message.
 *
 * @example
 * ```ts
 * app.use(session())
 * app.route('/', page)
 * ```
 */
export const page = new Hono<DemoEnv>({ strict: false })

page.onError((err, c) => {
  if (err instanceof BadInput) return renderPage(c, 400, err.message)
  // Too large for the session: the set was refused before anything changed.
  if (err instanceof SessionError && err.code === 'PAYLOAD_TOO_LARGE') return renderPage(c, 413, err.message)
  throw err
})

page.use(
  '/form/*',
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => errorPage(c, 413, `The form is over ${MAX_BODY_BYTES} bytes.`),
  }),
)

page.get('/', (c) => renderPage(c))

page.post(FORM_ROUTES.set, async (c) => {
  const { key, value } = await formFields(c)
  if (key === undefined || key === '' || key.length > MAX_KEY_LENGTH) {
    throw new BadInput(`The key must be 1 to ${MAX_KEY_LENGTH} characters.`)
  }
  await c.get('session').set(key, value ?? '')
  return backToPage(c)
})

page.post(FORM_ROUTES.delete, async (c) => {
  const { key } = await formFields(c)
  if (key === undefined || key === '') throw new BadInput('Name the key to delete.')
  await c.get('session').delete(key)
  return backToPage(c)
})

page.post(FORM_ROUTES.expiry, async (c) => {
  const raw = (await formFields(c)).seconds?.trim() ?? ''
  let seconds: number | null = null
  if (raw !== '') {
    if (!/^\d{1,9}$/.test(raw) || Number(raw) > MAX_COOKIE_AGE) {
      throw new BadInput(`The expiry must be a whole number of seconds from 0 to ${MAX_COOKIE_AGE}, or empty for the default.`)
    }
    seconds = Number(raw)
  }
  await c.get('session').setExpiry(seconds)
  return backToPage(c)
})

page.post(FORM_ROUTES.cycle, async (c) => {
  await c.get('session').cycleKey()
  return backToPage(c)
})

page.post(FORM_ROUTES.flush, async (c) => {
  await c.get('session').flush()
  return backToPage(c)
})

page.post(FORM_ROUTES.login, async (c) => {
  const { username } = await formFields(c)
  if (!isUsername(username)) {
    throw new BadInput(`The name must be 1 to ${MAX_USERNAME} characters, not all spaces.`)
  }
  await logIn(c.get('session'), username)
  return backToPage(c)
})

page.post(FORM_ROUTES.logout, async (c) => {
  await c.get('session').flush()
  return backToPage(c)
})
