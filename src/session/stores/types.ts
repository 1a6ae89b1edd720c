/**
 * @module
 * The small async interface every session store implements, the record it keeps,
 * what each store promises about consistency, revocation and concurrent writes, and the
 * security events a store reports.
 */

import type { DeviceDetails, DeviceLocation } from '../foundation/device.js'
import { logEvent } from '../foundation/log.js'
import type { EventCursor, SessionEvent } from './events.js'

/** Session data: a null-prototype object of JSON values. */
export type SessionData = Record<string, unknown>

/**
 * A custom expiry set with `setExpiry()`, kept beside the data (never inside it):
 * `null` = the default (`maxAge`, or browser close if configured);
 * `{ age: n }` = n seconds from the last save, `{ age: 0 }` = until the browser closes;
 * `{ at: ms }` = a fixed instant, in milliseconds since the epoch.
 */
export type ExpirySetting = null | { readonly age: number } | { readonly at: number }

/** What a store keeps for one session. */
export interface SessionRecord {
  /** The user's data. */
  data: SessionData
  /** The custom expiry, if any. */
  expiry: ExpirySetting
  /**
   * When the session stops working, in milliseconds since the epoch. Stores may keep
   * the record longer (KV cannot expire anything sooner than 60 s); a record read past
   * this instant is treated as absent.
   */
  expiresAt: number
  /**
   * When the session was created, in ms since the epoch: the absolute lifetime
   * (`absoluteMaxAge`) counts from here, and neither `rolling` nor `cycleKey()` moves it.
   * `null` in a record written before the field existed (see `expiry.ts`).
   */
  createdAt: number | null
  /** The user the session is bound to by `login()`, kept beside the data; `null` = anonymous. */
  auth: SessionAuth | null
  /**
   * The device binding (`session({ deviceBound })`, DBSC): absent or `null` in a session
   * never offered one, and in every record written before the field existed.
   */
  device?: SessionDevice | null
}

/**
 * A session's binding to a browser's key (Device Bound Session Credentials). Made at
 * login with an `id` only; registration adds the browser's public key, and from then on
 * a request needs a bound cookie made for `id` to use the session.
 */
export interface SessionDevice {
  /** The DBSC `session_identifier`: 16 random bytes, base64url; not a secret. */
  readonly id: string
  /** The key's algorithm, once registered. */
  readonly alg: 'ES256' | 'RS256' | null
  /** The browser's public key (P-256 `x`/`y` or RSA `n`/`e` only), once registered. */
  readonly jwk: DeviceKey | null
  /** When the newest challenge accepted was issued, in ms: an older or equal one is refused (used once). */
  readonly seen: number
}

/** A registered public key, exactly the members Web Crypto needs to import it. */
export type DeviceKey =
  | { readonly kty: 'EC'; readonly crv: 'P-256'; readonly x: string; readonly y: string }
  | { readonly kty: 'RSA'; readonly n: string; readonly e: string }

/** What {@link SessionStore.load} resolves: the record, and whether it must move to a new key. */
export interface LoadedRecord extends SessionRecord {
  /**
   * Set when the store cannot keep the session under the token it was read with (the
   * Durable Object store reading a KV session: `migrateFromKV`). The core then treats it as
   * `cycleKey()` does: at the end of the request it saves the session whole as a new one,
   * answers with the new token's cookie, and only then destroys the old token. A request
   * that saves nothing (a 5xx) writes nothing anywhere and leaves the old token as it was.
   */
  readonly rekey?: true
  /**
   * The operator acting as the user, when the session is an impersonation
   * (`session.impersonate()`, {@link SessionImpersonation}); absent otherwise.
   */
  readonly impersonator?: string
  /**
   * Set when the store moved the session to a new token during the load: an impersonation
   * that ended (stopped elsewhere, its time limit, revoked by the user) hands the operator
   * back their own session under a new key, or the store rotated the session's id
   * (`session({ rotation })`, {@link SessionStore.rotation}; then {@link rotated} is set).
   * The core adopts it and the response's cookie carries it.
   */
  readonly token?: string
  /**
   * Set with {@link token} when the new token is a rotation: the store holds the session
   * under it already, so the response only sets the cookie (no save); the token the request
   * came with stays valid for a while (the store's grace rules).
   */
  readonly rotated?: true
  /**
   * Set on an expired record when the store knows why the token's session ended:
   * `'reused'`, a rotated id used after its grace ended it as theft (on this load, or an
   * earlier one for any id of that session). `session.endedBy()` answers it.
   */
  readonly endedBy?: 'reused'
  /**
   * Security events the load itself recorded (an impersonation that ended, a rotated id
   * reused: `session-reused`), for the app's `onEvent` hook. A record with nothing to go
   * back to is answered expired, with them.
   */
  readonly events?: readonly SessionEvent[]
}

