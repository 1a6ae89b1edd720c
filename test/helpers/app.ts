/**
 * A small app on the library's public API, for the library's own tests that go through
 * HTTP (the demo has its own tests): one JSON route per session operation, the options
 * the test chooses (store, clock, `authHash`), and browsers that are the shipped test
 * client. Errors are answered as an app would write it: a `SessionError` as JSON
 * `{ code, error }` with its status (and `Retry-After` when the error knows it: an
 * unavailable store, a throttled login), anything else as a 500.
 *
 * | route                          | what it does with the session                          |
 * | ------------------------------ | ------------------------------------------------------ |
 * | `GET /untouched`               | nothing: the handler never touches it                  |
 * | `GET /whoami`                  | `getUser()` → `{ user }`                               |
 * | `GET /ended-by`                | `endedBy()` and `getUser()` → `{ endedBy, user }`      |
 * | `GET /session`                 | `toObject()` and the expiry getters → `{ data, … }` (*)  |
 * | `POST /session`                | `set()` of each key of a JSON object → `{ data }`      |
 * | `DELETE /session/:key`         | `delete(key)` → `{ data }`                             |
 * | `POST /expiry`                 | `setExpiry(seconds)` of `{ seconds }` → `{ data }`     |
 * | `POST /cycle`                  | `cycleKey()` → `{ data }`                              |
 * | `POST /clear`                  | `clear()` → `{ data }`                                 |
 * | `GET /hit`                     | reads `hits` and writes it back plus one → `{ hits }`  |
 * | `POST /login`                  | `login(user)` of `{ user }` → `{ user }`; with         |
 * |                                | `"password": "wrong"`, `loginFailed(user)` → 401       |
 * | `POST /logout`                 | `flush()` → `{ user: null }`                           |
 * | `POST /password`               | the user's verifier renewed, then `updateAuthHash()`   |
 * | `GET /sessions`                | `listSessions()` → `{ sessions }`                      |
 * | `DELETE /sessions/:handle`     | `revokeSession(handle)` → `{ revoked }`                |
 * | `POST /sessions/revoke-others` | `revokeOtherSessions()` → `{ revoked }`                |
 * | `POST /sessions/revoke-all`    | `revokeAllSessions()` → `{ revoked }`                  |
 * | `GET /live`                    | `acceptWebSocket()`                                    |
 * | `POST /impersonate`            | `impersonate(user, { reason, maxAge })` of the body    |
 * | `POST /impersonate/stop`       | `stopImpersonating()` → `{ stopped }`                  |
 * | `GET /impersonator`            | `{ user, impersonator }`                               |
 * | `POST /confirm`                | `confirmAuthentication()` → `{ user }`                 |
 * | `POST /fresh`                  | `requireFreshAuth(600)` → `{ user }`                   |
 * | `GET /test-cookie`             | `setTestCookie()`                                      |
 * | `GET /test-cookie/check`       | `testCookieWorked()`, then `deleteTestCookie()`        |
 *
 * (*) `{ data, expiryAge, expiryDate, expireAtBrowserClose }`, as every route answering
 * `{ data }` does.
 */
import { env } from 'cloudflare:test'
import { Hono } from 'hono'
import { SessionError, session, type SessionEnv, type SessionOptions } from '../../src/session'
import { generateSessionId } from '../../src/session/store'
import { testClient, type TestClient } from '../../src/session/testing'
import { type Location, withCf } from './cf'

/** Where the browsers' requests go (and the `Origin` they send on unsafe methods). */
export const ORIGIN = 'http://localhost'

/** The app's users: a verifier per user name, standing in for a password hash (`authHash`). */
export interface Users {
  /** `session({ authHash })`: the user's current verifier, made on first sight. */
  authHash(c: unknown, user: string): string
  /** "Changes the password" of `user`: a new verifier, so sessions bound to the old one end. */
  renew(user: string): void
}

/** A verifier per user, kept by the app (its user table; nothing of the session store). */
export function users(): Users {
  const verifiers = new Map<string, string>()
  return {
    authHash(_c, user) {
      let verifier = verifiers.get(user)
      if (verifier === undefined) {
        verifier = generateSessionId()
        verifiers.set(user, verifier)
      }
      return verifier
    },
    renew(user) {
      verifiers.set(user, generateSessionId())
    },
  }
}

