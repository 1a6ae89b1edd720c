/**
 * @module
 * The end of the request, as Django's `SessionMiddleware.process_response`: given the
 * session's state and the handler's response, decide what to save and destroy, and
 * which cookies and headers to write. Store work happens before any header is touched,
 * so a failure leaves no `Set-Cookie`.
 */
import type { Context } from 'hono'
import { deleteCookie, readRawCookie, setCookie, type CookieOptions } from '../cookies/helpers.js'
import { SessionError } from '../foundation/errors.js'
import { expiresAtBrowserClose, expiryAge, rollingDue } from './expiry.js'
import type { ResolvedSessionOptions } from './options.js'
import { encodeRecord } from '../stores/record.js'
import { TEST_COOKIE_VALUE } from './session.js'
import { emptyData, warn, type SessionState } from './state.js'
import type { SessionChanges, SessionData, SessionRecord, SessionWrite } from '../stores/types.js'

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
  const testCookie = testCookieWrite(state, state.c.res.status)
  if (state.accessed) vary(state.c)
  testCookie?.()
  return undefined
}

/** Whether `saveEveryRequest` makes the commit load a session the handler never used. */
const mustLoad = (state: SessionState): boolean =>
  state.options.saveEveryRequest && state.loading === null && state.token !== null

/** Whether the end of the request must read, save or destroy anything in the store. */
function needsStore(state: SessionState): boolean {
  if (mustLoad(state)) return true
  // A session never stored, not changed, and no cookie sent: nothing to save or delete.
  const untouched =
    state.token === null &&
    !state.modified &&
    state.retired.length === 0 &&
    state.sentCookie === undefined
  return state.loading !== null && !state.unavailable && state.interrupted === null && !untouched
}

