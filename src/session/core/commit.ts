/**
 * @module
 * The end of the request, as Django's `SessionMiddleware.process_response`: the facts of
 * the session and the response go to {@link decide}, and the action it returns is run
 * here, store work first, then the cookies and headers, so a failure leaves no
 * `Set-Cookie`.
 */
import { deleteCookie, readRawCookie, setCookie, type CookieOptions } from '../cookies/helpers.js'
import { MAX_COOKIE_AGE } from '../foundation/cookie-grammar.js'
import { SessionError } from '../foundation/errors.js'
import { generateSessionId, isSessionId, sha256Hex } from '../foundation/id.js'
import { logFailure } from '../foundation/log.js'
import { encodeRecord } from '../stores/record.js'
import type { EmptyResult, SaveResult, SessionRecord, SessionWrite } from '../stores/types.js'
import { privateCache, vary } from './cache-headers.js'
import { type CommitAction, type CommitFacts, decide } from './decide.js'
import { destroyTokens } from './destroy.js'
import { expiresAtBrowserClose, expiryAge, rollingDue } from './expiry.js'
import type { ResolvedSessionOptions } from './options.js'
import { TEST_COOKIE_VALUE } from './session.js'
import type { SessionState } from './state.js'

/** A header write, deferred until every store operation has succeeded. */
type Deferred = () => void

/**
 * Persists the session and writes its cookies. Throws `SessionError` (`STORE_UNAVAILABLE`,
 * `PAYLOAD_TOO_LARGE`, or a store's own) with no header written.
 *
 * Returns `undefined` when there is no store work, having done everything at once: an
 * anonymous read, the common case, then costs the middleware no promise to await.
 */
export function commit(state: SessionState): Promise<void> | undefined {
  // Only a session whose data was used is committed; reading the test cookie is not
  // using the session, so it costs no store operation.
  state.readCookie()
  // A protocol switch (an accepted WebSocket) carries no cookie, and its headers are not ours to change.
  if (state.c.res.status === 101) return undefined
  if (needsStore(state)) return commitWithStore(state)
  const testCookie = testCookieWrite(state)
  if (state.accessed) vary(state.c)
  testCookie?.()
  return undefined
}

/** Whether `saveEveryRequest` makes the commit load a session the handler never used. */
const mustLoad = (state: SessionState): boolean =>
  state.options.saveEveryRequest && !state.loadStarted && state.token !== null

/** Whether the end of the request must read, save or destroy anything in the store. */
function needsStore(state: SessionState): boolean {
  if (mustLoad(state)) return true
  // A session never stored, not changed, and no cookie sent: nothing to save or delete.
  const untouched =
    state.token === null &&
    !state.modified &&
    state.retired.length === 0 &&
    state.sentCookie === undefined
  return state.loadStarted && !state.unavailable && !state.interrupted && !untouched
}

/** {@link commit} with store work: every store operation first, then every header. */
async function commitWithStore(state: SessionState): Promise<void> {
  const cookies: Deferred[] = []
  const testCookie = testCookieWrite(state)
  if (testCookie !== null) cookies.push(testCookie)
  await state.read()
  if (state.accessed) vary(state.c)
  const session = await run(state, decide(facts(state)))
  if (session !== null) cookies.push(session)
  for (const write of cookies) write()
}

/** The session cookie's attributes, from the options. */
export function cookieOptions(o: ResolvedSessionOptions): CookieOptions {
  const options: CookieOptions = {
    path: o.path,
    httpOnly: o.httpOnly,
    sameSite: o.sameSite,
    secure: o.secure,
  }
  if (o.domain !== undefined) options.domain = o.domain
  if (o.partitioned) options.partitioned = true
  return options
}

