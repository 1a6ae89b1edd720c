/**
 * A browser-like client of the demo app (`createApp()`), for the demo's own suites: the
 * shipped test client on the demo with chosen bindings (`SESSION_STORE` picks the store),
 * with a `User-Agent` and the `request.cf` a device would have.
 */
import { SELF } from 'cloudflare:test'
import { createApp } from '../../src/app'
import { type CookieJar, testClient, type TestClient } from '../../src/session/testing'
import { withCf, type Location } from './cf'
import { type Target, target } from './hostile'
import { json } from './http'

export const BASE = 'http://localhost:8787'

/** What a device is. */
export interface DeviceOptions {
  /** The app to talk to; a new `createApp()` when absent. */
  app?: ReturnType<typeof createApp>
  userAgent?: string
  cf?: Location
}

/** One browser: the test client, raw requests, and JSON requests. */
export interface Device {
  client: TestClient
  /** The client's cookie jar. */
  cookies: CookieJar
  /** The session cookie's value, or `undefined`. */
  readonly token: string | undefined
  send(path: string, init?: RequestInit): Promise<Response>
  /** Sends, and parses the JSON body. */
  call<T = Record<string, unknown>>(
    path: string,
    init?: RequestInit,
  ): Promise<{ res: Response; body: T }>
  /** `POST /login` as `user`; resolves the new session cookie. */
  login(user: string): Promise<string>
  /** `GET /whoami`'s username. */
  whoami(): Promise<string | null>
}

/** A device talking to the demo app with `bindings` (e.g. `{ ...env, SESSION_STORE: 'do' }`). */
export function device(bindings: Record<string, unknown>, options: DeviceOptions = {}): Device {
  const app = options.app ?? createApp()
  const client = testClient(withCf(app, options.cf), {
    env: bindings,
    url: BASE,
    ...(options.userAgent === undefined ? {} : { headers: { 'User-Agent': options.userAgent } }),
  })
  const send = (path: string, init: RequestInit = {}): Promise<Response> =>
    client.request(path, init)
  const call = async <T>(path: string, init?: RequestInit): Promise<{ res: Response; body: T }> => {
    const res = await send(path, init)
    return { res, body: (await res.json()) as T }
  }
  return {
    client,
    cookies: client.cookies,
    get token() {
      return client.cookies.get('sessionid')
    },
    send,
    call,
    async login(user) {
      const { res } = await call('/login', json('POST', { username: user }))
      if (res.status !== 200) throw new Error(`POST /login answered ${res.status}`)
      const token = client.cookies.get('sessionid')
      if (token === undefined) throw new Error('POST /login set no session cookie')
      return token
    },
    async whoami() {
      const { res, body } = await call<{ username: string | null }>('/whoami')
      if (res.status !== 200) throw new Error(`GET /whoami answered ${res.status}`)
      return body.username
    },
  }
}

/** A fresh browser (and a fresh app instance) that sends `token` as its session cookie. */
export function deviceWith(
  bindings: Record<string, unknown>,
  token: string,
  options: DeviceOptions = {},
): Device {
  const d = device(bindings, options)
  d.cookies.set('sessionid', token)
  return d
}

/**
 * The demo worker as deployed (`SELF`, on `http://example.com`) as the hostile-input suites
 * attack it: its login keeps the user's name in the session's data itself.
 */
export function demoTarget(): Target {
  return target(
    (path, init = {}, cookie) => {
      const headers = new Headers(init.headers)
      if (cookie !== undefined) headers.set('Cookie', cookie)
      return SELF.fetch(`http://example.com${path}`, { ...init, headers })
    },
    { login: (username) => ({ username }), keepName: false },
  )
}
