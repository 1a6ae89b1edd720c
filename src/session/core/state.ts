/**
 * @module
 * One request's session state, shared by the `Session` view and the end-of-request
 * commit. It keeps its own rules: every field is private, every change is a named
 * transition (load, set, remove, empty, flush, move to a new key, log in, bind a device,
 * settle a save), and other modules read it through getters. Internal: not exported from
 * the package.
 */
import type { Context } from 'hono'
import { readRawCookie } from '../cookies/helpers.js'
import { describeDevice } from '../foundation/device.js'
import { SessionError } from '../foundation/errors.js'
import { logFailure } from '../foundation/log.js'
import type { SessionEvent } from '../stores/events.js'
import { entrySize, isEmptyRecord } from '../stores/record.js'
import type {
  ExpirySetting,
  KeyChanges,
  LoadedRecord,
  SessionAuth,
  SessionData,
  SessionDevice,
  SessionRecord,
  SessionStore,
  StoreContext,
} from '../stores/types.js'
import { authHashMatches } from './auth-hash.js'
import { absoluteEnd, legacyCreatedAt } from './expiry.js'
import type { ResolvedSessionOptions } from './options.js'

/**
 * What this request changed in the data since the load: nothing yet; these keys (set and
 * removed, by name: the values are in the data); or the data whole (a new session,
 * `clear()`, `markModified()`), which a merging store then replaces rather than merges.
 */
export type DataChanges =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'keys'
      readonly set: ReadonlySet<string>
      readonly deleted: ReadonlySet<string>
    }
  | { readonly kind: 'whole' }

/** What the test cookie does at the end of the request, if anything. */
export type TestCookieAction = 'set' | 'delete' | null

/** A key the session leaves, and the event its end records (a logout), if any. */
export interface Leaving {
  readonly token: string
  readonly event: SessionEvent | null
}

/** The events a request's own transitions make, before a store records them. */
type OwnEvent = Extract<
  SessionEvent,
  { type: 'login' | 'logout' | 'reauthenticated' | 'device-bound' | 'revoked' }
>

/** {@link DataChanges} as the state keeps it: its key sets grow in place, never copied per `set()`. */
type OwnChanges =
  | { readonly kind: 'none' }
  | { readonly kind: 'keys'; readonly set: Set<string>; readonly deleted: Set<string> }
  | { readonly kind: 'whole' }

/** The fields every event carries. */
type EventBase = Pick<
  SessionEvent,
  'id' | 'at' | 'user' | 'handle' | 'device' | 'location' | 'actor'
>

const NO_CHANGES: OwnChanges = { kind: 'none' }
const WHOLE: OwnChanges = { kind: 'whole' }

/** The `loading` of a session that needed no store read (no cookie, or not a token). */
const LOADED: Promise<void> = Promise.resolve()

/** A new, empty, null-prototype data object. */
export const emptyData = (): SessionData => Object.create(null) as SessionData

/**
 * The state behind one request's `Session`. Everything is lazy: an untouched request
 * never reads the cookie, the clock or the store.
 */