/** The test cookie's write, if `setTestCookie()` or `deleteTestCookie()` asked for one. */
function testCookieWrite(state: SessionState): Deferred | null {
  const { c, options } = state
  if (state.testCookie === 'set' && c.res.status < 500) {
    return () => setCookie(c, options.testCookieName, TEST_COOKIE_VALUE, cookieOptions(options))
  }
  if (
    state.testCookie === 'delete' &&
    readRawCookie(c.req.raw.headers.get('Cookie'), options.testCookieName) !== undefined
  ) {
    return () => deleteCookie(c, options.testCookieName, cookieOptions(options))
  }
  return null
}

/** The facts {@link decide} needs, read from the loaded session and the response. */
function facts(state: SessionState): CommitFacts {
  const { c, options: o } = state
  const now = state.now()
  return {
    token: state.token,
    retired: state.retired,
    modified: state.modified,
    frozen: state.frozen,
    skipped: state.skipped,
    empty: state.isEmpty(),
    age: expiryAge(state.expiry, o, now, state.createdAt ?? now),
    // A SessionError from the handler: the library refused part of the request (e.g. a
    // value too large), so what it had changed before is not saved either, whatever status
    // the app's error handler answered with.
    failed: c.res.status >= 500 || c.error instanceof SessionError,
    rollingDue:
      state.loadedExpiresAt !== null && rollingDue(state.expiry, o, now, state.loadedExpiresAt),
    saveEveryRequest: o.saveEveryRequest,
    keyByKey: state.changes.kind !== 'whole',
    cookieSent: state.sentCookie !== undefined,
    offerDevice: o.deviceBound !== null && state.auth !== null && state.device === null,
    reissued: state.reissued,
  }
}

/** Runs `action` against the store; resolves the session cookie's write, if any. */
async function run(state: SessionState, action: CommitAction): Promise<Deferred | null> {
  switch (action.kind) {
    case 'nothing':
      return null
    case 'destroy':
      await destroyTokens(state, state.takeTokensToEnd())
      return action.deleteCookie ? removeCookie(state) : null
    case 'empty': {
      const result = await empty(state, action.token)
      if (result === 'kept') return null
      if (result === 'ended') state.ended()
      else await destroyTokens(state, state.takeTokensToEnd())
      return action.deleteCookie ? removeCookie(state) : null
    }
    case 'save':
    case 'save-new':
      return save(state, action)
    case 'reissue':
      return sessionCookie(state, action.token, state.expiry, state.loadedExpiresAt ?? state.now())
  }
}

/** The deletion of the session cookie. */
function removeCookie(state: SessionState): Deferred {
  const o = state.options
  return () => deleteCookie(state.c, o.cookieName, cookieOptions(o))
}

/** What the store is given to write `record` (`knownDevice`: the hash of the browser's known-device cookie). */
function storeWrite(
  state: SessionState,
  record: SessionRecord,
  knownDevice: string | null = null,
): SessionWrite {
  const o = state.options
  return {
    ...state.context(),
    record,
    serialized: encodeRecord(record, o.maxPayloadBytes),
    changes: state.keyChanges(),
    replaces: [...state.retired],
    movingAsIs: state.movingAsIs,
    maxPayloadBytes: o.maxPayloadBytes,
    lifetime: { maxAge: o.maxAge, absoluteMaxAge: o.absoluteMaxAge },
    events: state.pendingEvents,
    knownDevice,
  }
}

/**
 * Ends a session the request emptied key by key: the store's `empty()` when it merges
 * (it may keep a session a concurrent request wrote to), else `destroy()`. A store
 * failure is logged and answered `'failed'`, for the caller to destroy (and retry) instead.
 */
async function empty(state: SessionState, token: string): Promise<EmptyResult | 'failed'> {
  const store = state.store()
  const now = state.now()
  const createdAt = state.createdAt ?? now
  try {
    if (store.empty === undefined) {
      state.noteEvents(await store.destroy(token, { ...state.context(), events: [] }))
      return 'ended'
    }
    // Kept by a merge, the session lives on as saved now (its stored expiry stays, if any).
    const expiresAt = now + expiryAge(null, state.options, now, createdAt) * 1000
    const write = storeWrite(state, {
      data: await state.read(),
      expiry: null,
      expiresAt,
      createdAt,
      auth: null,
    })
    return await store.empty(token, write)
  } catch (cause) {
    logFailure('session.store_delete_failed', cause)
    return 'failed'
  }
}

