/**
 * @module
 * The page's account section: "change password" on every store, and "Your sessions"
 * (a devices page: list, log out this device, other devices, everywhere) and "Security
 * activity" on the Durable Object store, kept current by the page's socket (`GET /live`).
 */
import { raw } from 'hono/html'
import type { FC } from 'hono/jsx'
import type { EventsPage } from '../events.js'
import type { SessionsPage, SessionView } from '../sessions.js'
import { SecurityActivity } from './activity.js'
import { deviceName, exactTime, relativeTime } from './devices.js'

/** Where the account forms post; each answers `303 See Other` to `/`. */
export const ACCOUNT_ROUTES = {
  password: '/form/password',
  revoke: '/form/sessions/revoke',
  revokeOthers: '/form/sessions/revoke-others',
  revokeAll: '/form/sessions/revoke-all',
  confirm: '/form/confirm',
} as const

/** What the account section shows: the user, and their sessions (`null` where the store keeps no registry). */
export interface AccountState {
  user: string
  sessions: SessionsPage | null
  /** The newest events of the user's trail (`null` where the store keeps none). */
  events: EventsPage | null
  /** The request's clock, for "2 minutes ago". */
  now: number
  /** Whether the last action needed a recent authentication: the confirmation form is offered. */
  confirm: boolean
  /** Whether this browser registered a key for the session (`DEVICE_BOUND=1`, DBSC). */
  deviceBound: boolean
}

const where = (s: SessionView): string =>
  [s.country, s.colo].filter((part) => part !== null).join(' / ') || 'not recorded'

/** A time as "2 minutes ago", the exact time on hover. */
const Ago: FC<{ iso: string; now: number }> = ({ iso, now }) => {
  const at = Date.parse(iso)
  return (
    <time datetime={iso} title={exactTime(at)}>
      {relativeTime(at, now)}
    </time>
  )
}

const SessionRows: FC<{ sessions: SessionView[]; now: number }> = ({ sessions, now }) => (
  <table id="sessions" class="devices">
    <thead>
      <tr>
        <th>Device</th>
        <th>Where</th>
        <th>Last active</th>
        <th>Signed in</th>
        <th></th>
      </tr>
    </thead>
    <tbody>
      {sessions.map((s) => (
        <tr data-handle={s.handle} class={s.current ? 'current' : undefined}>
          <td>
            <span class="device-name" title={s.userAgent ?? undefined}>
              {deviceName(s.device, s.userAgent)}
            </span>
            {s.current ? <span class="this-device"> This device</span> : null}
            {s.impersonator ? (
              <span class="impersonator"> {s.impersonator} acting as you (an admin)</span>
            ) : null}
            <br />
            <small>
              expires <Ago iso={s.expiresAt} now={now} />
            </small>
          </td>
          <td>{where(s)}</td>
          <td>{s.current ? 'now' : <Ago iso={s.lastSeenAt} now={now} />}</td>
          <td>
            <Ago iso={s.createdAt} now={now} />
          </td>
          <td>
            {s.current ? (
              <form method="post" action="/form/logout" class="inline">
                <button type="submit">Log out</button>
              </form>
            ) : (
              <form method="post" action={ACCOUNT_ROUTES.revoke} class="inline">
                <input type="hidden" name="handle" value={s.handle} />
                <button type="submit">Log out</button>
              </form>
            )}
          </td>
        </tr>
      ))}
    </tbody>
  </table>
)

/** The confirmation the sensitive actions need when the last authentication is too old. */
const Confirm: FC<{ user: string }> = ({ user }) => (
  <form method="post" action={ACCOUNT_ROUTES.confirm} id="form-confirm">
    <strong>Confirm it is you</strong>{' '}
    <label>
      Username <input name="username" required autocomplete="username" />
    </label>
    <button type="submit">Confirm</button>{' '}
    <small>the demo has no passwords: type {user}, then try again</small>
  </form>
)

/** The account section of the page, for a logged-in user (also served alone by `GET /account`). */
export const Account: FC<{ account: AccountState }> = ({ account }) => (
  <section id="account">
    <h2>Your sessions</h2>
    {account.confirm ? <Confirm user={account.user} /> : null}
    {account.deviceBound ? (
      <p id="device-bound">
        This session is <strong>bound to this device</strong> (DBSC): a copy of its cookies does not
        work in another browser.
      </p>
    ) : null}
    {account.sessions === null ? (
      <p class="empty" id="sessions-unsupported">
        This store keeps no per-user registry, so it cannot list or end your other sessions; the
        Durable Object store does (<code>SESSION_STORE=do</code>).
      </p>
    ) : (
      <>
        <p id="sessions-count">
          {account.sessions.sessions.length < account.sessions.total
            ? `The newest ${account.sessions.sessions.length} of your ${account.sessions.total} sessions (the page lists at most ${account.sessions.limit}; GET /sessions?after= pages on).`
            : `${account.sessions.total} session${account.sessions.total === 1 ? '' : 's'} (the page lists at most ${account.sessions.limit}).`}
        </p>
        <SessionRows sessions={account.sessions.sessions} now={account.now} />
        <form
          method="post"
          action={ACCOUNT_ROUTES.revokeOthers}
          class="inline"
          id="form-revoke-others"
        >
          <button type="submit">Log out other devices</button>
        </form>
        <form method="post" action={ACCOUNT_ROUTES.revokeAll} class="inline" id="form-revoke-all">
          <button type="submit">Log out everywhere</button>
        </form>
      </>
    )}
    <form method="post" action={ACCOUNT_ROUTES.password} id="form-password">
      <button type="submit">Change password</button>{' '}
      <small>
        a new verifier for {account.user}: every other session of yours is logged out, this one
        stays
      </small>
    </form>
    <SecurityActivity events={account.events} now={account.now} />
  </section>
)

/**
 * The page's socket (`GET /live`, Durable Object store): `{"type":"sessions"}` reloads the
 * account section (`GET /account`) in place; `{"type":"ended"}`, or a close with 4401,
 * shows "Session ended".
 * A constant script (no data in it), so nothing of the request reaches it unescaped.
 */
const LIVE_SCRIPT = `(() => {
  const ended = () => {
    document.getElementById('session-ended').hidden = false
    document.body.classList.add('ended')
  }
  const socket = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/live')
  socket.addEventListener('message', async (event) => {
    let frame
    try { frame = JSON.parse(event.data) } catch { return }
    if (frame.type === 'ended') return ended()
    if (frame.type !== 'sessions') return
    const res = await fetch('/account', { headers: { Accept: 'text/html' }, cache: 'no-store' })
    const section = document.getElementById('account')
    if (res.ok && section) section.outerHTML = await res.text()
  })
  socket.addEventListener('close', (event) => {
    if (event.code === 4401) ended()
  })
})()`

/** The banner a 4401 close reveals, and the script that keeps the socket. */
export const Live: FC = () => (
  <>
    <p class="alert" role="alert" id="session-ended" hidden>
      <strong>Session ended.</strong> This session was logged out from another device or by an
      administrator. <a href="/">Reload</a> to sign in again.
    </p>
    <script>{raw(LIVE_SCRIPT)}</script>
  </>
)
