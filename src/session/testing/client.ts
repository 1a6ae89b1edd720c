/**
 * @module
 * The test client (Django's test `Client`): requests to a Hono app (`app.request()` with
 * the test's bindings) or to any fetcher (`SELF`), a cookie jar across them, an `Origin`
 * of its own on unsafe methods, and the session behind its cookie: `forceLogin()`,
 * `session()`, `logout()`.
 */
import type { Env } from 'hono'
import type { SessionOptions } from '../core/options.js'
import type { SessionData } from '../stores/types.js'
import { CookieJar } from './jar.js'
import { sessionAccess, type SessionAccess, type SessionStep } from './session-access.js'

/** A Hono app (anything with `request(input, init, env, ctx)`). */
export interface AppLike {
  request(
    input: Request | string,
    init?: RequestInit,
    env?: unknown,
    executionCtx?: ExecutionContext,
  ): Response | Promise<Response>
}

/** A fetcher: `SELF` from `cloudflare:test`, a service binding, or `{ fetch }`. */
export interface FetcherLike {
  fetch(input: Request): Promise<Response>
}

/** Options of {@link createTestClient}. */
// biome-ignore lint/suspicious/noExplicitAny: Hono's own default environment
export interface TestClientOptions<E extends Env = any> {
  /**
   * The bindings (`env` from `cloudflare:test`): given to `app.request()`, and to the
   * session middleware the client runs for `forceLogin()`, `session()` and `logout()`.
   * Required for those with a fetcher target, whose bindings the client cannot see.
   */
  env?: E['Bindings'] | Record<string, unknown>
  /**
   * The options the app gives `session()` (export them from the app and pass the same
   * object): the store, the cookie's name and attributes, `authHash`, the clock.
   * `forceLogin()`, `session()` and `logout()` run them through `session()` itself.
   * @default {} (session()'s defaults: KV bound as SESSIONS, cookie "sessionid")
   */
  session?: SessionOptions<E>
  /**
   * Where the requests go: their scheme and host (and the `Origin` sent), before the path.
   * @default 'http://localhost'
   */
  url?: string
  /**
   * The `Origin` sent with POST, PUT, PATCH and DELETE, as a browser does on a
   * same-origin form or fetch; `false` sends none. A request's own `Origin` header wins.
   * @default the origin of `url`
   */
  origin?: string | false
  /** Headers sent with every request (a `User-Agent`, an `Accept`). @default none */
  headers?: HeadersInit
  /** The execution context given to `app.request()` (`createExecutionContext()`). @default none */
  executionCtx?: ExecutionContext
}

