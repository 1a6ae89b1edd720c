/**
 * @module
 * The Durable Object session store: `durableObjectStore({ namespace })`, a `SessionStore`
 * with a per-user registry, talking to {@link SessionObject} over RPC.
 *
 * Placement, straight from the cookie: the token is `<id>.<object id>` (43 base64url
 * characters of the 256-bit session id, a dot, and the 64 hex digits of the object's id),
 * so a request reaches its session's object with no lookup. A logged-in session lives in
 * its user's object (`idFromName('user:' + userId)`), so listing and revoking a user's
 * sessions is one transaction in one object; an anonymous one in a shard picked at random
 * among `anonymousShards` (`anon:0` …), so no object is hot for everybody (`cycleKey()` of
 * an anonymous session keeps it in its shard). Only the
 * SHA-256 of the id is stored; the object id is not a secret, and one the namespace did
 * not make is refused by `idFromString()` before any request.
 */
import { toBase64Url } from '../../foundation/bytes.js'
import { invalidOption, SessionError } from '../../foundation/errors.js'
import { generateSessionId, sha256Hex } from '../../foundation/id.js'
import { logFailure } from '../../foundation/log.js'
import { memoized } from '../../foundation/memo.js'
import { describeDevice, describeLocation } from '../../foundation/device.js'
import type { SessionEvent } from '../events.js'
import { isNamespace, type KVNamespaceLike } from '../kv.js'
import { decodeRecord } from '../record.js'
import {
  logSecurityEvent,
  type EmptyResult,
  type ImpersonationStart,
  type SessionImpersonation,
  type DestroyContext,
  type LoadedRecord,
  type RotationPolicy,
  type SaveResult,
  type SessionRotation,
  type RegistryContext,
  type SecurityEvent,
  type SessionInfo,
  type SessionRegistry,
  type SessionSockets,
  type SessionStore,
  type SessionWrite,
  type StoreContext,
  type TrailContext,
} from '../types.js'
import { endedEvent, type ImpersonationLink, startedEvent } from './impersonations.js'
import { KvMigration } from './migrate.js'
import {
  type Acting,
  DEFAULT_RETENTION,
  type Impersonated,
  type Recording,
  type Returning,
  type SessionObject,
} from './object.js'
import { DEFAULT_THROTTLE, loginThrottled, type ThrottleLimits } from './throttle.js'
import type { TrailRetention } from './trail.js'
import { interrupted, moved, rebase, settle, updateOf } from './writes.js'
import { toSessionInfo, userObjectName, type SessionRow } from './schema.js'
import {
  DEFAULT_MAX_SOCKETS,
  MAX_SOCKETS_HEADER,
  SESSION_HASH_HEADER,
  SOCKET_UNTIL_HEADER,
} from './sockets.js'

/** Options of {@link durableObjectStore}. */
export interface DurableObjectStoreOptions {
  /** The namespace bound to {@link SessionObject}, e.g. `c.env.SESSION_OBJECTS`. */
  namespace: DurableObjectNamespace<SessionObject>
  /**
   * How many objects anonymous sessions are spread over. The token names its object, so
   * this may change at any time; only new sessions follow it.
   * @default 32
   */
  anonymousShards?: number
  /**
   * A read-only request marks its session as seen at most this often, in seconds (a
   * row write), so "last seen" never costs a write per request.
   * @default 300
   */
  lastSeenInterval?: number
  /**
   * Keep `request.cf.country` and `request.cf.colo` of the request that created a
   * logged-in session, for "your sessions". Off by default: it is personal data.
   * @default false
   */
  recordLocation?: boolean
  /**
   * The most sessions one user may have at once (ASVS 7.1.2). A login beyond it ends the
   * user's least recently seen session (the oldest created among equals) and closes its
   * sockets; `null` for no cap.
   * @default null
   */
  maxSessionsPerUser?: number | null
  /**
   * Where security events (corrupt records) are reported. Never receives a session id.
   * @default console.warn of one JSON line
   */
  onSecurityEvent?: (event: SecurityEvent) => void
  /**
   * How long each user's security trail keeps its events (`session.securityEvents()`,
   * `userSessions().securityEvents()`): at most `maxEvents` (the oldest go first), none
   * older than `maxAge` seconds.
   * @default { maxEvents: 1000, maxAge: 7776000 } (90 days)
   */
  trail?: { maxEvents?: number; maxAge?: number }
  /**
   * Login throttling, per user name (not per IP): after `failures` failed password checks
   * (`session.loginFailed(user)`) within a sliding window of `window` seconds, logins and
   * re-authentications of that user name are refused with `SessionError` `LOGIN_THROTTLED`
   * (429, `Retry-After`) for `window` seconds; a successful login resets the count. `false`
   * records failures in the trail and locks nothing (docs/security.md weighs the choice).
   * @default { failures: 5, window: 900 }
   */
  loginThrottle?: { failures?: number; window?: number } | false
  /**
   * Moving from the KV store without logging anyone out: the KV namespace the app's
   * sessions were kept in (e.g. `c.env.SESSIONS`). A cookie that still holds a KV session
   * id is read from it once; a live session is moved into its object (the user's, or the
   * anonymous shard the id picks), the response carries the new cookie, and the KV record
   * is deleted, leaving a forward to the new session: requests still carrying the KV id
   * reach the moved session, and a second move of it is refused, so no copy is made. A
   * session KV no longer holds, an expired one, or one a logout or revocation marked is not
   * revived. Drop the option once the app's longest session lifetime has passed since the
   * switch.
   * @default undefined (a KV session id is not a token of this store: no session)
   */
  migrateFromKV?: KVNamespaceLike
  /**
   * The most WebSockets one session may hold open at once (`session.acceptWebSocket()`).
   * An upgrade past it is refused with `SessionError` `TOO_MANY_SOCKETS` (429) and the open
   * ones stay: a client reconnecting in a loop cannot close the person's other tabs.
   * @default 16
   */
  maxSocketsPerSession?: number
}