/** What a browser is: its `User-Agent`, its `request.cf`, and the bindings its requests see. */
export interface DeviceOptions {
  userAgent?: string
  cf?: Location
  /** @default env (the pool's bindings) */
  env?: Record<string, unknown>
  /** The execution context its requests run with (`createExecutionContext()`). @default none */
  executionCtx?: ExecutionContext
}

/** The app, the options its `session()` got, and browsers of it. */
export interface SessionApp {
  app: Hono<SessionEnv>
  /** The app's session options, which its browsers' `forceLogin()`, `user()` and `session()` use. */
  options: SessionOptions
  /** A new browser. */
  browser(device?: DeviceOptions): TestClient
  /** A new browser sending `token` as its session cookie. */
  browserWith(token: string, device?: DeviceOptions): TestClient
  /** One request of a new browser whose whole `Cookie` header is `cookie` (none when undefined). */
  send(
    path: string,
    init?: RequestInit,
    sent?: { cookie?: string | undefined; env?: Record<string, unknown> },
  ): Promise<Response>
}

/** Reads the request's JSON object (a test sends only well-formed ones). */
const body = async (c: { req: { json(): Promise<unknown> } }): Promise<Record<string, unknown>> =>
  (await c.req.json()) as Record<string, unknown>

/**
 * The app on `options` (those of `session()`); with `users`, logins are bound to their
 * verifiers (`authHash`) and `POST /password` renews one.
 */