/** A body for {@link TestClient.post}: JSON, or a form (urlencoded, or multipart from a `FormData`). */
export type TestBody =
  | { json: unknown }
  | { form: Record<string, string> | URLSearchParams | FormData }

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * A browser for tests. Requests never follow redirects (read `Location`), and every
 * response's `Set-Cookie` lands in {@link TestClient.cookies}.
 *
 * @example
 * ```ts
 * const client = createTestClient(app, { env, session: sessionOptions })
 * await client.forceLogin('ada')
 * const res = await client.get('/account')
 * expect(await client.session()).toEqual({})
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: Hono's own default environment
export class TestClient<E extends Env = any> {
  /** The cookies this client holds. */
  readonly cookies: CookieJar
  readonly #target: AppLike | FetcherLike
  readonly #options: TestClientOptions<E>
  readonly #base: URL
  #access: SessionAccess | undefined

  constructor(target: AppLike | FetcherLike, options: TestClientOptions<E> = {}) {
    this.#target = target
    this.#options = options
    this.#base = new URL(options.url ?? 'http://localhost')
    this.cookies = new CookieJar(options.session?.now ?? Date.now)
  }

  /** The session cookie's name, from the app's session options. */
  get #cookieName(): string {
    return this.#options.session?.cookieName ?? 'sessionid'
  }

  /** Sends a request with the jar's cookies (and `Origin` on an unsafe method); keeps the cookies of the answer. */
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const url = new URL(path, this.#base)
    const headers = new Headers(this.#options.headers)
    for (const [name, value] of new Headers(init.headers)) headers.set(name, value)
    const method = (init.method ?? 'GET').toUpperCase()
    const origin = this.#options.origin ?? this.#base.origin
    if (UNSAFE.has(method) && origin !== false && !headers.has('Origin'))
      headers.set('Origin', origin)
    const cookie = this.cookies.header()
    if (cookie !== undefined && !headers.has('Cookie')) headers.set('Cookie', cookie)
    const request = new Request(url, { ...init, method, headers, redirect: 'manual' })
    const target = this.#target
    const res =
      'request' in target && typeof target.request === 'function'
        ? await target.request(request, undefined, this.#options.env, this.#options.executionCtx)
        : await (target as FetcherLike).fetch(request)
    this.cookies.update(res)
    return res
  }

  /** `GET path`. */
  get(path: string, init: RequestInit = {}): Promise<Response> {
    return this.request(path, { ...init, method: 'GET' })
  }

  /** `POST path` with a JSON or form body (or none). */
  post(path: string, body?: TestBody, init: RequestInit = {}): Promise<Response> {
    return this.request(path, withBody({ ...init, method: 'POST' }, body))
  }

  /** `PUT path` with a JSON or form body (or none). */
  put(path: string, body?: TestBody, init: RequestInit = {}): Promise<Response> {
    return this.request(path, withBody({ ...init, method: 'PUT' }, body))
  }

  /** `PATCH path` with a JSON or form body (or none). */
  patch(path: string, body?: TestBody, init: RequestInit = {}): Promise<Response> {
    return this.request(path, withBody({ ...init, method: 'PATCH' }, body))
  }

  /** `DELETE path`. */
  delete(path: string, init: RequestInit = {}): Promise<Response> {
    return this.request(path, { ...init, method: 'DELETE' })
  }

  /**
   * Runs `step` with this client's session, through the app's session options in the
   * kit's own app, and keeps the cookie it answers with. What the step changes is saved
   * as any request's changes are; a step that throws saves nothing and rejects.
   */
  async withSession<T, Data extends object = SessionData>(step: SessionStep<T, Data>): Promise<T> {
    this.#access ??= sessionAccess(this.#options.session)
    const headers = new Headers(this.#options.headers)
    const cookie = this.cookies.header()
    if (cookie !== undefined) headers.set('Cookie', cookie)
    const url = new URL(this.#options.session?.path ?? '/', this.#base).href
    const { result, res } = await this.#access.run(
      step,
      url,
      headers,
      this.#options.env,
      this.#options.executionCtx,
    )
    this.cookies.update(res)
    return result
  }

  /**
   * Logs this client in as `user` without a password (Django's `force_login()`): a
   * `session.login(user)` on the app's store, bound to the user's verifier when the
   * options have `authHash` (which runs with the client's bindings).
   */
  async forceLogin(user: string): Promise<void> {
    await this.withSession((s) => s.login(user))
  }

  /** The client's session data (Django's `client.session`): `{}` without a session. */
  async session<Data extends object = SessionData>(): Promise<Partial<Data>> {
    return this.withSession<Partial<Data>, Data>((s) => s.toJSON())
  }

  /** The user the client's session is logged in as, or `null`. */
  async user(): Promise<string | null> {
    return this.withSession((s) => s.getUser())
  }

  /** Ends the client's session as a logout does (`session.flush()`): its record and cookie go. */
  async logout(): Promise<void> {
    await this.withSession((s) => s.flush())
  }

  /** The session cookie's value, or `undefined`. */
  get sessionCookie(): string | undefined {
    return this.cookies.get(this.#cookieName)
  }
}

/** `init` with `body` encoded and its `Content-Type` set. */
function withBody(init: RequestInit, body: TestBody | undefined): RequestInit {
  if (body === undefined) return init
  const headers = new Headers(init.headers)
  if ('json' in body) {
    headers.set('Content-Type', 'application/json')
    return { ...init, headers, body: JSON.stringify(body.json) }
  }
  const form = body.form
  if (form instanceof FormData) return { ...init, headers, body: form }
  headers.set('Content-Type', 'application/x-www-form-urlencoded')
  return { ...init, headers, body: new URLSearchParams(form).toString() }
}

/**
 * A test client over a Hono app or a fetcher (see {@link TestClient}).
 *
 * @example
 * ```ts
 * import { env, SELF } from 'cloudflare:test'
 * import { createTestClient } from 'edge-session/testing'
 * const client = createTestClient(app, { env, session: sessionOptions })
 * const viaWorker = createTestClient(SELF, { env, session: sessionOptions, url: 'https://example.com' })
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: Hono's own default environment
export function createTestClient<E extends Env = any>(
  target: AppLike | FetcherLike,
  options: TestClientOptions<E> = {},
): TestClient<E> {
  return new TestClient<E>(target, options)
}
