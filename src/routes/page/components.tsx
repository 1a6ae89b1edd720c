/**
 * @module
 * The demo page's markup: `hono/jsx` components for the page and its error pages, with
 * no request handling (that is `routes.ts`) and no session access (that is `render.tsx`).
 */
import { MAX_EXPIRY_SECONDS } from '../env.js'
import { raw } from 'hono/html'
import type { Child, FC } from 'hono/jsx'
import type { Message } from '../../session/index.js'
import { MAX_USERNAME, type SessionState } from '../session-api.js'
import { Account, Live, type AccountState } from './account.js'

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
  impersonate: '/form/impersonate',
  stopImpersonating: '/form/impersonate/stop',
} as const

/** One `name=value` pair of a `Cookie` header, exactly as sent. */
export interface ReceivedCookie {
  name: string
  value: string
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
.acting{border:2px solid #8a5a00;background:#fff4d6;padding:.6rem .9rem;border-radius:4px}
.messages{list-style:none;padding:0;margin:.75rem 0}.messages li{padding:.5rem .9rem;border-radius:4px;margin:.25rem 0;border:1px solid #9db4c9;background:#eef4fa}
.messages li.success{border-color:#7fb38a;background:#edf7ef}.messages li.warning{border-color:#d9b45a;background:#fdf6e3}.messages li.error{border-color:#b3261e;background:#fdecea}
form{margin:.4rem 0;padding:.6rem .8rem;border:1px solid #d6dbe0;border-radius:4px;background:#fafbfc}
form.inline{display:inline-block;margin-right:.5rem}
label{margin-right:.75rem}input{font:inherit;padding:.15rem .35rem}button{font:inherit;padding:.15rem .7rem;cursor:pointer}
ol>li{margin-bottom:.6rem}small{color:#5b6670}
tr.current{background:#eef6ee}
table.devices{table-layout:fixed}table.devices th:first-child,table.devices td:first-child{width:auto}
table.devices th:nth-child(2){width:7rem}table.devices th:nth-child(3),table.devices th:nth-child(4){width:8rem}table.devices th:last-child{width:6.5rem}
table.devices td{overflow-wrap:anywhere}table.devices form.inline{margin:0;padding:0;border:0;background:none}
.this-device{display:inline-block;margin-left:.4rem;padding:0 .4rem;border-radius:1rem;background:#2e7d32;color:#fff;font-size:.8em}
@media (max-width:40rem){table.devices th:nth-child(2),table.devices td:nth-child(2),table.devices th:nth-child(4),table.devices td:nth-child(4){display:none}table.devices th:nth-child(3){width:6rem}}
body.ended #account{opacity:.5}
`

const Layout: FC<{ title: string; children?: Child }> = ({ title, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{title}</title>
      {/* Raw: <style> content is CSS, not HTML, so an escaped "ol&gt;li" is a selector no
          browser matches. STYLE is a constant of this file and holds no "</style". */}
      <style>{raw(STYLE)}</style>
    </head>
    <body>{children}</body>
  </html>
)

/** The flash messages, each with Django's tags as its class (`success`, `sticky warning`). */
const Flashes: FC<{ messages: Message[] }> = ({ messages }) =>
  messages.length === 0 ? null : (
    <ul class="messages" id="messages" role="status">
      {messages.map((m) => (
        <li class={m.tags}>{m.message}</li>
      ))}
    </ul>
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
            <td id="browser-close">
              {state.expireAtBrowserClose ? 'yes (the cookie has no Max-Age)' : 'no'}
            </td>
          </tr>
        </tbody>
      </table>
      {entries.length === 0 ? (
        <small>The expiry shown is what a session saved now would get.</small>
      ) : null}
    </>
  )
}

const Tutorial: FC = () => (
  <ol>
    <li>
      <strong>Does the browser keep cookies?</strong> <a href="/test/">/test/</a> sets a test cookie
      (<code>testcookie=worked</code>); then <a href="/check/">/check/</a> reads it back and deletes
      it, or says "Please enable cookies and try again." when it did not come back. It costs no
      storage: the test cookie is not session data.
    </li>
    <li>
      <strong>Set, get, delete a cookie.</strong> <a href="/set-cook/">/set-cook/</a> sets{' '}
      <code>user=Raju</code>, <a href="/get-cook/">/get-cook/</a> reads it,{' '}
      <a href="/del-cook/">/del-cook/</a> deletes it (an empty value with <code>Max-Age=0</code>).
    </li>
    <li>
      <strong>Count visits.</strong> <a href="/hit/">/hit/</a> counts in a temporary cookie (no{' '}
      <code>Max-Age</code>: gone when the browser closes);{' '}
      <a href="/hit/persistent/">/hit/persistent/</a> in a persistent one (<code>Max-Age=120</code>:
      two minutes, browser restarts or not); <a href="/session-hit/">/session-hit/</a> in the
      session, kept in Workers KV, while the cookie holds only the session's id.
    </li>
    <li>
      <strong>Use the session.</strong> The forms below change the session and come back here; the
      same operations exist as JSON routes (<code>GET /session</code>, <code>POST /session</code>,{' '}
      <code>POST /login</code>, ...).
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
        Expire after{' '}
        <input
          name="seconds"
          type="number"
          min="0"
          max={MAX_EXPIRY_SECONDS}
          step="1"
          placeholder="seconds"
        />{' '}
        seconds of inactivity
      </label>
      <button type="submit">Set expiry</button>{' '}
      <small>0 = when the browser closes; empty = the default</small>
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
      <button type="submit">Log in</button>{' '}
      <small>cycles the key first, against session fixation</small>
    </form>
    <form method="post" action={FORM_ROUTES.logout} class="inline" id="form-logout">
      <button type="submit">Log out</button> <small>flushes the session</small>
    </form>
  </>
)

/** The banner while an admin acts as the user (`POST /impersonate`), with the form that stops it. */
const Acting: FC<{ username: string }> = ({ username }) => (
  <form method="post" action={FORM_ROUTES.stopImpersonating} class="acting" id="impersonating">
    You are acting as <strong>{username}</strong> —{' '}
    <button type="submit" id="stop-impersonating">
      stop
    </button>
  </form>
)

/** An admin's form to act as another user (`ADMIN_USERS`, `SESSION_STORE=do`). */
const Impersonate: FC = () => (
  <form method="post" action={FORM_ROUTES.impersonate} id="form-impersonate">
    <strong>Act as a user</strong>{' '}
    <label>
      Username <input name="username" required />
    </label>{' '}
    <label>
      Reason <input name="reason" required maxlength={500} />
    </label>{' '}
    <button type="submit">Act as</button>{' '}
    <small>recorded in both accounts' security activity; needs a recent authentication</small>
  </form>
)

/** What the page tells beside the session: a session ended by a reused cookie, and rotation's setting. */
export interface Notices {
  /** The cookie's session was ended because the cookie was used from another device. */
  reused: boolean
  /** `ROTATE_SECONDS`: on, unset, or set on a store that cannot rotate. */
  rotation: 'on' | 'off' | 'needs-do'
}

/** The notices above the page's tables. */
const NoticeList: FC<{ notices: Notices }> = ({ notices }) => (
  <>
    {notices.reused ? (
      <p class="alert" role="alert" id="session-reused">
        This session was ended because its cookie was used from another device.
      </p>
    ) : null}
    {notices.rotation === 'needs-do' ? (
      <p class="note" id="rotation-needs-do">
        <code>ROTATE_SECONDS</code> is ignored: rotating session ids needs the Durable Object store
        (<code>SESSION_STORE=do</code>).
      </p>
    ) : null}
    {notices.rotation === 'on' ? (
      <p class="note" id="rotation-on">
        <small>
          Session ids rotate (<code>ROTATE_SECONDS</code>): a copy of this cookie used from another
          browser logs both out.
        </small>
      </p>
    ) : null}
  </>
)

export const Page: FC<{
  cookies: ReceivedCookie[]
  state: SessionState
  username: string | null
  account: AccountState | null
  messages: Message[]
  notices: Notices
  error?: string
  /** The admin acting as `username`, or `null`. */
  impersonator?: string | null
  /** Whether the user may act as another (in `ADMIN_USERS`, on the Durable Object store). */
  admin?: boolean
}> = ({ cookies, state, username, account, messages, notices, error, impersonator, admin }) => (
  <Layout title="edge-session demo">
    <h1>edge-session demo</h1>
    {impersonator && username !== null ? <Acting username={username} /> : null}
    {account?.sessions ? <Live /> : null}
    <p>
      Django's cookie and session tutorial on Cloudflare Workers: every link below is a step of it,
      and this page shows what the server sees on each request.{' '}
      {username === null ? (
        'Nobody is logged in.'
      ) : (
        <>
          Logged in as <strong id="whoami">{username}</strong>.
        </>
      )}
    </p>
    <Flashes messages={messages} />
    <NoticeList notices={notices} />
    {error === undefined ? null : (
      <p class="alert" role="alert" id="error">
        <strong>That did not work:</strong> {error}
      </p>
    )}
    <h2>What the server received</h2>
    <p>
      <small>
        The <code>Cookie</code> header carries only names and values, <code>HttpOnly</code> cookies
        included; attributes such as <code>Max-Age</code> stay in the browser. A real app would
        never echo its session id into a page: it is shown here to see it change.
      </small>
    </p>
    <CookieTable cookies={cookies} />
    <h2>The session</h2>
    <SessionTable state={state} />
    <h2>The tutorial, step by step</h2>
    <Tutorial />
    <h2>Change the session</h2>
    <Forms />
    {account === null ? null : <Account account={account} />}
    {admin && !impersonator ? <Impersonate /> : null}
  </Layout>
)

export const ErrorPage: FC<{ status: number; title: string; message: string }> = ({
  status,
  title,
  message,
}) => (
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