/**
 * Rotation of session ids with reuse detection (`session({ rotation })`), in ms: a load of
 * a session whose id was issued `everyMs` ago or more issues it a new id; the old id keeps
 * working until `graceMs` after the new one is first presented, and a use after that ends
 * the session.
 */
export interface RotationPolicy {
  readonly everyMs: number
  readonly graceMs: number
}

/**
 * Whether a store can rotate session ids with reuse detection: exactly (one place sees
 * every use of a session, in order), or not, with why, for the `INVALID_OPTION` error
 * `session({ rotation })` throws.
 */
export type SessionRotation =
  | {
      readonly supported: true
      /**
       * {@link SessionStore.load} with rotation: the record (with a new
       * {@link LoadedRecord.token} when the store rotated the id, or when the token is an
       * old id still in its grace), an expired record with the `session-reused` event
       * ({@link LoadedRecord.events}) when the token was an old id used after its grace
       * (the store ended the session), or `null`.
       */
      load(
        token: string,
        context: StoreContext,
        policy: RotationPolicy,
      ): Promise<LoadedRecord | null>
    }
  | { readonly supported: false; readonly why: string }

/** A session's binding to a user (Django keeps `_auth_user_id` and `_auth_user_hash` in the data). */
export interface SessionAuth {
  /** The user's id, as the app gave it to `login()`. */
  readonly user: string
  /**
   * SHA-256 (lower-case hex) of the user's verifier at login (`session({ authHash })`, e.g.
   * derived from the password hash), or `null` when the app verifies none.
   */
  readonly hash: string | null
  /**
   * When the user last proved who they are, in ms since the epoch: `login()`, then each
   * `confirmAuthentication()`. Absent in records written before it existed (earlier in 0.2.0's development), where the session's
   * creation (its login) stands in.
   */
  readonly at?: number
}

/**
 * Which keys one request changed in the session it loaded, so that a store able to merge
 * (Durable Objects) applies them to the session as it is now instead of replacing it
 * with this request's whole copy. Names only: the values are those of the write's record.
 */
export interface KeyChanges {
  /** Keys this request stored; their values are in the record's `data`. */
  readonly set: readonly string[]
  /** Keys this request removed. */
  readonly deleted: readonly string[]
  /**
   * Whether this request changed the expiry (`setExpiry()`). A store that merges writes
   * `record.expiry` only then; otherwise the stored expiry stays (another request may have
   * set it) and `expiresAt` follows it.
   */
  readonly expiry: boolean
}

/** The lifetimes, in seconds, a merging store computes `expiresAt` from when the stored expiry stays. */
export interface SessionLifetime {
  /** `session({ maxAge })`. */
  readonly maxAge: number
  /** `session({ absoluteMaxAge })`, or `null`. */
  readonly absoluteMaxAge: number | null
}

/** What every store operation is told about the request. */
export interface StoreContext {
  /** The session's clock at this request, in ms. */
  readonly now: number
  /** The request being answered (headers and `cf`), for stores that describe devices. */
  readonly request: Request
  /** The session cookie's name (`session({ cookieName })`): the cookie store seals it in. */
  readonly cookieName: string
}

/** What {@link SessionStore.save} and {@link SessionStore.empty} are given. */
export interface SessionWrite extends StoreContext {
  /** The whole session as this request leaves it. */
  readonly record: SessionRecord
  /** The record as validated JSON (already checked against `maxPayloadBytes`). */
  readonly serialized: string
  /**
   * This request's changes to the session it loaded, or `null` when the data is to be
   * replaced whole (a new session, `clear()`, `markModified()`). Stores that cannot merge
   * write `record` and ignore this.
   */
  readonly changes: KeyChanges | null
  /**
   * Tokens of the sessions this one replaces (`cycleKey()`, `login()`, a load marked
   * {@link LoadedRecord.rekey}, which may be another store's token). A store that can tell
   * one of them was destroyed since this request loaded it must refuse with
   * `SESSION_INTERRUPTED` and leave nothing written. The core destroys those the save did
   * not move itself ({@link SaveResult.moved}) once the save resolved.
   */
  readonly replaces: readonly string[]
  /**
   * The one token of {@link SessionWrite.replaces} whose session this save carries on as it
   * is (a load marked {@link LoadedRecord.rekey}, in a request that asked for no new key:
   * no `cycleKey()`, `login()` or logout), or `null`/absent. Only then may a store let the
   * old token lead to the new session (the Durable Object store's forward from a KV id);
   * a request that changed the session's privileges must leave the old token nothing.
   */
  readonly movingAsIs?: string | null
  /** The largest serialised session allowed, for stores that merge and must check the result. */
  readonly maxPayloadBytes: number
  /** What `expiresAt` is computed from, for stores that merge the expiry. */
  readonly lifetime: SessionLifetime
  /**
   * The request's security events to record with this save (`login`, `reauthenticated`,
   * `device-bound`); a store fills a missing `handle` with the session's.
   */
  readonly events: readonly SessionEvent[]
  /**
   * The SHA-256 (hex) of the browser's known-device cookie, or `null`: a store that knows
   * which browsers logged in as a user decides a `login` event's `newDevice` by it.
   */
  readonly knownDevice: string | null
}