export class SessionState {
  readonly options: ResolvedSessionOptions
  readonly c: Context
  /** The clock, read once per request at first use. */
  #nowMs: number | undefined
  #store: SessionStore | undefined
  /** Whether the request's session cookie has been read. */
  #cookieRead = false
  /** The raw session cookie the client sent, if any (valid or not). */
  #sentCookie: string | undefined
  /** The token the session is stored under now; `null` = none (new, flushed, moving to a new key, or not adopted). */
  #token: string | null = null
  /** The data, once loaded (or emptied). */
  #data: SessionData | null = null
  /** The load in progress or done; `null` until the session is first used. */
  #loading: Promise<void> | null = null
  #expiry: ExpirySetting = null
  /** Whether `setExpiry()` changed the expiry (a merging store keeps the stored one otherwise). */
  #expiryChanged = false
  /**
   * Whether `#retired[0]` is this session moving on to a new key with its data
   * ({@link moveToNewKey}), so this request's changes apply to it; a key retired by logout
   * or a failed check is not, and a new session replaces it whole.
   */
  #carriesOn = false
  /** When the session was created (`null` until a new one is first saved). */
  #createdAt: number | null = null
  #auth: SessionAuth | null = null
  /** The operator acting as the user, when the session is an impersonation. */
  #impersonator: string | null = null
  #device: SessionDevice | null = null
  /** The commit leaves the session and its cookie alone unless it is changed ({@link freeze}). */
  #frozen = false
  /** A bound session whose refresh Chrome skipped: the commit writes nothing at all. */
  #skipped = false
  /** When the bound cookie the request carried expires (ms), for a bound session; else `null`. */
  #boundUntil: number | null = null
  /** `expiresAt` of the record as loaded, for sliding expiry. */
  #loadedExpiresAt: number | null = null
  #changes: OwnChanges = NO_CHANGES
  /** Approximate serialised size of each key (measured at the first `set()`). */
  #sizes: Map<string, number> | null = null
  /** The sum of `#sizes`, kept as they change, so a `set()` costs the same however many keys there are. */
  #total = 0
  /** Keys whose records must end once the new state is safely written, each with its event. */
  #retired: Leaving[] = []
  /**
   * The token of a session the store asked to move to a new key (a load marked `rekey`),
   * while it moves as it is: `null` once the request asks for a new key (`cycleKey()`,
   * `login()`) or empties the session, which must not be forwarded to.
   */
  #movingAsIs: string | null = null
  /** Events of this request for the next save to record (a login, a re-authentication, a device key). */
  #pending: SessionEvent[] = []
  /** Events the store recorded during this request, for the app's `onEvent` hook. */
  #recorded: SessionEvent[] = []
  #accessed = false
  #modified = false
  #unavailable = false
  /** The store rotated the session's id at the load: the response's cookie carries the new token. */
  #reissued = false
  /** Why the store says the cookie's session ended (a rotated id reused), or `null`. */
  #endedBy: 'reused' | null = null
  /** The store said the session moved to a new key meanwhile: writes are refused with this. */
  #interrupted: SessionError | null = null
  #testCookie: TestCookieAction = null

  constructor(options: ResolvedSessionOptions, c: Context) {
    this.options = options
    this.c = c
  }

  // ----- what the rest of the core reads ------------------------------------------

  /** The token the session is stored under now, or `null`. */
  get token(): string | null {
    return this.#token
  }
  /** The raw session cookie the client sent ({@link readCookie} first). */
  get sentCookie(): string | undefined {
    return this.#sentCookie
  }
  /** The user binding, or `null`. */
  get auth(): SessionAuth | null {
    return this.#auth
  }
  /** The operator acting as the user (an impersonation), or `null`. */
  get impersonator(): string | null {
    return this.#impersonator
  }
  /** The device binding, or `null`. */
  get device(): SessionDevice | null {
    return this.#device
  }
  /** The custom expiry, or `null` for the default. */
  get expiry(): ExpirySetting {
    return this.#expiry
  }
  /** When the session was created, or `null` for one not saved yet. */
  get createdAt(): number | null {
    return this.#createdAt
  }
  /** `expiresAt` of the record as loaded, or `null`. */
  get loadedExpiresAt(): number | null {
    return this.#loadedExpiresAt
  }
  /** Whether the handler used the session. */
  get accessed(): boolean {
    return this.#accessed
  }
  /** Whether the session is to be saved. */
  get modified(): boolean {
    return this.#modified
  }
  /** Whether the store could not be read (writes are refused; the cookie is kept). */
  get unavailable(): boolean {
    return this.#unavailable
  }
  /** Whether the store said the session moved meanwhile (writes are refused; the cookie is kept). */
  get interrupted(): boolean {
    return this.#interrupted !== null
  }
  /** Why the store says the cookie's session ended, or `null`. */
  get endedBy(): 'reused' | null {
    return this.#endedBy
  }
  /** Whether the store gave the session a new token at the load (rotation): the cookie must carry it. */
  get reissued(): boolean {
    return this.#reissued
  }
  /** Whether the request came without its bound session's cookie because Chrome skipped the refresh: nothing is saved. */
  get skipped(): boolean {
    return this.#skipped
  }
  /** When the bound cookie of a bound session expires (ms), or `null` (not bound). */
  get boundUntil(): number | null {
    return this.#boundUntil
  }
  /** Whether the commit leaves the session and its cookie alone unless it changed. */
  get frozen(): boolean {
    return this.#frozen
  }
  /** Whether the session's load has started (it was used). */
  get loadStarted(): boolean {
    return this.#loading !== null
  }
  /** The token this session moves from as it is ({@link LoadedRecord.rekey}, no new key asked for), or `null`. */
  get movingAsIs(): string | null {
    return this.#movingAsIs
  }
  /** Tokens to end once the session is saved (or with it, when it ends). */
  get retired(): readonly string[] {
    return this.#retired.map((leaving) => leaving.token)
  }
  /** Events of this request the next save records. */
  get pendingEvents(): readonly SessionEvent[] {
    return this.#pending
  }
  /** What the data changed since the load. */
  get changes(): DataChanges {
    return this.#changes
  }
  /** What the test cookie does at the end of the request. */
  get testCookie(): TestCookieAction {
    return this.#testCookie
  }
  /** Whether the end of the request has anything to do (untouched requests skip it; events are reported). */
  get pending(): boolean {
    return (
      this.#accessed ||
      this.#testCookie !== null ||
      this.options.saveEveryRequest ||
      this.#recorded.length > 0
    )
  }