/** {@link commit} with store work: every store operation first, then every header. */
async function commitWithStore(state: SessionState): Promise<void> {
  const { c } = state
  const status = c.res.status
  const cookies: Deferred[] = []

  const testCookie = testCookieWrite(state, status)
  if (testCookie !== null) cookies.push(testCookie)

  if (mustLoad(state)) await state.read()
  if (state.accessed) vary(c)
  const session = await commitSession(state, status)
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
function testCookieWrite(state: SessionState, status: number): Deferred | null {
  const { c, options } = state
  if (state.testCookie === 'set' && status < 500) {
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

/**
 * Whether the request's session changes are dropped: a 5xx, or a handler that threw a
 * `SessionError` (the library refused part of the request, e.g. a value too large for the
 * session: what it had changed before is not saved either, whatever status the app's
 * error handler answered with). Destroys already done (`flush()`) stay done.
 */
const refused = (c: Context, status: number): boolean =>
  status >= 500 || c.error instanceof SessionError

/** Saves or destroys the session; resolves the session cookie's write, if any. */
async function commitSession(state: SessionState, status: number): Promise<Deferred | null> {
  const { c, options: o } = state
  const data = await state.read()
  // A bound session used without its bound cookie: nothing saved, destroyed or deleted.
  if (state.frozen && !state.modified) return null
  const now = state.now()
  // A custom expiry or a bound user alone is not empty (Django keeps both in the data).
  const empty = state.isEmpty(data)
  const createdAt = state.createdAt ?? now
  const age = expiryAge(state.expiry, o, now, createdAt)
  const expired = !empty && age <= 0
  const failed = refused(c, status)

  if (empty || expired) {
    // An emptied (or already expired) session leaves nothing behind: its records go,
    // and the cookie the client sent is deleted. Django keeps an empty record; we do not.
    // A custom expiry alone is not empty (Django keeps it in the data, so saves it).
    // On a 5xx nothing is saved, emptiness included, unless the record is gone already.
    if (failed && (state.token !== null || state.retired.length > 0)) return null
    // Emptied key by key: an update for a store that merges, which keeps the session if a
    // concurrent request wrote to it meanwhile (then the client keeps its cookie).
    if (
      empty &&
      state.token !== null &&
      state.retired.length === 0 &&
      (await emptied(state, data, createdAt)) === 'kept'
    )
      return null
    await state.destroyAll()
    return state.sentCookie !== undefined
      ? () => deleteCookie(c, o.cookieName, cookieOptions(o))
      : null
  }

  const rolling =
    state.token !== null &&
    state.loadedExpiresAt !== null &&
    rollingDue(state.expiry, o, now, state.loadedExpiresAt)
  // A session the store could not keep under its token (`rekey`, now in `retired`) is saved
  // as a new one, which the cookie then carries, before the old token is destroyed.
  if (!(state.modified || o.saveEveryRequest || rolling || state.retired.length > 0) || failed)
    return null

  const record: SessionRecord = {
    data,
    expiry: state.expiry,
    expiresAt: now + age * 1000,
    createdAt,
    auth: state.auth,
  }
  // A logged-in session gets its device binding here, when the option is on (login()).
  const binding = o.deviceBound
  const offered =
    binding !== null && state.auth !== null && state.device === null ? binding.newDevice() : null
  if (offered !== null) state.device = offered
  if (state.device !== null) record.device = state.device
  // The offer is signed before anything is written, so a failure leaves nothing behind.
  const offer = binding !== null && offered !== null ? await binding.offer(state, offered) : null
  const write = storeWrite(state, record)
  let token: string
  try {
    token = await state.store().save(state.token, write)
  } catch (cause) {
    // A store's own typed error (e.g. a cookie store's size limit) passes through.
    if (cause instanceof SessionError) throw cause
    throw new SessionError(
      'STORE_UNAVAILABLE',
      'The session could not be saved; try again shortly.',
      { cause },
    )
  }
  state.token = token
  state.createdAt = createdAt
  const moved = new Set(write.moved)
  await Promise.all(
    state.retired
      .splice(0)
      .filter((old) => !moved.has(old))
      .map((old) => state.destroy(old)),
  )

  // The expiry the store kept: a merging store may have kept one a concurrent request set.
  const options = cookieOptions(o)
  if (!expiresAtBrowserClose(record.expiry, o)) {
    options.maxAge =
      record.expiry === state.expiry
        ? age
        : Math.max(0, Math.floor((record.expiresAt - now) / 1000))
    options.now = now // Expires from the session's clock, as the record's expiresAt
  }
  return () => {
    setCookie(c, o.cookieName, token, options)
    offer?.()
    privateCache(c)
  }
}

/** What the store is given to write `record`. */
function storeWrite(state: SessionState, record: SessionRecord): SessionWrite {
  const o = state.options
  return {
    record,
    serialized: encodeRecord(record, o.maxPayloadBytes),
    changes: storeChanges(state),
    replaces: [...state.retired],
    maxPayloadBytes: o.maxPayloadBytes,
    lifetime: { maxAge: o.maxAge, absoluteMaxAge: o.absoluteMaxAge },
    now: state.now(),
    request: state.c.req.raw,
  }
}

/**
 * This request's changes in the form stores take (to the session it loaded, kept under its
 * key or moving to a new one), or `null` for a whole replacement.
 */
function storeChanges(state: SessionState): SessionChanges | null {
  const { changes } = state
  if (changes === null || (state.token === null && !state.carriesOn)) return null
  return {
    set: changes?.set ?? emptyData(),
    deleted: changes === undefined ? [] : [...changes.deleted],
    expiry: state.expiryChanged,
  }
}

/**
 * Ends a session the request emptied key by key, telling the store what it deleted;
 * resolves `'kept'` when a merging store found it no longer empty. A store failure falls
 * back to {@link SessionState.destroyAll}, which logs and retries the delete.
 */
async function emptied(
  state: SessionState,
  data: SessionData,
  createdAt: number,
  // biome-ignore lint/suspicious/noConfusingVoidType: reshaped by issue 23
): Promise<void | 'kept'> {
  const token = state.token as string
  const now = state.now()
  // Kept by a merge, the session lives on as saved now (its stored expiry stays, if any).
  const write = storeWrite(state, {
    data,
    expiry: null,
    expiresAt: now + expiryAge(null, state.options, now, createdAt) * 1000,
    createdAt,
    auth: null,
  })
  if (write.changes === null) return undefined
  try {
    const result = await state.store().destroy(token, { ...state.context(), emptied: write })
    if (result !== 'kept') state.token = null
    return result
  } catch (cause) {
    warn('session.store_delete_failed', cause)
    return undefined
  }
}

/** Adds `Vary: Cookie`, unless the response already varies on it (or on everything). */
function vary(c: Context): void {
  const current = c.res.headers.get('Vary')
  if (current === null) setHeader(c, 'Vary', 'Cookie')
  else if (!/(^|,)\s*(cookie|\*)\s*(,|$)/i.test(current)) setHeader(c, 'Vary', `${current}, Cookie`)
}

/** A response that hands out a session must never be stored by a shared cache. */
function privateCache(c: Context): void {
  const cacheControl = c.res.headers.get('Cache-Control')
  if (cacheControl === null) setHeader(c, 'Cache-Control', 'private')
  else if (!/\b(private|no-store)\b/i.test(cacheControl)) {
    setHeader(
      c,
      'Cache-Control',
      [
        'private',
        ...cacheControl
          .split(',')
          .map((d) => d.trim())
          .filter((d) => d && !/^public$/i.test(d)),
      ].join(', '),
    )
  }
}

/**
 * Sets a header on the handler's response in place (`c.res.headers.set()`, as Hono's own
 * `cors` and `secureHeaders` do), not with `c.header()`, which copies a finalized response
 * whole for every header it sets: that copy was most of what an anonymous read cost. A
 * response with immutable headers (a `fetch()` passed through) is copied by `c.header()`.
 * Only for `Vary` and `Cache-Control`, which are harmless on a response object an app
 * reuses across requests; `Set-Cookie` always goes through `c.header()`.
 */
function setHeader(c: Context, name: string, value: string): void {
  if (c.finalized) {
    try {
      c.res.headers.set(name, value)
      return
    } catch {
      // Immutable headers: fall through to a copy.
    }
  }
  c.header(name, value)
}