/** What a save did: where the session is now and when it ends. */
export interface SaveResult {
  /** The token the cookie carries from now on. */
  readonly token: string
  /**
   * The expiry the stored session has: the record's, or, for a store that merged in a
   * concurrent request's `setExpiry()`, that one. The cookie follows it.
   */
  readonly expiry: ExpirySetting
  /** When the stored session stops working, in ms since the epoch. */
  readonly expiresAt: number
  /**
   * Tokens of {@link SessionWrite.replaces} the save moved to the new token itself (the
   * Durable Object store leaves a forward): the core must not destroy those, which would
   * end the session under its new token too. `[]` for stores that move nothing.
   */
  readonly moved: readonly string[]
  /**
   * The security events the save recorded: the write's (with their handle, and a login's
   * `newDevice` as the store knows it), and any it caused (sessions ended by the per-user
   * cap or by a new verifier). A store without a trail answers the write's as given.
   */
  readonly events: readonly SessionEvent[]
}

/** What {@link SessionStore.destroy} is told: the request, and the events the end records (a logout). */
export interface DestroyContext extends StoreContext {
  readonly events: readonly SessionEvent[]
}

/** What {@link SessionStore.empty} did: removed the session, or kept it (a merge left keys). */
export type EmptyResult = 'ended' | 'kept'

/**
 * A session store. Every method is async so that a failed read or write surfaces (as a
 * rejected promise) instead of being lost. The *token* is what the session cookie
 * carries: an id for a server-side store, the sealed session itself for a cookie store.
 *
 * What the library's stores promise:
 *
 * | | consistency | revocation (`flush()`, `cycleKey()`, emptied) | a save racing a revocation | concurrent saves |
 * |---|---|---|---|---|
 * | KV (`kvStore`) | eventual: at once in the writing location, ~60 s elsewhere | at once in that location, ~60 s elsewhere | refused within one location (revocation markers) | the last whole record wins |
 * | cookie (`cookieStore`) | the cookie is the session | none: an earlier copy of the cookie works until it expires | not detectable | the last cookie the browser keeps wins |
 * | Durable Objects (`durableObjectStore`) | strong | at once, everywhere | always refused | merged key by key (`changes`) |
 *
 * Only the Durable Object store has a {@link SessionRegistry}.
 *
 * A store added later implements the same methods; nothing in the core asks which
 * store it talks to.
 */