  /** This request's clock reading, in ms, fixed at first use. */
  now(): number {
    this.#nowMs ??= this.options.now()
    return this.#nowMs
  }

  /** The request's store, resolved once. */
  store(): SessionStore {
    this.#store ??= this.options.store(this.c)
    return this.#store
  }

  /** What stores are told about this request. */
  context(): StoreContext {
    return { now: this.now(), request: this.c.req.raw, cookieName: this.options.cookieName }
  }

  /**
   * This request's own session: its token, or, once it moves to a new key (saved at the
   * end of the request), the token it is leaving. A request retires at most one token of
   * its own, since retiring clears the token.
   */
  ownToken(): string | null {
    return this.#token ?? this.#retired[0]?.token ?? null
  }

  /**
   * This request's changes in the form stores take (to the session it loaded, kept under
   * its key or moving to a new one), or `null` for a whole replacement.
   */
  keyChanges(): KeyChanges | null {
    const changes = this.#changes
    if (changes.kind === 'whole' || (this.#token === null && !this.#carriesOn)) return null
    return changes.kind === 'keys'
      ? { set: [...changes.set], deleted: [...changes.deleted], expiry: this.#expiryChanged }
      : { set: [], deleted: [], expiry: this.#expiryChanged }
  }

  // ----- loading ---------------------------------------------------------------------

  /** Reads the session cookie once; only a value of the store's exact token format is kept. */
  readCookie(): void {
    if (this.#cookieRead) return
    this.#cookieRead = true
    const sent = readRawCookie(this.c.req.raw.headers.get('Cookie'), this.options.cookieName)
    this.#sentCookie = sent
    this.#token = sent !== undefined && this.store().isValidToken(sent) ? sent : null
  }

  /**
   * The data if it is loaded already (marking the session accessed), else `null`, so the
   * `Session` methods can skip a promise per call: a loop of `get()`s pays one, not each.
   */
  peek(): SessionData | null {
    if (this.#data === null && this.#loading === null) this.#loadWithoutStore()
    if (this.#data === null) return null
    this.#accessed = true
    return this.#data
  }

  /** As {@link peek}, and `null` too when writes are refused, for {@link write} to say why. */
  peekWritable(): SessionData | null {
    return this.#unavailable || this.#interrupted !== null ? null : this.peek()
  }

  /** The data, loaded once; marks the session accessed. */
  async read(): Promise<SessionData> {
    this.#accessed = true
    if (this.#data === null) {
      if (this.#loading === null) this.#loadWithoutStore()
      if (this.#data === null) {
        this.#loading ??= this.#load()
        await this.#loading
      }
    }
    return this.#data as SessionData
  }

  /** The data, refusing to go on if the store could not be read or the session moved. */
  async write(): Promise<SessionData> {
    const data = await this.read()
    if (this.#interrupted !== null) throw this.#interrupted
    if (this.#unavailable) {
      throw new SessionError(
        'STORE_UNAVAILABLE',
        'The session store is unavailable; try again shortly.',
      )
    }
    return data
  }

  /** Marks the session used without reading it (the test cookie's check). */
  markAccessed(): void {
    this.#accessed = true
  }

  /**
   * Loads at once what needs no store: no session cookie, or one that is not a token
   * (the common anonymous request) is an empty session, with no promise chain.
   */
  #loadWithoutStore(): void {
    this.readCookie()
    if (this.#token !== null) return
    this.#data = emptyData()
    this.#loading = LOADED
  }

  async #load(): Promise<void> {
    this.readCookie()
    let token = this.#token
    let record: LoadedRecord | null = null
    if (token !== null) {
      try {
        record = await this.#loadRecord(token)
      } catch (cause) {
        // Go on without a session, the cookie left alone; a session moved meanwhile only refuses writes.
        if (cause instanceof SessionError && cause.code === 'SESSION_INTERRUPTED')
          this.#interrupted = cause
        else logFailure('session.store_read_failed', cause)
        this.#unavailable ||= this.#interrupted === null
      }
    }
    // A bound session without its bound cookie reads as none: nothing destroyed, nothing told.
    const binding = this.options.deviceBound
    if (record?.device?.jwk && !this.#frozen && binding !== null) {
      const admission = await binding.admits(this, record.device)
      if (admission.kind === 'bound') this.#boundUntil = admission.until
      else {
        record = null
        this.#frozen = true
        // Chrome skipped the refresh: nothing this request does is saved, so it never
        // ends or replaces the session (docs/device-bound.md).
        this.#skipped = admission.kind === 'skipped'
      }
    }
    if (record?.events !== undefined) this.noteEvents(record.events)
    if (record?.endedBy !== undefined) this.#endedBy = record.endedBy
    // The store handed the session back under a new key (an impersonation that ended): the
    // cookie carries it from this response on.
    const handedBack = record?.token !== undefined && record.rotated !== true
    if (record?.token !== undefined) this.#token = token = record.token
    // Rotated: the store holds the session under the new token; only the cookie changes.
    if (record?.rotated === true) this.#reissued = true
    if (record?.rekey === true && token !== null) {
      // The store cannot keep the session under this token: it is saved as a new one at the
      // end of the request, and this token goes once that save succeeded (commit.ts).
      this.#retired.push({ token, event: null })
      this.#movingAsIs = token
      this.#token = token = null
    }
    if (record !== null) {
      const verdict = await this.#honours(record)
      // Bound to credentials that changed: the record goes at the end of the request, as
      // Django's get_user() flushes it. An expired one is left to the store's own TTL.
      if (verdict === 'revoked' && token !== null && record.auth !== null) {
        const event = this.#event({ type: 'revoked', by: 'password' } as const, record.auth.user)
        this.#retired.push({ token, event })
      }
      if (verdict !== 'ok') {
        record = null
        this.#movingAsIs = null
      }
    }
    if (this.#data !== null) return // cleared or flushed while loading
    if (record !== null) {
      this.#data = record.data
      this.#expiry = record.expiry
      this.#createdAt = record.createdAt
      this.#auth = record.auth
      this.#impersonator = record.impersonator ?? null
      this.#device = record.device ?? null
      this.#loadedExpiresAt = record.expiresAt
      if (handedBack) this.#modified = true
    } else {
      this.#data = emptyData()
      // Unknown, expired or unreadable: never adopt the id (a store failure keeps it
      // only so that nothing is written under another one).
      if (!this.#unavailable && this.#interrupted === null) this.#token = null
    }
  }

  /**
   * The store's record for `token`: through its rotating load when `rotation` is on (the
   * options checked it can; a reused old id ends the session and reads as expired, with
   * its `session-reused` event).
   */
  #loadRecord(token: string): Promise<LoadedRecord | null> {
    const store = this.store()
    const policy = this.options.rotation
    const rotation = store.rotation
    if (policy === null || rotation?.supported !== true) return store.load(token, this.context())
    return rotation.load(token, this.context(), policy)
  }

  /**
   * Whether a loaded record may be used: not expired, within its absolute lifetime, and
   * (when the app verifies users) bound to the user's current verifier. Fills in the
   * creation time of a record written before records carried one.
   */
  async #honours(record: SessionRecord): Promise<'ok' | 'expired' | 'revoked'> {
    const now = this.now()
    if (record.expiresAt <= now) return 'expired'
    if (record.createdAt === null)
      record.createdAt = legacyCreatedAt(record.expiry, this.options, record.expiresAt)
    const end = absoluteEnd(this.options, record.createdAt)
    if (end !== null && end <= now) return 'expired'
    if (record.auth !== null && !(await authHashMatches(this, record.auth))) return 'revoked'
    return 'ok'
  }

  // ----- the data ----------------------------------------------------------------------

  /** Whether the loaded session holds nothing a session keeps ({@link isEmptyRecord}). */
  isEmpty(): boolean {
    return isEmptyRecord({ data: this.#loaded(), expiry: this.#expiry, auth: this.#auth })
  }

  /** The loaded data: every transition below runs after {@link write}. */
  #loaded(): SessionData {
    if (this.#data === null) throw new Error('edge-session: the session was used before its load')
    return this.#data
  }

  /** Stores `value` under `key`; refuses a session over `maxPayloadBytes`. */
  set(key: string, value: unknown): void {
    const data = this.#loaded()
    const size = entrySize(key, value)
    const sizes = this.#sizes ?? this.#measure(data)
    const total = this.#total - (sizes.get(key) ?? 0) + size
    if (total > this.options.maxPayloadBytes) {
      throw new SessionError(
        'PAYLOAD_TOO_LARGE',
        `The session would be about ${total} bytes; the limit is ${this.options.maxPayloadBytes}.`,
      )
    }
    data[key] = value
    sizes.set(key, size)
    this.#total = total
    this.#recordChange(key, 'set')
    this.#modified = true
  }

  /** Sizes every entry of the loaded data, once, at the first `set()`. */
  #measure(data: SessionData): Map<string, number> {
    const sizes = new Map<string, number>()
    let total = 0
    for (const key of Object.keys(data)) {
      const size = entrySize(key, data[key])
      sizes.set(key, size)
      total += size
    }
    this.#sizes = sizes
    this.#total = total
    return sizes
  }

  /** Notes that `key` was set or deleted (a whole replacement stays whole). */
  #recordChange(key: string, how: 'set' | 'deleted'): void {
    if (this.#changes.kind === 'whole') return
    if (this.#changes.kind === 'none') {
      this.#changes = { kind: 'keys', set: new Set(), deleted: new Set() }
    }
    const { set, deleted } = this.#changes
    if (how === 'set') {
      set.add(key)
      deleted.delete(key)
    } else {
      set.delete(key)
      deleted.add(key)
    }
  }

  /** Removes `key`. */
  remove(key: string): void {
    delete this.#loaded()[key]
    if (this.#sizes !== null) {
      this.#total -= this.#sizes.get(key) ?? 0
      this.#sizes.delete(key)
    }
    this.#recordChange(key, 'deleted')
    this.#modified = true
  }

  /** The data changed in a way no key records (an object changed in place): it is saved whole. */
  markModified(): void {
    this.#modified = true
    this.#changes = WHOLE
  }

  /** Sets the custom expiry; `null` on a session without one changes nothing (Django's KeyError). */
  setExpiry(setting: ExpirySetting): void {
    if (setting === null && this.#expiry === null) return
    this.#expiry = setting
    this.#expiryChanged = true
    this.#modified = true
  }

  /**
   * Empties data, expiry and user binding: a new session from now on, replacing the data
   * whole. A logged-in session also leaves its key behind (logging out is a new session).
   */
  empty(): void {
    if (this.#auth !== null && this.#token !== null) {
      const event = this.#event({ type: 'logout' }, this.#auth.user)
      this.#retired.push({ token: this.#token, event })
      this.#token = null
    }
    this.#movingAsIs = null
    this.#data = emptyData()
    this.#sizes = null
    this.#total = 0
    this.#expiry = null
    this.#createdAt = null
    this.#auth = null
    this.#impersonator = null
    this.#device = null
    this.#changes = WHOLE
    this.#modified = true
  }

  /**
   * Django's `flush()`: empties the session and forgets that the store failed or the
   * session moved (logging out must go on), and resolves every token to end now: the
   * current one and any this request retired. The session has no key after.
   */
  flush(): Leaving[] {
    this.empty()
    this.#unavailable = false
    this.#interrupted = null
    return this.takeTokensToEnd()
  }

  /** The session was revoked in the store by this request: it is forgotten here, and its cookie deleted. */
  forgetRevoked(): void {
    this.#token = null
    this.empty()
    this.#impersonator = null
  }

  // ----- keys and users ----------------------------------------------------------------

  /**
   * Moves the session to a new key with its data (`cycleKey()`): the old key ends once the
   * new one is saved, at the end of the request.
   */
  moveToNewKey(): void {
    this.#movingAsIs = null
    if (this.#token !== null) {
      this.#retired.push({ token: this.#token, event: null })
      this.#carriesOn = true
    }
    this.#token = null
    this.#modified = true
  }

  /**
   * Binds the session to `auth`'s user (`login()`), on a new key: a session bound to
   * another user is emptied first (Django flushes it), the absolute lifetime starts again,
   * and the device binding starts afresh (the commit offers registration).
   */
  logIn(auth: SessionAuth): void {
    if (this.#auth !== null && this.#auth.user !== auth.user) this.empty()
    this.moveToNewKey()
    this.#auth = auth
    this.#createdAt = null
    this.#device = null
    // newDevice is decided at the save, by the known-device cookie (commit.ts) and the store.
    this.#pending.push(this.#event({ type: 'login', newDevice: false }, auth.user))
  }

  /** Binds the session to the user's new verifier (`updateAuthHash()`), on a new key. */
  rebind(auth: SessionAuth): void {
    this.moveToNewKey()
    this.#auth = auth
  }

  /** Records that the user proved who they are again at `auth.at` (`confirmAuthentication()`), on a new key. */
  reauthenticate(auth: SessionAuth): void {
    this.rebind(auth)
    this.#pending.push(this.#event({ type: 'reauthenticated' }, auth.user))
  }

  /**
   * The session became `token`'s, holding `record` (`impersonate()`, `stopImpersonating()`):
   * the data, expiry, user and device are that session's, `impersonator` names the operator
   * acting as its user (`null`: the user's own), and the response's cookie carries `token`.
   * Nothing this request changed before is saved.
   */
  switchTo(token: string, record: SessionRecord, impersonator: string | null): void {
    this.#token = token
    this.#data = record.data
    this.#expiry = record.expiry
    this.#expiryChanged = false
    this.#createdAt = record.createdAt
    this.#auth = record.auth
    this.#impersonator = impersonator
    this.#device = record.device ?? null
    this.#loadedExpiresAt = record.expiresAt
    this.#sizes = null
    this.#total = 0
    this.#changes = NO_CHANGES
    this.#retired = []
    this.#pending = []
    this.#carriesOn = false
    this.#modified = true
  }

  /** Binds the session to `device` (the device binding's refresh, or the commit's offer). */
  setDevice(device: SessionDevice): void {
    this.#device = device
    this.#modified = true
  }

  /** Binds the session to the key a browser just registered (DBSC): `setDevice()`, recorded as `device-bound`. */
  registerDevice(device: SessionDevice): void {
    this.setDevice(device)
    if (this.#auth !== null)
      this.#pending.push(this.#event({ type: 'device-bound' }, this.#auth.user))
  }

  /** A login's events with `newDevice` as the browser's known-device cookie tells it (a store may know better). */
  markNewDevice(newDevice: boolean): void {
    this.#pending = this.#pending.map((event) =>
      event.type === 'login' ? { ...event, newDevice } : event,
    )
  }

  /** Notes events a store recorded in this request, for the app's `onEvent` hook. */
  noteEvents(events: readonly SessionEvent[]): void {
    if (events.length > 0) this.#recorded.push(...events)
  }

  /** Resolves and forgets the events recorded so far (the middleware hands them to `onEvent`). */
  takeEvents(): SessionEvent[] {
    return this.#recorded.splice(0)
  }

  /**
   * An event of this request about `user`'s session: now, from this request's device; the
   * store fills the handle (and the location, when it records locations).
   */
  #event<E extends Omit<OwnEvent, keyof EventBase>>(fields: E, user: string): E & EventBase {
    return {
      ...fields,
      id: null,
      at: this.now(),
      user,
      handle: null,
      device: describeDevice(this.c.req.raw.headers),
      location: null,
      actor: null,
    }
  }

  /** The commit leaves the session and its cookie alone unless the request changes it (a bound session without its bound cookie). */
  freeze(): void {
    this.#frozen = true
  }

  /** Undoes {@link freeze}: the device binding's refresh proved the key. */
  thaw(): void {
    this.#frozen = false
  }

  /** What the test cookie does at the end of the request. */
  setTestCookie(action: 'set' | 'delete'): void {
    this.#testCookie = action
  }

  // ----- the end of the request ----------------------------------------------------------

  /** Resolves every key to end (retired ones and the current one); the session has no key after. */
  takeTokensToEnd(): Leaving[] {
    const tokens = this.#retired.splice(0)
    if (this.#token !== null) tokens.push({ token: this.#token, event: null })
    this.#token = null
    return tokens
  }

  /** The store ended the session under its key (an emptied session): it has no key now. */
  ended(): void {
    this.#token = null
  }

  /**
   * The store saved the session under `token`, created at `createdAt`; resolves the tokens
   * it replaced, which the caller ends unless the store moved them itself.
   */
  saved(token: string, createdAt: number, events: readonly SessionEvent[]): Leaving[] {
    this.#token = token
    this.#createdAt = createdAt
    this.#carriesOn = false
    this.#pending = []
    this.noteEvents(events)
    return this.#retired.splice(0)
  }
}
