/**
 * @module
 * `loginRequired()`, Django's `login_required`: a middleware that lets a logged-in
 * session through and sends anyone else to the login page (a page request) or answers
 * 401 (a JSON request); and `safeRedirectPath()`, the check a login handler makes on the
 * `next` it is given, so that neither is an open redirect. A feature over the session's
 * public API (`getUser()`), like flash messages.
 */
import type { Context, Env, MiddlewareHandler } from 'hono'
import { sessionOf } from '../core/session.js'
import { invalidOption, type SessionError } from '../foundation/errors.js'

/** Options of {@link loginRequired}. */
export interface LoginRequiredOptions {
  /**
   * Where a page request without a logged-in session is redirected (Django's
   * `LOGIN_URL`): a path on this site, starting with one `/`, with or without a query.
   * @default '/login'
   */
  loginUrl?: string
  /**
   * The query parameter that carries the page asked for (Django's `REDIRECT_FIELD_NAME`).
   * @default 'next'
   */
  redirectFieldName?: string
  /**
   * Whether the request wants JSON, and so gets a 401 rather than a redirect.
   * @default the request sends `Content-Type: application/json`, or accepts
   * `application/json` and not `text/html`
   */
  isJson?: (c: Context) => boolean
}

/** What a JSON request without a logged-in session gets, with status 401. */
export interface LoginRequiredBody {
  error: string
  code: 'NOT_LOGGED_IN'
}

/** Whether `encodeURI()` takes `value`, which `c.redirect()` applies to a non-Latin-1 path: it throws on a lone surrogate. */
function encodable(value: string): boolean {
  try {
    encodeURI(value)
    return true
  } catch {
    return false
  }
}

/**
 * Whether `value` is a path on this site that a redirect may safely go to (Django's
 * `url_has_allowed_host_and_scheme()` for relative URLs): it starts with one `/`, and
 * holds no backslash and no control character, which browsers would read as another host
 * (`//evil.example`, `/\evil.example`, `/\tevil.example`), and no lone surrogate, which
 * no `Location` header can carry.
 */
function isSafePath(value: string): boolean {
  return (
    value.startsWith('/') &&
    !value.startsWith('//') &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
    !/[\\\u0000-\u001f\u007f]/.test(value) &&
    encodable(value)
  )
}

/**
 * The `next` a login handler was given, if it is a path on this site; `fallback`
 * otherwise (missing, absolute, scheme-relative, or another host in disguise). Use it
 * wherever `next` comes from the client, so that the login form is no open redirect;
 * with `fallback` `null` it answers whether a path is safe (`null` when it is not).
 *
 * @default fallback '/'
 * @example
 * ```ts
 * app.post('/login', async (c) => {
 *   const form = await c.req.parseBody()
 *   // … check the password, then:
 *   await c.get('session').login(user.id)
 *   return c.redirect(safeRedirectPath(c.req.query('next')), 303)
 * })
 * safeRedirectPath('/account?tab=2') // '/account?tab=2'
 * safeRedirectPath('/\\evil.example', null) // null
 * safeRedirectPath('//evil.example') // '/'
 * ```
 */
export function safeRedirectPath(next: string | null | undefined, fallback?: string): string
export function safeRedirectPath(
  next: string | null | undefined,
  fallback: string | null,
): string | null
export function safeRedirectPath(
  next: string | null | undefined,
  fallback: string | null = '/',
): string | null {
  return typeof next === 'string' && isSafePath(next) ? next : fallback
}

/**
 * The default of {@link LoginRequiredOptions.isJson}: the request sends
 * `Content-Type: application/json`, or accepts `application/json` and not `text/html`.
 *
 * @example
 * ```ts
 * loginRequired({ isJson: (c) => c.req.path.startsWith('/api/') || wantsJson(c) })
 * ```
 */
export function wantsJson(c: Context): boolean {
  const type = c.req.header('Content-Type') ?? ''
  if (/^application\/json\b/i.test(type)) return true
  const accept = c.req.header('Accept') ?? ''
  return /\bapplication\/json\b/i.test(accept) && !/\btext\/html\b/i.test(accept)
}

const invalid = (option: string, why: string): SessionError =>
  invalidOption('loginRequired()', option, why)

/**
 * Lets a request through only when its session is logged in (`session.login()`), as
 * Django's `login_required`. Otherwise a page request is redirected (302) to `loginUrl`
 * with the path asked for (and its query) as `next`, and a JSON request gets 401 with
 * `{ "error": …, "code": "NOT_LOGGED_IN" }`. `next` is only ever a path on this site: a
 * request path that a browser would read as another host gets no `next` at all. Needs
 * the `session()` middleware before it (`SessionError` `MISSING_STORE` otherwise). A
 * session logged out by a password change (`authHash`) counts as logged out.
 *
 * Throws `SessionError` `INVALID_OPTION`, naming the option, for a `loginUrl` that is
 * not a path on this site or an empty `redirectFieldName`.
 *
 * @example
 * ```ts
 * const app = new Hono<AppEnv>()
 * app.use(session<AppEnv>())
 * app.use('/account/*', loginRequired({ loginUrl: '/login' }))
 * app.get('/account/profile', async (c) => c.text(`hello ${await c.get('session').getUser()}`))
 * // GET /account/profile, logged out: 302 to /login?next=%2Faccount%2Fprofile
 * ```
 */
export function loginRequired<E extends Env = Env>(
  options: LoginRequiredOptions = {},
): MiddlewareHandler<E> {
  const loginUrl = options.loginUrl ?? '/login'
  if (typeof loginUrl !== 'string' || !isSafePath(loginUrl))
    throw invalid('loginUrl', 'must be a path on this site, starting with one "/"')
  const field = options.redirectFieldName ?? 'next'
  if (typeof field !== 'string' || field === '')
    throw invalid('redirectFieldName', 'must be a non-empty string')
  const isJson = options.isJson ?? wantsJson
  if (typeof isJson !== 'function') throw invalid('isJson', 'must be a function (c) => boolean')
  const [loginPath = loginUrl, loginQuery = ''] = loginUrl.split(/\?(.*)/s)

  return async function loginRequiredMiddleware(c, next) {
    if ((await sessionOf(c as Context, 'loginRequired()').getUser()) !== null) return next()
    if (isJson(c))
      return c.json(
        { error: 'Authentication required', code: 'NOT_LOGGED_IN' } satisfies LoginRequiredBody,
        401,
      )
    const url = new URL(c.req.url)
    const asked = url.pathname + url.search
    const query = new URLSearchParams(loginQuery)
    if (isSafePath(asked)) query.set(field, asked)
    const search = query.toString()
    return c.redirect(search === '' ? loginPath : `${loginPath}?${search}`, 302)
  }
}