/**
 * Saves the session under its token (`save`) or a new key (`save-new`, ending the keys it
 * replaces once it is written); resolves the cookie carrying its token, the device
 * binding's offer with it.
 */
async function save(
  state: SessionState,
  action: Extract<CommitAction, { kind: 'save' | 'save-new' }>,
): Promise<Deferred> {
  const token = action.kind === 'save' ? action.token : null
  const o = state.options
  const now = state.now()
  const createdAt = state.createdAt ?? now
  const age = expiryAge(state.expiry, o, now, createdAt)
  // A logged-in session gets its device binding here, when the option is on (login()).
  const binding = o.deviceBound
  const offered = action.offer && binding !== null ? binding.newDevice() : null
  if (offered !== null) state.setDevice(offered)
  // The offer is signed before anything is written, so a failure leaves nothing behind.
  const offerWrite =
    binding !== null && offered !== null ? await binding.offer(state, offered) : null
  const record: SessionRecord = {
    data: await state.read(),
    expiry: state.expiry,
    expiresAt: now + age * 1000,
    createdAt,
    auth: state.auth,
  }
  if (state.device !== null) record.device = state.device
  const device = await knownDevice(state)
  const write = storeWrite(state, record, device?.hash ?? null)
  let saved: SaveResult
  try {
    saved = await state.store().save(token, write)
  } catch (cause) {
    // A store's own typed error (e.g. a cookie store's size limit) passes through.
    if (cause instanceof SessionError) throw cause
    const message = 'The session could not be saved; try again shortly.'
    throw new SessionError('STORE_UNAVAILABLE', message, { cause })
  }
  const replaced = state.saved(saved.token, createdAt, saved.events)
  await destroyTokens(
    state,
    replaced.filter((old) => !saved.moved.includes(old.token)),
  )

  // The expiry the store kept: a merging store may have kept one a concurrent request set.
  const cookie = sessionCookie(state, saved.token, saved.expiry, saved.expiresAt)
  return () => {
    cookie()
    device?.write()
    offerWrite?.()
  }
}

/** The session cookie carrying `token`, for a session with `expiry` that ends at `expiresAt`. */
function sessionCookie(
  state: SessionState,
  token: string,
  expiry: SessionRecord['expiry'],
  expiresAt: number,
): Deferred {
  const { c, options: o } = state
  const now = state.now()
  const options = cookieOptions(o)
  if (!expiresAtBrowserClose(expiry, o)) {
    options.maxAge = Math.max(0, Math.floor((expiresAt - now) / 1000))
    options.now = now // Expires from the session's clock, as the record's expiresAt
  }
  return () => {
    setCookie(c, o.cookieName, token, options)
    privateCache(c)
  }
}

/**
 * For a save that logs in: the browser's known-device cookie (`deviceCookie`), a long-lived
 * random id that survives logout, so that a login from a browser never seen before is a
 * new device. Its SHA-256 goes to the store (which may know the user's browsers); the
 * cookie is set (again, for its full life) on the response. A browser without a valid
 * one gets a new id, and its login is `newDevice` to any store.
 */
async function knownDevice(
  state: SessionState,
): Promise<{ hash: string; write: () => void } | null> {
  const name = state.options.deviceCookie
  if (name === null || !state.pendingEvents.some((event) => event.type === 'login')) return null
  const sent = readRawCookie(state.c.req.raw.headers.get('Cookie'), name)
  const known = sent !== undefined && isSessionId(sent)
  const id = known ? sent : generateSessionId()
  state.markNewDevice(!known)
  const options = { ...cookieOptions(state.options), maxAge: MAX_COOKIE_AGE }
  return { hash: await sha256Hex(id), write: () => setCookie(state.c, name, id, options) }
}