export function sessionApp(
  options: SessionOptions = {},
  { users: people }: { users?: Users } = {},
): SessionApp {
  const resolved: SessionOptions =
    people === undefined || options.authHash !== undefined
      ? options
      : { ...options, authHash: (c, user) => people.authHash(c, user) }
  const app = new Hono<SessionEnv>()
  app.use(session(resolved))
  /** What the routes answer of the session: its data, and its expiry as the three getters read it. */
  const data = async (c: { get(key: 'session'): SessionEnv['Variables']['session'] }) => {
    const s = c.get('session')
    return {
      data: await s.toObject(),
      expiryAge: await s.getExpiryAge(),
      expiryDate: (await s.getExpiryDate()).toISOString(),
      expireAtBrowserClose: await s.getExpireAtBrowserClose(),
    }
  }

  app.get('/untouched', (c) => c.text('untouched'))
  app.get('/whoami', async (c) => c.json({ user: await c.get('session').getUser() }))
  app.get('/ended-by', async (c) =>
    c.json({ endedBy: await c.get('session').endedBy(), user: await c.get('session').getUser() }),
  )
  app.get('/session', async (c) => c.json(await data(c)))
  app.post('/session', async (c) => {
    const values = await body(c)
    for (const key of Object.keys(values)) await c.get('session').set(key, values[key])
    return c.json(await data(c))
  })
  app.delete('/session/:key', async (c) => {
    await c.get('session').delete(c.req.param('key'))
    return c.json(await data(c))
  })
  app.post('/expiry', async (c) => {
    await c.get('session').setExpiry((await body(c)).seconds as number | null)
    return c.json(await data(c))
  })
  app.post('/cycle', async (c) => {
    await c.get('session').cycleKey()
    return c.json(await data(c))
  })
  app.post('/clear', async (c) => {
    await c.get('session').clear()
    return c.json(await data(c))
  })
  app.get('/hit', async (c) => {
    const s = c.get('session')
    const hits = (((await s.get('hits')) as number | undefined) ?? 0) + 1
    await s.set('hits', hits)
    return c.json({ hits })
  })
  app.post('/login', async (c) => {
    const { user, password } = (await body(c)) as { user: string; password?: string }
    // The app's password check, failed: reported, and answered as a wrong password.
    if (password === 'wrong') {
      await c.get('session').loginFailed(user)
      return c.json({ code: 'WRONG_PASSWORD' }, 401)
    }
    await c.get('session').login(user)
    return c.json({ user })
  })
  app.post('/logout', async (c) => {
    await c.get('session').flush()
    return c.json({ user: null })
  })
  app.post('/password', async (c) => {
    const s = c.get('session')
    const user = await s.getUser()
    // As an app must: an operator acting as the user does not change their password
    // (updateAuthHash() then refuses with IMPERSONATING).
    if (user !== null && (await s.impersonator()) === null) people?.renew(user)
    await s.updateAuthHash()
    return c.json({ user })
  })
  app.get('/sessions', async (c) => c.json({ sessions: await c.get('session').listSessions() }))
  app.delete('/sessions/:handle', async (c) =>
    c.json({ revoked: await c.get('session').revokeSession(c.req.param('handle')) }),
  )
  app.post('/sessions/revoke-others', async (c) =>
    c.json({ revoked: await c.get('session').revokeOtherSessions() }),
  )
  app.post('/sessions/revoke-all', async (c) =>
    c.json({ revoked: await c.get('session').revokeAllSessions() }),
  )
  app.get('/live', (c) => c.get('session').acceptWebSocket())
  app.post('/impersonate', async (c) => {
    const { user, reason, maxAge } = (await body(c)) as {
      user: string
      reason: string
      maxAge?: number
    }
    const s = c.get('session')
    await s.impersonate(user, maxAge === undefined ? { reason } : { reason, maxAge })
    return c.json({ user: await s.getUser(), impersonator: await s.impersonator() })
  })
  app.post('/impersonate/stop', async (c) =>
    c.json({ stopped: await c.get('session').stopImpersonating() }),
  )
  app.get('/impersonator', async (c) => {
    const s = c.get('session')
    return c.json({ user: await s.getUser(), impersonator: await s.impersonator() })
  })
  app.post('/confirm', async (c) => {
    await c.get('session').confirmAuthentication()
    return c.json({ user: await c.get('session').getUser() })
  })
  app.post('/fresh', async (c) => {
    await c.get('session').requireFreshAuth(600)
    return c.json({ user: await c.get('session').getUser() })
  })
  app.get('/test-cookie', (c) => {
    c.get('session').setTestCookie()
    return c.text('set')
  })
  app.get('/test-cookie/check', (c) => {
    const s = c.get('session')
    const worked = s.testCookieWorked()
    if (worked) s.deleteTestCookie()
    return c.json({ worked })
  })

  app.onError((error, c) =>
    error instanceof SessionError
      ? c.json(
          { code: error.code, error: error.message },
          error.status,
          error.retryAfter === null ? {} : { 'Retry-After': String(error.retryAfter) },
        )
      : c.json({ error: 'Internal Server Error' }, 500),
  )

  const browser = (device: DeviceOptions = {}): TestClient =>
    testClient(withCf(app, device.cf), {
      env: device.env ?? env,
      session: resolved,
      url: ORIGIN,
      ...(device.executionCtx === undefined ? {} : { executionCtx: device.executionCtx }),
      ...(device.userAgent === undefined ? {} : { headers: { 'User-Agent': device.userAgent } }),
    })
  return {
    app,
    options: resolved,
    browser,
    browserWith(token, device) {
      const client = browser(device)
      client.cookies.set(resolved.cookieName ?? 'sessionid', token)
      return client
    },
    send(path, init = {}, sent = {}) {
      const headers = new Headers(init.headers)
      if (sent.cookie !== undefined) headers.set('Cookie', sent.cookie)
      return browser(sent.env === undefined ? {} : { env: sent.env }).request(path, {
        ...init,
        headers,
      })
    },
  }
}

/** `POST /login` as `user` (answered 200); resolves the session cookie it set. */
export async function logIn(client: TestClient, user: string): Promise<string> {
  const res = await client.post('/login', { json: { user } })
  if (res.status !== 200) throw new Error(`POST /login answered ${res.status}: ${await res.text()}`)
  const token = client.sessionCookie
  if (token === undefined) throw new Error('POST /login set no session cookie')
  return token
}

/** `GET /session`'s data (answered 200). */
export async function dataOf(client: TestClient): Promise<Record<string, unknown>> {
  const res = await client.get('/session')
  if (res.status !== 200)
    throw new Error(`GET /session answered ${res.status}: ${await res.text()}`)
  return ((await res.json()) as { data: Record<string, unknown> }).data
}