/** `<43 base64url>.<64 hex>` */
const TOKEN = /^([A-Za-z0-9_-]{43})\.([0-9a-f]{64})$/
/** Longest `User-Agent` kept. */
const MAX_USER_AGENT = 256

/** A parsed token: the session id, its hash, and its object. */
interface Place {
  id: string
  hash: string
  stub: DurableObjectStub<SessionObject>
  object: string
}

/**
 * A session store on Durable Objects with SQLite storage: strongly consistent, so a
 * logout, a `cycleKey()` or a revocation ends the old id everywhere before the response
 * goes out, a save racing it is refused (`SessionError` `SESSION_INTERRUPTED`), and
 * concurrent requests writing different keys of one session keep each other's writes.
 * It keeps a per-user registry (`session.listSessions()`, `revokeSession()`, …).
 * Throws `SessionError` `INVALID_OPTION`, naming the option, for bad options.
 *
 * @example
 * ```ts
 * import { durableObjectStore } from 'edge-session/durable-object'
 * app.use(session({ store: (c) => durableObjectStore({ namespace: c.env.SESSION_OBJECTS }) }))
 * ```
 */
export function durableObjectStore(options: DurableObjectStoreOptions): SessionStore {
  return durableObjectStores(options)
}

/** The options of one store, checked once. */
interface ResolvedOptions {
  readonly namespace: DurableObjectNamespace<SessionObject>
  readonly shards: number
  readonly touchAfterMs: number
  readonly recordLocation: boolean
  readonly maxSessions: number | null
  readonly onSecurityEvent: (event: SecurityEvent) => void
  readonly migration: KvMigration | null
  readonly retention: TrailRetention
  readonly throttle: ThrottleLimits | null
  readonly maxSockets: number
}

const invalid = (option: string, why: string): SessionError =>
  invalidOption('durableObjectStore()', option, why)

/** Stores per configuration, so `store: (c) => durableObjectStore({...})` costs a lookup per request. */
const durableObjectStores = memoized(16, (options: DurableObjectStoreOptions): SessionStore => {
  const { namespace } = options
  if (!isObjectNamespace(namespace)) {
    throw invalid('namespace', 'must be a Durable Object namespace binding')
  }
  const shards = options.anonymousShards ?? 32
  if (!Number.isSafeInteger(shards) || shards < 1) {
    throw invalid('anonymousShards', 'must be a whole number >= 1')
  }
  const interval = options.lastSeenInterval ?? 300
  if (!(interval >= 0) || !Number.isFinite(interval)) {
    throw invalid('lastSeenInterval', 'must be a number of seconds >= 0')
  }
  const cap = options.maxSessionsPerUser ?? null
  if (cap !== null && (!Number.isSafeInteger(cap) || cap < 1)) {
    throw invalid('maxSessionsPerUser', 'must be a whole number >= 1, or null')
  }
  const from = options.migrateFromKV
  if (from !== undefined && !isNamespace(from)) {
    throw invalid('migrateFromKV', 'must be a KV namespace binding')
  }
  const maxSockets = options.maxSocketsPerSession ?? DEFAULT_MAX_SOCKETS
  if (!Number.isSafeInteger(maxSockets) || maxSockets < 1 || maxSockets > 1000) {
    throw invalid('maxSocketsPerSession', 'must be a whole number from 1 to 1000')
  }
  const onSecurityEvent = options.onSecurityEvent ?? logSecurityEvent
  const retention = resolveRetention(options.trail)
  return new DurableObjectSessionStore({
    retention,
    throttle: resolveThrottle(options.loginThrottle),
    namespace,
    shards,
    touchAfterMs: interval * 1000,
    recordLocation: options.recordLocation ?? false,
    maxSessions: cap,
    maxSockets,
    onSecurityEvent,
    migration: from === undefined ? null : new KvMigration(from, onSecurityEvent),
  })
})

