/**
 * @module
 * Security events: what happened to an account's sessions (a login, a logout, a
 * revocation and who made it, a failed or throttled login, a new device binding), as the
 * app's `onEvent` hook receives them and as the Durable Object store keeps them in each
 * user's trail. One discriminated union; every event says when, whose, which session,
 * from which device, and who acted.
 */
import type { DeviceDetails, DeviceLocation } from '../foundation/device.js'

/** Why a session was ended by someone or something other than its own logout. */
export type RevokedBy =
  /** The user, from another of their sessions ("log out other devices", "end this session"). */
  | 'user'
  /** An operator, through `userSessions()` (an admin route, a cron job). */
  | 'admin'
  /** The per-user cap: a login beyond `maxSessionsPerUser` ended the least recently seen. */
  | 'cap'
  /** The user's credentials changed (`authHash`): every session bound to the old verifier ends. */
  | 'password'

/** Who acted, when someone other than the session itself did. */
export interface EventActor {
  /** The acting user: the account's own user from another session, or the operator an admin call names; `null` when unnamed. */
  readonly user: string | null
  /** The acting session's handle (Durable Object store), or `null`. */
  readonly handle: string | null
}

/** What every event carries. */
export interface EventFields {
  /**
   * The event's id in its user's trail (Durable Object store), for paging with `after`;
   * `null` for an event no trail keeps (KV and cookie stores).
   */
  readonly id: string | null
  /** When it happened, in ms since the epoch. */
  readonly at: number
  /** The user whose account it concerns (for a failed or throttled login, the user name tried). */
  readonly user: string
  /**
   * The session it concerns: the one that logged in or out, or (for `revoked`) the one
   * that ended. A non-secret handle (Durable Object store); `null` where there is none.
   */
  readonly handle: string | null
  /** The device: of the request (a login, a logout, a failed login) or of the session that ended (`revoked`). */
  readonly device: DeviceDetails | null
  /** Where, when the store records locations (`recordLocation`); else `null`. */
  readonly location: DeviceLocation | null
  /** Who acted, when it was not the session itself: the user from another session, an operator. */
  readonly actor: EventActor | null
}

/**
 * A security event (Django's `user_logged_in`, `user_logged_out`, `user_login_failed`
 * signals; Laravel's `Login`, `Logout`, `OtherDeviceLogout`, `Lockout`):
 * - `login`: `login()` saved; `newDevice` when this browser had not logged in as this user
 *   before (docs/events.md says how a device is recognised);
 * - `logout`: `flush()` (or `clear()`) of a logged-in session;
 * - `revoked`: a session ended by someone or something else, `by` says what;
 * - `reauthenticated`: `confirmAuthentication()`;
 * - `login-failed`: the app reported a failed password check (`loginFailed()`);
 * - `login-throttled`: too many failures: logins for the user are refused until `retryAfter` s pass;
 * - `device-bound`: a browser registered a device key for the session (DBSC);
 * - `impersonation-started`, `impersonation-ended`: an operator began or stopped acting as
 *   the user (`session.impersonate()`), written to both users' trails: `user` is the
 *   trail's owner, `handle` that user's session (the impersonation, or the operator's own);
 * - `session-reused`: a session id was used after it had been rotated away and its grace
 *   had passed (`session({ rotation })`): a copy of the cookie is in someone else's hands,
 *   and the session was ended. `device` is the request's that showed the old id; `holder`
 *   the device that holds the session's current id (the one that first presented it, or
 *   the session's own device).
 */
export type SessionEvent =
  | (EventFields & { readonly type: 'login'; readonly newDevice: boolean })
  | (EventFields & { readonly type: 'logout' })
  | (EventFields & { readonly type: 'revoked'; readonly by: RevokedBy })
  | (EventFields & { readonly type: 'reauthenticated' })
  | (EventFields & { readonly type: 'login-failed' })
  | (EventFields & { readonly type: 'login-throttled'; readonly retryAfter: number })
  | (EventFields & { readonly type: 'device-bound' })
  | (EventFields & { readonly type: 'session-reused'; readonly holder: DeviceDetails | null })
  | (EventFields & ImpersonationFields & { readonly type: 'impersonation-started' })
  | (EventFields &
      ImpersonationFields & {
        readonly type: 'impersonation-ended'
        readonly how: ImpersonationEnd
      })

/**
 * How an impersonation ended: `stopped` (`stopImpersonating()`), `expired` (its time limit),
 * `revoked` (the user ended it from "your sessions", an operator, or the user's password
 * changed), `admin-session-ended` (the operator's own session ended: revoked, logged out,
 * a password change, expired), `logged-out` (`flush()` while impersonating).
 */
export type ImpersonationEnd =
  | 'stopped'
  | 'expired'
  | 'revoked'
  | 'admin-session-ended'
  | 'logged-out'

/** What both impersonation events say beside the common fields. */
export interface ImpersonationFields {
  /** The operator acting as the user. */
  readonly impersonator: string
  /** The user acted as. */
  readonly target: string
  /** Why, as the operator gave it. */
  readonly reason: string
  /** When the impersonation's time limit ends it, in ms since the epoch. */
  readonly endsAt: number
}

/** The event types, for filters and switch statements. */
export type SessionEventType = SessionEvent['type']

/** Where a page of a user's trail starts: the last event of the previous page. */
export interface EventCursor {
  readonly id: string
}
