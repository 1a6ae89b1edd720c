/**
 * @module
 * The test client (Django's test `Client`): requests to a Hono app (`app.request()` with
 * the test's bindings) or to any fetcher (`SELF`), a cookie jar across them, an `Origin`
 * of its own on unsafe methods, redirects followed on request (`follow`) and asserted
 * (`assertRedirects()`), and the session behind its cookie: `forceLogin()`, `session()`,
 * `messages()`, `logout()`.
 */
import type { Env } from 'hono'
import type { SessionOptions } from '../core/options.js'
import { messages as defaultMessages, type Message, type Messages } from '../features/messages.js'
import type { SessionData } from '../stores/types.js'
import { CookieJar } from './jar.js'
import { TestAssertionError } from './assertion.js'
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

/** Options of {@link testClient}. */
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

/** A request's options: `fetch()`'s, and whether to follow redirects. */
export interface TestRequestInit extends RequestInit {
  /**
   * Follow redirects as a browser does (Django's `follow=True`): a 301, 302 or 303 becomes
   * a `GET` without a body, a 307 or 308 is sent again with the same method and body (a
   * streamed body cannot be), each with the jar's cookies as they are by then. A redirect
   * to another origin than the client's `url` is not followed: it is the response. More
   * than 20 redirects, or one to a URL the chain already went to with the same status,
   * rejects (a loop).
   * @default false
   */
  follow?: boolean
}

/** One redirect a followed request went through (Django's `redirect_chain` entries). */
export interface Redirect {
  /** The `Location` as the response gave it. */
  readonly url: string
  /** The redirect's status (301, 302, 303, 307 or 308). */
  readonly status: number
}

/**
 * A response of the client: with `follow`, the last one, whose `redirectChain` lists the
 * redirects that led to it, oldest first; otherwise the response itself, with an empty chain.
 */
export type TestResponse = Response & { readonly redirectChain: readonly Redirect[] }

