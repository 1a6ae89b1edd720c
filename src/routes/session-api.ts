/**
 * @module
 * A JSON playground over the session API, and login/logout on top of it.
 * Every answer but `/whoami`'s has the shape of `GET /session`. Bodies are parsed so
 * that no number is silently rounded: one a double cannot hold exactly is a 400.
 */
import { MAX_EXPIRY_SECONDS } from './env.js'
import { Hono, type Context } from 'hono'
import { bodyLimit } from './body-limit.js'
import { SessionError, type Session } from '../session/index.js'
import type { DemoData, DemoEnv } from './env.js'
import { sessionsChanged } from './live.js'
import { ensureUser } from './users.js'

/** What `GET /session` answers. */
export interface SessionState {
  data: Record<string, unknown>
  expiryAge: number
  expiryDate: string
  expireAtBrowserClose: boolean
}

/** The session's state; a store that could not be read is a 503, not an empty session. */
export async function sessionState(session: Session<DemoData>): Promise<SessionState> {
  const data = await session.toObject()
  if (session.unavailable)
    throw new SessionError(
      'STORE_UNAVAILABLE',
      'The session store is unavailable; try again shortly.',
    )
  return {
    data,
    expiryAge: await session.getExpiryAge(),
    expiryDate: (await session.getExpiryDate()).toISOString(),
    expireAtBrowserClose: await session.getExpireAtBrowserClose(),
  }
}

/** A 400 with a message, for bodies the playground cannot use. */
class BadRequest extends Error {}

/** A JSON number as written: sign, digits, fraction, exponent. */
const JSON_NUMBER = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/

/**
 * A decimal in canonical form, `digits` + `e` + exponent with no leading or trailing
 * zeros (`"1.50e1"` and `"15"` are both `"15e0"`), or `"0"`; `null` if not a JSON number.
 */
function canonicalDecimal(text: string): string | null {
  const match = JSON_NUMBER.exec(text)
  if (match === null) return null
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = match
  let digits = (whole + fraction).replace(/^0+/, '')
  if (digits === '') return '0' // -0 too: JSON has no negative zero to keep
  const trailing = digits.length - digits.replace(/0+$/, '').length
  digits = digits.slice(0, digits.length - trailing)
  // Exact while the exponent is below 2^53; a larger one (an Infinity, or a 0) only ever
  // has to differ from a double's exponent, which never passes ±400.
  const power = Number(exponent) - fraction.length + trailing
  return `${sign}${digits}e${power}`
}

/**
 * Whether `value`, the double `JSON.parse` made of the number written as `source`, is
 * that number: its shortest decimal form (what JSON.stringify writes back, and what the
 * session will store) denotes the same decimal. `12345678901234567890` parses to
 * 12345678901234567000 and `1e400` to Infinity: both are refused, where
 * `9007199254740992` (2^53), `1.0`, `1e2` and `0.1` are kept.
 */
function isFaithfulNumber(source: string, value: number): boolean {
  if (!Number.isFinite(value)) return false
  const written = canonicalDecimal(source)
  return written !== null && written === canonicalDecimal(String(value))
}

/** A number token at a given position (sticky). */
const NUMBER_TOKEN = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y

/**
 * The first number of `text` (JSON that `JSON.parse` accepted) that would not be stored
 * as written, or `null`. A scan of the text, not a reviver: workerd's V8 does offer
 * JSON.parse source text access (`context.source` in a reviver), but a reviver recurses
 * and throws RangeError on deeply nested bodies, which the session refuses with a
 * clearer message of its own; the scan is linear and needs no stack.
 */
function firstUnfaithfulNumber(text: string): string | null {
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    if (ch === 0x22) {
      // A string: skip to its closing quote, escapes included.
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++)
        if (text.charCodeAt(i) === 0x5c) i++
    } else if (ch === 0x2d || (ch >= 0x30 && ch <= 0x39)) {
      // Outside strings, only a number starts with "-" or a digit.
      NUMBER_TOKEN.lastIndex = i
      const token = NUMBER_TOKEN.exec(text)?.[0] ?? ''
      // Number() rounds a decimal exactly as JSON.parse does (both correctly rounded).
      if (!isFaithfulNumber(token, Number(token))) return token
      i += token.length - 1
    }
  }
  return null
}

/** Parses the body as a JSON object; anything else is a {@link BadRequest}. */
async function jsonObject(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new BadRequest('The body must be valid JSON.')
  }
  // A number JSON.parse rounds would be stored silently changed: refuse it, as 1e400.
  const lossy = firstUnfaithfulNumber(text)
  if (lossy !== null) {
    const stored = Number(lossy)
    throw new BadRequest(
      `The number ${lossy.slice(0, 40)} cannot be stored exactly: ${Number.isFinite(stored) ? `it would become ${stored}` : 'it is out of range'}. Send it as a string.`,
    )
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('The body must be a JSON object.')
  }
  return body as Record<string, unknown>
}

/** Largest request body the playground reads; bigger ones are a 413 before parsing. */
export const MAX_BODY_BYTES = 128 * 1024

/** Django's `AbstractUser.username` limit. */
export const MAX_USERNAME = 150

/** A lone surrogate: a string holding one is not well-formed UTF-16, so it has no UTF-8 form. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Whether `value` can be a username: text, not only spaces, at most {@link MAX_USERNAME}
 * characters, and well-formed UTF-16. The name becomes a KV key (`user:<name>` in `USERS`)
 * and a Durable Object name, both UTF-8: KV refuses a key with a lone surrogate ("Could not
 * URL-decode key name"), which was a 500. (150 characters are at most 450 bytes of UTF-8,
 * within KV's 512-byte keys.)
 */