/** The trail's retention from the `trail` option, checked. */
function resolveRetention(trail: DurableObjectStoreOptions['trail']): TrailRetention {
  const maxEvents = trail?.maxEvents ?? DEFAULT_RETENTION.maxEvents
  if (!Number.isSafeInteger(maxEvents) || maxEvents < 1 || maxEvents > 100_000) {
    throw invalid('trail.maxEvents', 'must be a whole number from 1 to 100000')
  }
  const maxAge = trail?.maxAge ?? DEFAULT_RETENTION.maxAgeMs / 1000
  if (!Number.isSafeInteger(maxAge) || maxAge < 1) {
    throw invalid('trail.maxAge', 'must be a whole number of seconds >= 1')
  }
  return { maxEvents, maxAgeMs: maxAge * 1000 }
}

/** The login throttle from the `loginThrottle` option, checked; `null` when off. */
function resolveThrottle(
  option: DurableObjectStoreOptions['loginThrottle'],
): ThrottleLimits | null {
  if (option === false) return null
  if (option !== undefined && (typeof option !== 'object' || option === null)) {
    throw invalid('loginThrottle', 'must be { failures, window } or false')
  }
  const failures = option?.failures ?? DEFAULT_THROTTLE.failures
  if (!Number.isSafeInteger(failures) || failures < 1 || failures > 1000) {
    throw invalid('loginThrottle.failures', 'must be a whole number from 1 to 1000')
  }
  const window = option?.window ?? DEFAULT_THROTTLE.windowMs / 1000
  if (!Number.isSafeInteger(window) || window < 1 || window > 604_800) {
    throw invalid('loginThrottle.window', 'must be a whole number of seconds from 1 to 604800')
  }
  return { failures, windowMs: window * 1000 }
}

/** `request.cf`, when the runtime gave one. */
function cfOf(request: Request): Record<string, unknown> | undefined {
  const cf = (request as { cf?: unknown }).cf
  return typeof cf === 'object' && cf !== null ? (cf as Record<string, unknown>) : undefined
}

/** Whether `value` is a Durable Object namespace binding. */
export function isObjectNamespace(value: unknown): value is DurableObjectNamespace<SessionObject> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { idFromName?: unknown }).idFromName === 'function'
  )
}

class DurableObjectSessionStore implements SessionStore, SessionRegistry {
  readonly #ns: DurableObjectNamespace<SessionObject>
  readonly #o: ResolvedOptions
  readonly #migration: KvMigration | null
  /** The anonymous shards' object ids, computed at the first save that needs them. */
  #anonymousObjects: Set<string> | undefined
  readonly registry: SessionRegistry = this
  readonly sockets: SessionSockets = {
    accept: (token, user, request, until) => this.#accept(token, user, request, until ?? null),
  }
  readonly rotation: SessionRotation = {
    supported: true,
    load: (token, context, policy) => this.#load(token, context, policy),
  }
  readonly impersonation: SessionImpersonation = {
    start: (token, start, context) => this.#impersonate(token, start, context),
    stop: (token, context) => this.#stopImpersonating(token, context),
  }

  constructor(options: ResolvedOptions) {
    this.#o = options
    this.#ns = options.namespace
    this.#migration = options.migration
  }