export interface SessionStore {
  /**
   * Cheap, synchronous check of a cookie value's format, made before any I/O so that
   * hostile values never reach storage.
   */
  isValidToken(token: string): boolean
  /**
   * Reads a session. Resolves `null` when there is none (or the stored record is
   * corrupt); rejects when the storage itself fails, or with `SessionError`
   * `SESSION_INTERRUPTED` when the token's session moved to a new key in a concurrent
   * request (a store that can tell): the request then reads an empty session, leaves the
   * client's cookie alone, and its writes are refused with that error. (With
   * `session({ rotation })` the core loads through {@link SessionStore.rotation} instead.)
   */
  load(token: string, context: StoreContext): Promise<LoadedRecord | null>
  /**
   * Writes a session, under `token` or, when `token` is `null`, under a new one, and
   * resolves what happened ({@link SaveResult}). A non-null `token` is always a session
   * this request loaded: a store that can tell it was destroyed since (logout in a
   * concurrent request) must refuse with `SessionError` `SESSION_INTERRUPTED` rather than
   * bring it back. The write is never changed.
   */
  save(token: string | null, write: SessionWrite): Promise<SaveResult>
  /**
   * Removes a session so its token stops working, and refuses saves of it still in flight;
   * resolves the events it recorded (`context.events`, with the session's handle; a store
   * without a trail answers them as given, and none when there was no session to end).
   */
  destroy(token: string, context: DestroyContext): Promise<readonly SessionEvent[]>
  /**
   * Ends a session the request emptied key by key (deleted its last keys, or read its last
   * flash message) rather than flushing it, given the write of its empty view. A store that
   * merges applies it to the session as it is now and removes the session only if nothing
   * is left, resolving `'kept'` when a concurrent request wrote a key meanwhile (the client
   * then keeps its cookie). Optional: for a store without it the core calls `destroy()`.
   */
  empty?(token: string, write: SessionWrite): Promise<EmptyResult>
  /**
   * Records a failed password check for a user name (`session.loginFailed()`), given its
   * `login-failed` event; resolves the events recorded. A store that throttles logins (the
   * Durable Object store) counts the failure, records `login-throttled` once when a lock
   * starts, rejects with `SessionError` `LOGIN_THROTTLED` (nothing recorded) while one
   * holds, and meanwhile refuses the save of a login or re-authentication of that user
   * name with the same error. Optional: without it the core hands the event to the app's
   * `onEvent` hook alone and nothing is throttled (the KV and cookie stores).
   */
  loginFailed?(
    event: Extract<SessionEvent, { type: 'login-failed' }>,
    context: StoreContext,
  ): Promise<readonly SessionEvent[]>
  /**
   * Whether the store rotates session ids with reuse detection (`session({ rotation })`,
   * which refuses a store that cannot, naming its `why`), and its rotating load. The
   * Durable Object store can; KV (eventually consistent across locations, no
   * compare-and-set) and the cookie store (no server state) cannot. Absent: cannot.
   */
  readonly rotation?: SessionRotation
  /** The per-user registry, on stores that keep one (Durable Objects); absent elsewhere. */
  readonly registry?: SessionRegistry
  /** Session-bound WebSockets, on stores that hold them (Durable Objects); absent elsewhere. */
  readonly sockets?: SessionSockets
  /** Impersonation (`session.impersonate()`), on stores that can (Durable Objects); absent elsewhere. */
  readonly impersonation?: SessionImpersonation
}

/** What {@link SessionImpersonation.start} is told: who acts as whom, why, and the new session. */
export interface ImpersonationStart {
  /** The operator, whose session (the token given) is kept to return to. */
  readonly impersonator: string
  /** The user acted as. */
  readonly target: string
  /** Why, as the operator gave it (recorded in both trails). */
  readonly reason: string
  /** When the impersonation ends by itself, in ms since the epoch. */
  readonly endsAt: number
  /** The impersonation's own session: the target's user binding, empty data. */
  readonly record: SessionRecord
  /** `record` as validated JSON. */
  readonly serialized: string
}

/**
 * Acting as another user, keeping the operator's own session to return to. The
 * impersonation is a session of the target's of its own (listed in their sessions, ended
 * like any of them); the operator's session stays as it is, under its handle, while the
 * cookie carries the impersonation's token. Ending it hands the operator's session back
 * under a new key (only hashes are stored, so the old token is not kept anywhere).
 */
export interface SessionImpersonation {
  /**
   * Starts acting as `start.target` from the operator's session `token`; resolves the
   * impersonation's token and the events recorded (`impersonation-started`, in both
   * trails). Rejects with `SESSION_INTERRUPTED` when the operator's session is not live.
   */
  start(
    token: string,
    start: ImpersonationStart,
    context: StoreContext,
  ): Promise<{ token: string; events: readonly SessionEvent[] }>
  /**
   * Ends the impersonation `token` names; resolves the operator's session under a new
   * token (`null` when it ended meanwhile: logged out) and the events recorded
   * (`impersonation-ended`, `how: 'stopped'`, in both trails).
   */
  stop(
    token: string,
    context: StoreContext,
  ): Promise<{ token: string | null; record: LoadedRecord | null; events: readonly SessionEvent[] }>
}

/**
 * WebSockets bound to sessions: held by the store beside the session, closed (code
 * {@link SESSION_ENDED_CLOSE_CODE}) by every revocation of that session, in the same call.
 */
export interface SessionSockets {
  /**
   * Accepts the WebSocket upgrade `request` for `user`'s session stored under `token`;
   * resolves the `101` response, or `null` when no such live session of that user exists.
   * With `until` (ms: a device-bound session's bound cookie expiry) the socket is closed
   * then with {@link DEVICE_BOUND_EXPIRED_CLOSE_CODE}.
   */
  accept(
    token: string,
    user: string,
    request: Request,
    until?: number | null,
  ): Promise<Response | null>
}

