/**
 * @module
 * The page's account section: "change password" on every store, and "Your sessions"
 * (list, log out this device, other devices, everywhere) on the Durable Object store.
 */
import type { FC } from 'hono/jsx'
import type { SessionsPage, SessionView } from '../sessions.js'

/** Where the account forms post; each answers `303 See Other` to `/`. */
export const ACCOUNT_ROUTES = {
  password: '/form/password',
  revoke: '/form/sessions/revoke',
  revokeOthers: '/form/sessions/revoke-others',
  revokeAll: '/form/sessions/revoke-all',
} as const

/** What the account section shows: the user, and their sessions (`null` where the store keeps no registry). */
export interface AccountState {
  user: string
  sessions: SessionsPage | null
  /** Whether this browser registered a key for the session (`DEVICE_BOUND=1`, DBSC). */
  deviceBound: boolean
}

const where = (s: SessionView): string => [s.country, s.colo].filter((part) => part !== null).join(' / ') || 'not recorded'

const SessionRows: FC<{ sessions: SessionView[] }> = ({ sessions }) => (
  <table id="sessions">
    <thead>
      <tr>
        <th>Device</th>
        <th>Where</th>
        <th>Created</th>
        <th>Last seen</th>
        <th>Expires</th>
        <th></th>
      </tr>
    </thead>
    <tbody>
      {sessions.map((s) => (
        <tr data-handle={s.handle} class={s.current ? 'current' : undefined}>
          <td>{s.userAgent ?? 'unknown'}</td>
          <td>{where(s)}</td>
          <td>{s.createdAt}</td>
          <td>{s.lastSeenAt}</td>
          <td>{s.expiresAt}</td>
          <td>
            {s.current ? (
              <form method="post" action="/form/logout" class="inline">
                <button type="submit">Log out this device</button>
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

/** The account section of the page, for a logged-in user. */
export const Account: FC<{ account: AccountState }> = ({ account }) => (
  <>
    <h2>Your sessions</h2>
    {account.deviceBound ? (
      <p id="device-bound">
        This session is <strong>bound to this device</strong> (DBSC): a copy of its cookies does not work in another browser.
      </p>
    ) : null}
    {account.sessions === null ? (
      <p class="empty" id="sessions-unsupported">
        This store keeps no per-user registry, so it cannot list or end your other sessions; the Durable Object
        store does (<code>SESSION_STORE=do</code>).
      </p>
    ) : (
      <>
        <p id="sessions-count">
          {account.sessions.sessions.length < account.sessions.total
            ? `The newest ${account.sessions.sessions.length} of your ${account.sessions.total} sessions (the page lists at most ${account.sessions.limit}; GET /sessions?after= pages on).`
            : `${account.sessions.total} session${account.sessions.total === 1 ? '' : 's'} (the page lists at most ${account.sessions.limit}).`}
        </p>
        <SessionRows sessions={account.sessions.sessions} />
        <form method="post" action={ACCOUNT_ROUTES.revokeOthers} class="inline" id="form-revoke-others">
          <button type="submit">Log out other devices</button>
        </form>
        <form method="post" action={ACCOUNT_ROUTES.revokeAll} class="inline" id="form-revoke-all">
          <button type="submit">Log out everywhere</button>
        </form>
      </>
    )}
    <form method="post" action={ACCOUNT_ROUTES.password} id="form-password">
      <button type="submit">Change password</button>{' '}
      <small>a new verifier for {account.user}: every other session of yours is logged out, this one stays</small>
    </form>
  </>
)
