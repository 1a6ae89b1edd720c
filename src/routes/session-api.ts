/**
 * @module
 * A JSON playground over the session API, and login/logout on top of it.
 * Every answer but `/whoami`'s has the shape of `GET /session`.
 */
import { Hono, type Context } from 'hono'
import { bodyLimit } from './body-limit.js'
import { MAX_COOKIE_AGE, SessionError, type Session } from '../session/index.js'
import type { DemoData, DemoEnv } from './env.js'

/** What `GET /session` answers. */
export interface SessionState {
  data: Record<string, unknown>
  expiryAge: number
  expiryDate: string
  expireAtBrowserClose: boolean
}

/** The session's state; a store that could not be read is a 503, not an empty session. */
export async function sessionState(session: Session<DemoData>): Promise<SessionState> {
  const data = await session.toJSON()
  if (session.unavailable) throw new SessionError('STORE_UNAVAILABLE', 'The session store is unavailable; try again shortly.')
  return {
    data,
    expiryAge: await session.getExpiryAge(),
    expiryDate: (await session.getExpiryDate()).toISOString(),
    expireAtBrowserClose: await session.getExpireAtBrowserClose(),
  }
}

/** A 400 with a message, for bodies the playground cannot use. */
class BadRequest extends Error {}

/** Parses the body as a JSON object; anything else is a {@link BadRequest}. */
async function jsonObject(c: Context): Promise<Record<string, unknown>> {
  let body: unknown
  try {
    body = JSON.parse(await c.req.text())
  } catch {
    throw new BadRequest('The body must be valid JSON.')
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

/** Whether `value` can be a username: text, not only spaces, at most {@link MAX_USERNAME} characters. */
export function isUsername(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '' && value.length <= MAX_USERNAME
}

/**
 * Logs `username` in: a new key first, so an id planted before login (session
 * fixation) is worthless, then the name. Shared by `POST /login` and the page's form.
 */
export async function logIn(session: Session<DemoData>, username: string): Promise<void> {
  await session.cycleKey()
  await session.set('username', username)
}

/** The JSON routes. Mounted by the demo app; the session middleware must run first. */
export const sessionApi = new Hono<DemoEnv>({ strict: false })

sessionApi.onError((err, c) => {
  if (err instanceof BadRequest) return c.json({ error: err.message }, 400)
  // Here session values come from the client's JSON (e.g. 1e400 parses as Infinity),
  // so a value the session refuses is the client's mistake: 400, not the library's 500.
  if (err instanceof SessionError && err.code === 'INVALID_VALUE') return c.json({ error: err.message, code: err.code }, 400)
  throw err
})

// Only on this group's own paths: mounted at '/', a '*' would reach every route of the app.
const limit = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: (c) => c.json({ error: `The body is over ${MAX_BODY_BYTES} bytes.` }, 413),
})
for (const path of ['/session', '/session/*', '/login', '/logout']) sessionApi.use(path, limit)

const state = async (c: Context<DemoEnv>): Promise<Response> => c.json(await sessionState(c.get('session')))

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
  if (seconds !== null && (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0 || seconds > MAX_COOKIE_AGE)) {
    throw new BadRequest(`"seconds" must be a number from 0 to ${MAX_COOKIE_AGE}, or null.`)
  }
  await c.get('session').setExpiry(seconds)
  return state(c)
})

sessionApi.post('/session/cycle', async (c) => {
  await c.get('session').cycleKey()
  return state(c)
})

sessionApi.post('/session/flush', async (c) => {
  await c.get('session').flush()
  return state(c)
})

sessionApi.post('/login', async (c) => {
  const { username } = await jsonObject(c)
  if (!isUsername(username)) {
    throw new BadRequest(`"username" must be a non-empty string of at most ${MAX_USERNAME} characters.`)
  }
  await logIn(c.get('session'), username)
  return state(c)
})

sessionApi.get('/whoami', async (c) => {
  const session = c.get('session')
  const username = (await session.get('username')) ?? null
  if (session.unavailable) throw new SessionError('STORE_UNAVAILABLE', 'The session store is unavailable; try again shortly.')
  return c.json({ username })
})

sessionApi.post('/logout', async (c) => {
  await c.get('session').flush()
  return state(c)
})