  isValidToken(token: string): boolean {
    return TOKEN.test(token) || (this.#migration?.isKvToken(token) ?? false)
  }

  /** Where a token's session lives, or `null` for an object id this namespace did not make. */
  async #place(token: string): Promise<Place | null> {
    const match = TOKEN.exec(token)
    if (match === null) return null
    let id: DurableObjectId
    try {
      id = this.#ns.idFromString(match[2] as string)
    } catch {
      return null // "not valid for this namespace": forged or foreign
    }
    return {
      id: match[1] as string,
      hash: await sha256Hex(match[1] as string),
      stub: this.#ns.get(id),
      object: match[2] as string,
    }
  }

  load(token: string, context: StoreContext): Promise<LoadedRecord | null> {
    return this.#loadAny(token, context, null)
  }

  /** A load of any token of this store, a KV id being migrated included. */
  async #loadAny(
    token: string,
    context: StoreContext,
    policy: RotationPolicy | null,
  ): Promise<LoadedRecord | null> {
    if (this.#migration?.isKvToken(token)) {
      const read = await this.#migration.read(token, context)
      if (read === null || 'record' in read) return read?.record ?? null
      // Moved already (a parallel first request after the switch): the moved session.
      return this.#load(read.forward, context, policy)
    }
    return this.#load(token, context, policy)
  }

  /**
   * One call to the token's object: the record, the impersonation's, the operator's session
   * handed back, or, with a rotation `policy`, the session under its successor id (rotated
   * now, or an old id in its grace) or the reuse that ended it (expired, with its event).
   */
  async #load(
    token: string,
    context: StoreContext,
    policy: RotationPolicy | null,
  ): Promise<LoadedRecord | null> {
    const { now } = context
    const place = await this.#place(token)
    if (place === null) return null
    const rotation =
      policy === null ? null : { id: place.id, ...policy, headers: deviceHeaders(context.request) }
    const loaded = await place.stub.load(place.hash, now, this.#o.touchAfterMs, rotation)
    if (loaded === null) return null
    if (typeof loaded === 'string') return this.#decode(loaded, place)
    if ('returnTo' in loaded) return this.#returnTo(loaded, context)
    if ('impersonation' in loaded) return this.#impersonated(loaded, place, context)
    if ('successor' in loaded) {
      const record = this.#decode(loaded.record, place)
      const successor = `${loaded.successor}.${place.object}`
      return record === null ? null : { ...record, token: successor, rotated: true }
    }
    if ('reused' in loaded) return { ...loggedOut(now, loaded.events), endedBy: 'reused' }
    throw moved()
  }

  /** A stored record, or `null` (reported) when it is corrupt. */
  #decode(text: string, place: Place): LoadedRecord | null {
    const record = decodeRecord(text)
    if (typeof record === 'string') {
      this.#o.onSecurityEvent({
        event: 'session.corrupt_record',
        reason: record,
        keyPrefix: place.hash.slice(0, 12),
      })
      return null
    }
    return record
  }

  // ----- impersonation --------------------------------------------------------------

  /** The stub of the object a hex id names. */
  #stubOf(object: string): DurableObjectStub<SessionObject> {
    return this.#ns.get(this.#ns.idFromString(object))
  }

  /**
   * Starts an impersonation: the operator's object checks their session and records the
   * start in their trail, then the target's object adds the impersonation session (outside
   * the cap) and records it in the target's trail. Two calls.
   */
  async #impersonate(
    token: string,
    start: ImpersonationStart,
    { now, request }: StoreContext,
  ): Promise<{ token: string; events: readonly SessionEvent[] }> {
    const place = await this.#place(token)
    if (place === null || place.object !== this.#userObject(start.impersonator).toString())
      throw interrupted()
    const objectId = this.#userObject(start.target)
    const id = generateSessionId()
    const hash = await sha256Hex(id)
    const columns = this.#device(request, start.target)
    const row: SessionRow = {
      hash,
      handle: toBase64Url(crypto.getRandomValues(new Uint8Array(16))),
      user: start.target,
      record: start.serialized,
      created_at: now,
      last_seen_at: now,
      expires_at: start.record.expiresAt,
      ...columns,
    }
    const partial: ImpersonationLink = {
      handle: row.handle,
      impersonator: start.impersonator,
      target: start.target,
      reason: start.reason,
      adminObject: place.object,
      adminHash: place.hash,
      adminHandle: '',
      endsAt: start.endsAt,
    }
    const device = describeDevice(request.headers)
    const location = this.#o.recordLocation ? describeLocation(cfOf(request)) : null
    const at = { at: now, device, location }
    const begun = await place.stub.beginImpersonating(
      place.hash,
      start.impersonator,
      now,
      startedEvent(partial, { user: start.impersonator, handle: null, actor: null, ...at }),
      this.#o.retention,
    )
    if (begun === null) throw interrupted()
    const link = { ...partial, adminHandle: begun.handle }
    const actor = { user: start.impersonator, handle: begun.handle }
    const events = await this.#ns
      .get(objectId)
      .startImpersonation(
        row,
        link,
        startedEvent(link, { user: start.target, handle: row.handle, actor, ...at }),
        this.#o.retention,
      )
    return { token: `${id}.${objectId.toString()}`, events: [...begun.events, ...events] }
  }

  /** Stops the impersonation `token` names: its object ends it, then the operator's session is handed back. */
  async #stopImpersonating(
    token: string,
    context: StoreContext,
  ): Promise<{
    token: string | null
    record: LoadedRecord | null
    events: readonly SessionEvent[]
  }> {
    const place = await this.#place(token)
    if (place === null) return { token: null, record: null, events: [] }
    const ended = await place.stub.endImpersonation(place.hash, context.now, 'stopped', null)
    if (ended === null) return { token: null, record: null, events: [] }
    const back = await this.#handBack(ended, context)
    return { token: back.token, record: back.record, events: back.events }
  }

  /**
   * The operator's session of an impersonation that ended, under a new key in their object
   * (which records the end in their trail); `null` record when it had ended too.
   */
  async #handBack(
    ended: Returning,
    { now }: StoreContext,
  ): Promise<{ token: string | null; record: LoadedRecord | null; events: SessionEvent[] }> {
    const link = ended.returnTo
    const id = generateSessionId()
    const hash = await sha256Hex(id)
    const actor =
      ended.how === 'stopped' ? { user: link.impersonator, handle: link.adminHandle } : null
    const event = endedEvent(link, ended.how, {
      user: link.impersonator,
      handle: link.adminHandle,
      at: now,
      device: null,
      location: null,
      actor,
    })
    const stub = this.#stubOf(link.adminObject)
    const back = await stub.endImpersonating(link.adminHash, hash, now, event)
    const events = [...ended.events, ...back.events]
    const record = back.record === null ? null : decodeRecord(back.record)
    if (record === null || typeof record === 'string') return { token: null, record: null, events }
    return { token: `${id}.${link.adminObject}`, record, events }
  }

  /** A load of an impersonation that ended: the operator's own session, under a new token (or expired, when it ended too). */
  async #returnTo(ended: Returning, context: StoreContext): Promise<LoadedRecord> {
    const back = await this.#handBack(ended, context)
    if (back.token === null || back.record === null) return loggedOut(context.now, back.events)
    return { ...back.record, token: back.token, events: back.events }
  }

  /**
   * A load of an impersonation that lasts: valid only while its operator's session is live
   * (a second call, to the operator's object); otherwise it ends here, `admin-session-ended`.
   */
  async #impersonated(
    loaded: Impersonated,
    place: Place,
    context: StoreContext,
  ): Promise<LoadedRecord | null> {
    const link = loaded.impersonation
    const admin = await this.#stubOf(link.adminObject).load(
      link.adminHash,
      context.now,
      this.#o.touchAfterMs,
    )
    if (typeof admin === 'string') {
      const record = this.#decode(loaded.record, place)
      return record === null ? null : { ...record, impersonator: link.impersonator }
    }
    const ended = await place.stub.endImpersonation(
      place.hash,
      context.now,
      'admin-session-ended',
      null,
    )
    if (ended === null) return null
    const back = await this.#handBack(ended, context)
    return loggedOut(context.now, back.events)
  }

  async save(token: string | null, write: SessionWrite): Promise<SaveResult> {
    if (token !== null) return this.#update(await this.#forwarded(token, write.now), write)
    const { record, serialized, now, request, replaces, lifetime, maxPayloadBytes } = write
    const user = record.auth?.user ?? null
    const replaced = (await Promise.all(replaces.map((t) => this.#place(t)))).filter(
      (p): p is Place => p !== null,
    )
    // A KV session moving as it is: its object is decided by the KV id (the user's, or the
    // shard the id's hash picks), so parallel first requests all reach one object, which
    // refuses every move of the id but the first.
    const moving = write.movingAsIs ?? null
    const kvToken = moving !== null && this.#migration?.isKvToken(moving) ? moving : null
    const kvHash = kvToken === null ? null : await sha256Hex(kvToken)
    // A logged-in session goes to its user's object, an anonymous one to a random shard;
    // but a cycled anonymous session stays in its shard, so that the session it replaces
    // is moved in the insert's own stretch, at no extra call.
    const shard = user === null ? this.#sameShard(replaced) : null
    const anonymous =
      kvHash === null ? randomShard(this.#o.shards) : hashShard(kvHash, this.#o.shards)
    const objectId =
      shard?.stub.id ??
      this.#ns.idFromName(user !== null ? userObjectName(user) : `anon:${anonymous}`)
    const object = objectId.toString()
    const stub = shard?.stub ?? this.#ns.get(objectId)
    const id = generateSessionId()
    const hash = await sha256Hex(id)
    const device = this.#device(request, user)
    const row: SessionRow = {
      hash,
      handle: toBase64Url(crypto.getRandomValues(new Uint8Array(16))),
      user,
      record: serialized,
      created_at: record.createdAt ?? now,
      last_seen_at: now,
      expires_at: record.expiresAt,
      ...device,
    }
    // The sessions this one replaces must still be alive. Where they share its object they
    // move in the insert's stretch (the new row built from the old one as it is now);
    // elsewhere each is taken out of its object after the insert, and writes that landed
    // on it since this request loaded it are merged into the new row.
    const keys = write.changes
    const here = replaced.filter((p) => p.object === object)
    const elsewhere = replaced.filter((p) => p.object !== object)
    const result = await stub.create(
      row,
      {
        from: here.map((p) => p.hash),
        changes: here.length > 0 ? keys : null,
        lifetime,
        maxPayloadBytes,
        maxSessions: this.#o.maxSessions,
        fromKv: kvHash === null ? null : kvMoveKey(kvHash),
      },
      now,
      this.#recording(write.events, request, write.knownDevice),
    )
    if (result.status === 'moved' && kvToken !== null) return this.#movedAlready(kvToken, write)
    const { events, ...created } = settle(result, maxPayloadBytes)
    let settled = created
    for (const p of elsewhere) {
      const taken = await p.stub.take(p.hash, now)
      if (taken === null) {
        await stub.destroy(hash, this.#recording([], request, null))
        throw interrupted()
      }
      if (keys !== null) {
        const rebased = await rebase(
          stub,
          hash,
          taken,
          write,
          keys,
          this.#recording([], request, null),
        )
        if (rebased !== null) settled = { expiry: rebased.expiry, expiresAt: rebased.expiresAt }
      }
    }
    // Every replaced session of this store moved here (forwards, or taken); a KV session
    // moving as it is leaves a forward to the new token; one that did not (a login in the
    // same request) is destroyed by the core, as a logout.
    const newToken = `${id}.${object}`
    const moved = replaces.filter((t) => TOKEN.test(t))
    if (kvToken !== null && (await this.#forwardKv(kvToken, newToken, now))) moved.push(kvToken)
    return { token: newToken, ...settled, moved, events }
  }

  /** Leaves the KV id `kvToken` as a forward to `to`; `false` (logged) when KV refused the write. */
  async #forwardKv(kvToken: string, to: string, now: number): Promise<boolean> {
    try {
      await this.#migration?.forward(kvToken, to, now)
      return true
    } catch (error) {
      // The core then destroys the KV id as a logout: this response still sets the new cookie.
      logFailure('session.kv_forward_failed', error)
      return false
    }
  }

  /**
   * A move of `kvToken` another request made first (parallel first requests after the
   * switch): this request's changes go to the moved session, whose cookie it answers, once
   * that request left its forward; until then `SESSION_INTERRUPTED`, and nothing written.
   */
  async #movedAlready(kvToken: string, write: SessionWrite): Promise<SaveResult> {
    const to = await this.#migration?.forwardOf(kvToken, write.now)
    if (to === null || to === undefined) throw interrupted()
    const saved = await this.#update(to, write)
    return { ...saved, moved: [kvToken] }
  }

  /** The token a KV id's session moved to (`SESSION_INTERRUPTED` when none); any other token as is. */
  async #forwarded(token: string, now: number): Promise<string> {
    if (!this.#migration?.isKvToken(token)) return token
    const to = await this.#migration.forwardOf(token, now)
    if (to === null) throw interrupted()
    return to
  }

  /** What a call records in the trail: the request's events, located when locations are recorded. */
  #recording(
    events: readonly SessionEvent[],
    request: Request,
    knownDevice: string | null,
  ): Recording {
    const location = this.#o.recordLocation ? describeLocation(cfOf(request)) : null
    return {
      events: events.map((event) =>
        event.location === null && location !== null ? { ...event, location } : event,
      ),
      knownDevice,
      retention: this.#o.retention,
      throttle: this.#o.throttle,
    }
  }

  async #update(token: string, write: SessionWrite): Promise<SaveResult> {
    const place = await this.#place(token)
    if (place === null) throw interrupted()
    const result = await place.stub.update(
      place.hash,
      updateOf(write, write.serialized, write.changes),
      this.#recording(write.events, write.request, write.knownDevice),
    )
    return { token, ...settle(result, write.maxPayloadBytes), moved: [] }
  }

  /** The one anonymous shard all of `replaced` live in, or `null` (none, several, or a user's object). */
  #sameShard(replaced: readonly Place[]): Place | null {
    const first = replaced[0]
    if (first === undefined || replaced.some((p) => p.object !== first.object)) return null
    this.#anonymousObjects ??= new Set(
      Array.from({ length: this.#o.shards }, (_, n) => this.#ns.idFromName(`anon:${n}`).toString()),
    )
    return this.#anonymousObjects.has(first.object) ? first : null
  }

  /** The device columns of a new row of `user`'s (locations only for a logged-in session, when recorded). */
  #device(
    request: Request,
    user: string | null,
  ): Pick<SessionRow, 'user_agent' | 'country' | 'colo' | 'device' | 'region' | 'city'> {
    const agent = request.headers.get('User-Agent')
    const cf = cfOf(request)
    const location = this.#o.recordLocation && user !== null && cf !== undefined
    const text = (value: unknown): string | null =>
      location && typeof value === 'string' ? value : null
    const where = location ? describeLocation(cf) : null
    return {
      user_agent: agent === null ? null : agent.slice(0, MAX_USER_AGENT),
      device: JSON.stringify(describeDevice(request.headers)),
      country: where?.country ?? null,
      region: where?.region ?? null,
      city: where?.city ?? null,
      colo: text(cf?.['colo']),
    }
  }

  async destroy(token: string, context: DestroyContext): Promise<readonly SessionEvent[]> {
    if (this.#migration?.isKvToken(token)) {
      // A logout in flight with a KV id that moved ends the moved session too.
      const to = await this.#migration.forwardOf(token, context.now)
      if (to === null) return this.#migration.destroy(token, context)
      const events = await this.destroy(to, context)
      await this.#migration.destroy(token, { ...context, events: [] })
      return events
    }
    const place = await this.#place(token)
    if (place === null) return []
    const recording = this.#recording(context.events, context.request, null)
    return (await place.stub.destroy(place.hash, recording)).events
  }

  /** Emptied key by key: an update that removes the row only if nothing is left once merged. */
  async empty(token: string, write: SessionWrite): Promise<EmptyResult> {
    if (this.#migration?.isKvToken(token)) {
      const to = await this.#migration.forwardOf(token, write.now)
      if (to !== null) return this.empty(to, write)
      await this.#migration.destroy(token, { ...write, events: [] })
      return 'ended'
    }
    const place = await this.#place(token)
    if (place === null) return 'ended'
    const update = updateOf(write, write.serialized, write.changes)
    const result = await place.stub.empty(place.hash, update)
    return result.status === 'ok' ? 'kept' : 'ended'
  }

  /** One call to the user's object: the failure recorded and counted, or `LOGIN_THROTTLED` while a lock holds. */
  async loginFailed(
    event: Extract<SessionEvent, { type: 'login-failed' }>,
    { request }: StoreContext,
  ): Promise<readonly SessionEvent[]> {
    const recording = this.#recording([event], request, null)
    const { events, retryAfter } = await this.#userStub(event.user).loginFailed(recording)
    if (retryAfter !== null) throw loginThrottled(retryAfter)
    return events
  }

  // ----- the registry -----------------------------------------------------------

  #userObject(user: string): DurableObjectId {
    return this.#ns.idFromName(userObjectName(user))
  }

  #userStub(user: string): DurableObjectStub<SessionObject> {
    return this.#ns.get(this.#userObject(user))
  }

  /** The hash of `token` when it lives in `user`'s object, else `null`. */
  async #ownHash(user: string, token: string | null): Promise<string | null> {
    if (token === null) return null
    const place = await this.#place(token)
    return place !== null && place.object === this.#userObject(user).toString() ? place.hash : null
  }

  async list(
    user: string,
    token: string | null,
    { now, authHash, limit, after }: RegistryContext,
  ): Promise<SessionInfo[]> {
    const [rows, current] = await Promise.all([
      this.#userStub(user).list(user, now, authHash, limit, after),
      this.#ownHash(user, token),
    ])
    return rows.map((row) => toSessionInfo(row, row.hash === current))
  }

  /** Hands the upgrade to the user's object, naming the session by its hash; `null` unless it holds that session live. */
  async #accept(
    token: string,
    user: string,
    request: Request,
    until: number | null,
  ): Promise<Response | null> {
    const place = await this.#place(
      this.#migration?.isKvToken(token)
        ? ((await this.#migration.forwardOf(token, Date.now())) ?? '')
        : token,
    )
    if (place === null || place.object !== this.#userObject(user).toString()) return null
    const headers: Record<string, string> = {
      Upgrade: 'websocket',
      [SESSION_HASH_HEADER]: place.hash,
      [MAX_SOCKETS_HEADER]: String(this.#o.maxSockets),
    }
    if (until !== null) headers[SOCKET_UNTIL_HEADER] = String(until)
    const response = await place.stub.fetch(new Request(request.url, { headers }))
    if (response.status === 429)
      throw new SessionError(
        'TOO_MANY_SOCKETS',
        `acceptWebSocket(): this session already holds ${this.#o.maxSockets} open WebSockets (maxSocketsPerSession)`,
      )
    // Re-made: a stub's response has immutable headers, and the app's middleware may add some.
    return response.status === 101 && response.webSocket !== null
      ? new Response(null, { status: 101, webSocket: response.webSocket })
      : null
  }

  async count(user: string, { now }: StoreContext): Promise<number> {
    return this.#userStub(user).countSessions(user, now)
  }

  async revoke(
    user: string,
    handle: string,
    token: string | null,
    { now }: StoreContext,
  ): Promise<{ revoked: boolean; current: boolean; events: readonly SessionEvent[] }> {
    const own = await this.#ownHash(user, token)
    const { hashes, events } = await this.#userStub(user).revoke(
      user,
      handle,
      this.#acting(user, own, now),
    )
    return { revoked: hashes.length > 0, current: own !== null && hashes.includes(own), events }
  }

  async revokeAll(
    user: string,
    keep: string | null,
    token: string | null,
    { now }: StoreContext,
  ): Promise<{ count: number; events: readonly SessionEvent[] }> {
    const [kept, own] = await Promise.all([this.#ownHash(user, keep), this.#ownHash(user, token)])
    return this.#userStub(user).revokeAll(user, kept, this.#acting(user, own, now))
  }

  /** The user acting from their session `actingHash`. */
  #acting(user: string, actingHash: string | null, now: number): Acting {
    return { by: 'user', actor: user, actingHash, now, retention: this.#o.retention }
  }

  async securityEvents(user: string, { now, limit, after }: TrailContext): Promise<SessionEvent[]> {
    return this.#userStub(user).securityEvents(user, now, limit, after)
  }
}

/** The shard a KV id moves to when anonymous: the same for every request carrying it. */
function hashShard(hash: string, shards: number): number {
  return Number.parseInt(hash.slice(0, 8), 16) % shards
}

/** The key under which a session's object remembers that a KV id (by its hash) moved there. */
function kvMoveKey(hash: string): string {
  return `kv:${hash}`
}

/** What a load answers when the session ended and there is nothing to go back to: expired, with the events recorded. */
function loggedOut(now: number, events: readonly SessionEvent[]): LoadedRecord {
  return { data: {}, expiry: null, expiresAt: 0, createdAt: now, auth: null, events }
}

/** The headers `describeDevice()` reads, for the object to describe the device when it records a reuse. */
const DEVICE_HEADERS = [
  'User-Agent',
  'Sec-CH-UA',
  'Sec-CH-UA-Full-Version-List',
  'Sec-CH-UA-Platform',
  'Sec-CH-UA-Platform-Version',
  'Sec-CH-UA-Mobile',
  'Sec-CH-UA-Model',
] as const

/** The request's device headers, each at most 1 KiB (a rotating load sends them to the object). */
function deviceHeaders(request: Request): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const name of DEVICE_HEADERS) {
    const value = request.headers.get(name)
    if (value !== null) headers[name] = value.slice(0, 1024)
  }
  return headers
}

/** A shard number in `[0, shards)`, uniformly. */
function randomShard(shards: number): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]! % shards
}