/** The close code of a socket whose session ended (logout, revocation, expiry): 4401. */
export const SESSION_ENDED_CLOSE_CODE = 4401

/**
 * The close code of a socket opened on a device-bound session when the bound cookie it was
 * opened with expired: 4408. The session lives on; a client reconnects (the owner's browser
 * has refreshed its bound cookie by then; a copied cookie jar cannot).
 */
export const DEVICE_BOUND_EXPIRED_CLOSE_CODE = 4408

/** What {@link SessionRegistry.list} is told beside the request. */
export interface RegistryContext extends StoreContext {
  /** The asking session's verifier hash (`SessionAuth.hash`), just checked by the app; `null` without `authHash`. */
  authHash: string | null
  /** At most this many sessions. */
  limit: number
  /** The page starts after this session (the last one of the previous page), or at the newest. */
  after: SessionCursor | null
}

/** Where a page of sessions starts: the last session of the previous page. */
export interface SessionCursor {
  readonly createdAt: number
  readonly handle: string
}

/** One of a user's sessions, as {@link SessionRegistry.list} describes it. */
export interface SessionInfo {
  /**
   * A non-secret name for the session, kept when it moves to a new key in its object
   * (`cycleKey()`, `updateAuthHash()`); it cannot be turned into its token.
   */
  handle: string
  /** Whether this is the session of the request that asked. */
  current: boolean
  /** When the session was created (its `login()`), ms since the epoch. */
  createdAt: number
  /** When it was last used, ms since the epoch, updated at most once per the store's interval. */
  lastSeenAt: number
  /** When it expires unless used again, ms since the epoch. */
  expiresAt: number
  /** The device it was created on, as a person recognises it (`device.label`: "Chrome 147 on macOS"). */
  device: DeviceDetails
  /** Where it was created (`request.cf` city, region, country), when the store records locations; else `null`. */
  location: DeviceLocation | null
  /** The `User-Agent` it was created with (truncated), or `null`. */
  userAgent: string | null
  /** `request.cf.country` at creation, when the store records locations; else `null`. */
  country: string | null
  /** `request.cf.colo` at creation, when the store records locations; else `null`. */
  colo: string | null
  /** The operator acting as the user in this session (an impersonation); absent for the user's own. */
  impersonator?: string
}

/**
 * What a store with a per-user registry can do beside keeping sessions. Every revocation
 * takes effect before the promise resolves, for every later request with the token.
 */
export interface SessionRegistry {
  /**
   * A page of the user's live sessions, newest first (`context.limit` of them, after
   * `context.after`); `current` marks the one of `token`. Sessions bound to another
   * verifier than the user's current one are logged out: they are not listed.
   */
  list(user: string, token: string | null, context: RegistryContext): Promise<SessionInfo[]>
  /** How many live sessions the user has. */
  count(user: string, context: StoreContext): Promise<number>
  /**
   * Revokes the user's session named `handle`, by the user from `token`'s session; resolves
   * whether it existed, whether it was `token`'s, and the `revoked` events recorded.
   */
  revoke(
    user: string,
    handle: string,
    token: string | null,
    context: StoreContext,
  ): Promise<{ revoked: boolean; current: boolean; events: readonly SessionEvent[] }>
  /**
   * Revokes every session of the user except `keep`'s (all of them when `keep` is `null`),
   * by the user from `token`'s session; resolves how many, and the events recorded.
   */
  revokeAll(
    user: string,
    keep: string | null,
    token: string | null,
    context: StoreContext,
  ): Promise<{ count: number; events: readonly SessionEvent[] }>
  /** A page of the user's security trail, newest first. */
  securityEvents(user: string, context: TrailContext): Promise<SessionEvent[]>
}

/** What {@link SessionRegistry.securityEvents} is told beside the request. */
export interface TrailContext extends StoreContext {
  /** At most this many events. */
  readonly limit: number
  /** The page starts after this event (the last one of the previous page), or at the newest. */
  readonly after: EventCursor | null
}

/** A security-relevant observation, safe to log: it holds no id and no data. */
export interface SecurityEvent {
  event: 'session.corrupt_record'
  reason: string
  /** First 12 hex characters of the store key, enough to find the record, useless to an attacker. */
  keyPrefix: string
}

/** The stores' default `onSecurityEvent`: one JSON line on `console.warn`. */
export const logSecurityEvent = ({ event, ...fields }: SecurityEvent): void => {
  logEvent(event, fields)
}