/** Options of {@link TestClient.assertRedirects}. */
export interface AssertRedirectsOptions {
  /**
   * The redirect's status (of the first redirect, for a followed response).
   * @default any of 301, 302, 303, 307, 308
   */
  status?: number
  /**
   * The status the target must answer with: a followed response's own status, else the
   * client `GET`s the `Location` (with its cookies, so the page runs: flash messages
   * shown there are consumed, as in a browser).
   * @default undefined (the target is not checked)
   */
  targetStatus?: number
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
/** The statuses a browser follows (Fetch, "redirect status"). */
const REDIRECTS = new Set([301, 302, 303, 307, 308])
/** Django's test client gives up after 20 redirects, as browsers do. */
const MAX_REDIRECTS = 20

/**
 * A browser for tests. Requests follow redirects only when asked (`{ follow: true }`), and
 * every response's `Set-Cookie` lands in {@link TestClient.cookies}.
 *
 * @example
 * ```ts
 * const client = testClient(app, { env, session: sessionOptions })
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

  /**
   * Sends a request with the jar's cookies (and `Origin` on an unsafe method); keeps the
   * cookies of the answer. With `follow`, goes on through the redirects (see
   * {@link TestRequestInit.follow}).
   */
  async request(path: string, init: TestRequestInit = {}): Promise<TestResponse> {
    const { follow = false, ...first } = init
    let url = new URL(path, this.#base)
    let sent: RequestInit = first
    let res = await this.#send(url, sent)
    const chain: Redirect[] = []
    while (follow && REDIRECTS.has(res.status)) {
      const location = res.headers.get('Location')
      if (location === null) break
      const next = new URL(location, url)
      // The client talks to one app: another origin is not ours to request.
      if (next.origin !== this.#base.origin) break
      if (
        chain.length === MAX_REDIRECTS ||
        chain.some((r) => r.url === location && r.status === res.status)
      )
        throw new Error(
          `${init.method ?? 'GET'} ${path}: a redirect loop (${[...chain, { url: location, status: res.status }].map((r) => `${r.status} ${r.url}`).join(', ')})`,
        )
      chain.push({ url: location, status: res.status })
      sent = res.status === 307 || res.status === 308 ? sent : asGet(sent)
      url = next
      res = await this.#send(url, sent)
    }
    return withChain(res, chain)
  }

  /** One request, one response: the jar's cookies out, its `Set-Cookie`s in. */
  async #send(url: URL, init: RequestInit): Promise<Response> {
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
  get(path: string, init: TestRequestInit = {}): Promise<TestResponse> {
    return this.request(path, { ...init, method: 'GET' })
  }

  /** `POST path` with a JSON or form body (or none). */
  post(path: string, body?: TestBody, init: TestRequestInit = {}): Promise<TestResponse> {
    return this.request(path, withBody({ ...init, method: 'POST' }, body))
  }

  /** `PUT path` with a JSON or form body (or none). */
  put(path: string, body?: TestBody, init: TestRequestInit = {}): Promise<TestResponse> {
    return this.request(path, withBody({ ...init, method: 'PUT' }, body))
  }

  /** `PATCH path` with a JSON or form body (or none). */
  patch(path: string, body?: TestBody, init: TestRequestInit = {}): Promise<TestResponse> {
    return this.request(path, withBody({ ...init, method: 'PATCH' }, body))
  }

  /** `DELETE path`. */
  delete(path: string, init: TestRequestInit = {}): Promise<TestResponse> {
    return this.request(path, { ...init, method: 'DELETE' })
  }

  /**
   * Asserts that `res` redirects to `expected` (Django's `assertRedirects()`): its status
   * is a redirect (or `options.status`) and its `Location`, resolved against the client's
   * `url`, is `expected` resolved the same way (`'/login?next=%2Faccount'` or the whole
   * URL). For a response of a followed request, the first redirect's status and the last
   * redirect's `Location` are checked. With `targetStatus`, the target's status too.
   * Rejects with an `AssertionError` (`actual`, `expected`) saying what differed.
   *
   * @example
   * ```ts
   * const res = await client.get('/account')
   * await client.assertRedirects(res, '/login?next=%2Faccount', { status: 302, targetStatus: 200 })
   * ```
   */
  async assertRedirects(
    res: Response,
    expected: string,
    options: AssertRedirectsOptions = {},
  ): Promise<void> {
    const chain = (res as Partial<TestResponse>).redirectChain ?? []
    const first = chain[0]
    const status = first?.status ?? res.status
    const wanted = options.status
    if (wanted === undefined ? !REDIRECTS.has(status) : status !== wanted)
      throw new TestAssertionError(
        `Response didn't redirect as expected: its status was ${status} (expected ${wanted ?? 'a redirect: 301, 302, 303, 307 or 308'})`,
        status,
        wanted ?? 'a redirect',
      )
    const location = chain.at(-1)?.url ?? res.headers.get('Location')
    if (location === null)
      throw new TestAssertionError(`Response didn't redirect as expected: it has no Location`)
    const actualUrl = new URL(location, this.#base).href
    const expectedUrl = new URL(expected, this.#base).href
    if (actualUrl !== expectedUrl)
      throw new TestAssertionError(
        `Response redirected to '${location}', expected '${expected}'`,
        actualUrl,
        expectedUrl,
      )
    if (options.targetStatus === undefined) return
    const target = chain.length > 0 ? res.status : (await this.get(location)).status
    if (target !== options.targetStatus)
      throw new TestAssertionError(
        `Couldn't retrieve redirection page '${location}': its status was ${target} (expected ${options.targetStatus})`,
        target,
        options.targetStatus,
      )
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
    return this.withSession<Partial<Data>, Data>((s) => s.toObject())
  }

  /** The user the client's session is logged in as, or `null`. */
  async user(): Promise<string | null> {
    return this.withSession((s) => s.getUser())
  }

  /**
   * The flash messages waiting in the client's session, oldest first, read and removed as
   * the next page's `messages.get(c)` would (Django's `get_messages()`): a second call
   * returns `[]`. `flash` is the app's own messages API when it made one with its own tags
   * (`flashMessages({ tags })`).
   *
   * @example
   * ```ts
   * await client.post('/login', { form: { name: 'ada', password: 'correct horse' } })
   * expect((await client.messages()).map(String)).toEqual(['Welcome back, ada.'])
   * ```
   */
  async messages(flash: Messages = defaultMessages): Promise<Message[]> {
    return this.withSession((s) => flash.get(s))
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

/**
 * What a 301, 302 or 303 sends next: a `GET` without the body or the headers that describe
 * it (Fetch, "HTTP-redirect fetch", step 12); other headers stay.
 */
function asGet(init: RequestInit): RequestInit {
  const headers = new Headers(init.headers)
  for (const name of ['Content-Type', 'Content-Length', 'Content-Encoding', 'Content-Language'])
    headers.delete(name)
  return { ...init, body: null, method: 'GET', headers }
}

/** `res` with its redirect chain, as a property a test reads like Django's `redirect_chain`. */
function withChain(res: Response, chain: readonly Redirect[]): TestResponse {
  Object.defineProperty(res, 'redirectChain', { value: Object.freeze(chain), enumerable: false })
  return res as TestResponse
}

/** `init` with `body` encoded and its `Content-Type` set. */
function withBody(init: TestRequestInit, body: TestBody | undefined): TestRequestInit {
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
 * import { testClient } from 'edge-session/testing'
 * const client = testClient(app, { env, session: sessionOptions })
 * const viaWorker = testClient(SELF, { env, session: sessionOptions, url: 'https://example.com' })
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: Hono's own default environment
export function testClient<E extends Env = any>(
  target: AppLike | FetcherLike,
  options: TestClientOptions<E> = {},
): TestClient<E> {
  return new TestClient<E>(target, options)
}