export function isUsername(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.trim() !== '' &&
    value.length <= MAX_USERNAME &&
    !LONE_SURROGATE.test(value)
  )
}

/**
 * Logs `username` in with `session.login()` (a new key, so an id planted before login is
 * worthless; the user bound beside the data, to the user's verifier), and keeps the name
 * in the data too, for the page to show. Shared by `POST /login` and the page's form.
 */
export async function logIn(c: Context<DemoEnv>, username: string): Promise<void> {
  await ensureUser(c, username)
  const session = c.get('session')
  const before = await session.getUser()
  await session.login(username)
  await session.set('username', username)
  sessionsChanged(c, before)
  sessionsChanged(c, username)
}

/**
 * Logs out (`flush()`), telling the user's other sockets; shared by `POST /logout` and the
 * page's forms.
 */
export async function logOut(c: Context<DemoEnv>): Promise<void> {
  const session = c.get('session')
  sessionsChanged(c, await session.getUser())
  await session.flush()
}

/**
 * Re-authenticates the logged-in user (`confirmAuthentication()`). The demo has no
 * passwords: the username stands in for one. `NOT_LOGGED_IN` (401) when nobody is logged
 * in, `REAUTHENTICATION_REQUIRED` (403) for another name; it never logs anyone in.
 */
export async function confirmUser(c: Context<DemoEnv>, username: unknown): Promise<void> {
  const session = c.get('session')
  const user = await session.getUser()
  if (user === null)
    throw new SessionError('NOT_LOGGED_IN', 'Nobody is logged in: there is no one to confirm.')
  // An admin acting as the user can never confirm as them (the library refuses it too).
  const by = await session.impersonator()
  if (by !== null)
    throw new SessionError('IMPERSONATING', `${by} is acting as ${user}: only ${user} can confirm.`)
  if (username !== user)
    throw new SessionError(
      'REAUTHENTICATION_REQUIRED',
      'That is not the logged-in user: not confirmed.',
    )
  await session.confirmAuthentication()
}

/** The JSON routes. Mounted by the demo app; the session middleware must run first. */
export const sessionApi = new Hono<DemoEnv>({ strict: false })

sessionApi.onError((err, c) => {
  if (err instanceof BadRequest) return c.json({ error: err.message }, 400)
  // Here session values come from the client's JSON (e.g. 1e400 parses as Infinity),
  // so a value the session refuses is the client's mistake: 400, not the library's 500.
  if (err instanceof SessionError && err.code === 'INVALID_VALUE')
    return c.json({ error: err.message, code: err.code }, 400)
  throw err
})

// Only on this group's own paths: mounted at '/', a '*' would reach every route of the app.
const limit = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: (c) => c.json({ error: `The body is over ${MAX_BODY_BYTES} bytes.` }, 413),
})
for (const path of ['/session', '/session/*', '/login', '/logout', '/confirm'])
  sessionApi.use(path, limit)

const state = async (c: Context<DemoEnv>): Promise<Response> =>
  c.json(await sessionState(c.get('session')))

sessionApi.get('/session', state)

sessionApi.post('/session', async (c) => {
  const body = await jsonObject(c)
  const session = c.get('session')
  for (const key of Object.keys(body)) await session.set(key, body[key])
  return state(c)
})

sessionApi.delete('/session/data/:name', async (c) => {
  await c.get('session').delete(c.req.param('name'))
  return state(c)
})

sessionApi.post('/session/expiry', async (c) => {
  const { seconds } = await jsonObject(c)
  // Capped at the browsers' 400 days: a larger age outlives any cookie, and one past
  // year 275760 makes the expiry an invalid Date.
  if (
    seconds !== null &&
    (typeof seconds !== 'number' ||
      !Number.isFinite(seconds) ||
      seconds < 0 ||
      seconds > MAX_EXPIRY_SECONDS)
  ) {
    throw new BadRequest(`"seconds" must be a number from 0 to ${MAX_EXPIRY_SECONDS}, or null.`)
  }
  await c.get('session').setExpiry(seconds)
  return state(c)
})

sessionApi.post('/session/cycle', async (c) => {
  await c.get('session').cycleKey()
  return state(c)
})

sessionApi.post('/session/flush', async (c) => {
  await logOut(c)
  return state(c)
})

sessionApi.post('/login', async (c) => {
  const { username, password } = await jsonObject(c)
  if (!isUsername(username)) {
    throw new BadRequest(
      `"username" must be a non-empty string of at most ${MAX_USERNAME} characters, well-formed Unicode (no lone surrogate).`,
    )
  }
  if (password !== undefined && typeof password !== 'string')
    throw new BadRequest('"password" must be a string.')
  // The demo has no passwords: "wrong" stands for a failed check, which is reported (and
  // counted by the login throttle, whose lock answers 429 LOGIN_THROTTLED from here on).
  if (password === 'wrong') {
    await c.get('session').loginFailed(username)
    return c.json({ error: 'Wrong user name or password.' }, 401)
  }
  await logIn(c, username)
  return state(c)
})

sessionApi.get('/whoami', async (c) => {
  const session = c.get('session')
  const username = await session.getUser()
  if (session.unavailable)
    throw new SessionError(
      'STORE_UNAVAILABLE',
      'The session store is unavailable; try again shortly.',
    )
  // While an admin acts as the user (POST /impersonate), who it is.
  const impersonator = await session.impersonator()
  return c.json(impersonator === null ? { username } : { username, impersonator })
})

sessionApi.post('/logout', async (c) => {
  await logOut(c)
  return state(c)
})

sessionApi.post('/confirm', async (c) => {
  const { username } = await jsonObject(c)
  await confirmUser(c, username)
  return c.json({ confirmed: true, user: username })
})
