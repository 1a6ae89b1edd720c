/**
 * @module
 * The demo worker's Hono environment: its bindings and the session's data shape.
 */
import type { SessionObject } from '../session/durable-object.js'
import type { SessionEnv } from '../session/index.js'

/** What the demo keeps in a session. Any other key set through `POST /session` is allowed too. */
export type DemoData = {
  hits?: number
  username?: string
  [key: string]: unknown
}

/** Bindings from wrangler.toml. */
export type Bindings = {
  SESSIONS: KVNamespace
  /** The demo's users' verifiers (see routes/users.ts); optional: without it, "change password" is off. */
  USERS?: KVNamespace
  /** The Durable Object store's objects (`SESSION_STORE=do`). */
  SESSION_OBJECTS: DurableObjectNamespace<SessionObject>
  /** `kv` (default), `cookie` or `do`: which session store the demo uses (see routes/store.ts). */
  SESSION_STORE?: string
  /** Signs cookies and seals cookie-store sessions; `wrangler secret put SESSION_SECRET`. */
  SESSION_SECRET?: string
  /** Previous secrets, a JSON array of strings (or one secret without a comma): they still verify while being rotated out. */
  SESSION_SECRET_FALLBACKS?: string
  /** A secret: `Authorization: Bearer <ADMIN_TOKEN>` opens the admin routes (routes/admin.ts); unset, blank or under 32 characters, they are 404. */
  ADMIN_TOKEN?: string
  /** Seconds since the last authentication within which revocations and "change password" are allowed (default 600). */
  FRESH_AUTH_SECONDS?: string
  /** The Durable Object store's cap on one user's concurrent sessions; unset = no cap. */
  MAX_SESSIONS_PER_USER?: string
  /** `1` binds logged-in sessions to the browser's key (DBSC, src/routes/device-bound.ts). */
  DEVICE_BOUND?: string
  /** The bound cookie's lifetime in seconds (default 600) when `DEVICE_BOUND=1`. */
  DEVICE_BOUND_SECONDS?: string
  /** `1` keeps where a session was created (`request.cf` country, region, city, colo) on the Durable Object store. */
  RECORD_LOCATION?: string
  /** Failed logins of a user name, within the window, that lock its logins (Durable Object store); default 5, `0` for no lock. */
  LOGIN_FAILURES?: string
  /** The login throttle's sliding window and lock, in seconds (default 900). */
  LOGIN_FAILURE_WINDOW_SECONDS?: string
  /** User names (comma-separated) that may act as another user (`POST /impersonate`, `SESSION_STORE=do`). */
  ADMIN_USERS?: string
  /** An impersonation's time limit, in seconds (default 1800). */
  IMPERSONATION_SECONDS?: string
  /** Rotate a logged-in session's id every this many seconds (`SESSION_STORE=do` only; unset: never). */
  ROTATE_SECONDS?: string
  /** How long an old id keeps working after its successor is first presented, in seconds (default 60). */
  ROTATE_GRACE_SECONDS?: string
}

/** The demo app's environment. */
export type DemoEnv = SessionEnv<DemoData> & { Bindings: Bindings }

/** The longest expiry the demo accepts, in seconds: browsers keep a cookie 400 days at most (RFC 6265bis). */
export const MAX_EXPIRY_SECONDS = 400 * 24 * 60 * 60

/** The sessions `GET /sessions` lists when not told, and the most it lists: `listSessions()`'s own. */
export const SESSION_PAGE = { default: 100, max: 1000 } as const
