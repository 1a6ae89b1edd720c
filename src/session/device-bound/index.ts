/**
 * @module
 * `deviceBound()`: Device Bound Session Credentials (W3C WebAppSec draft) for
 * `session()`. Its options, resolved once, and the hook the core calls: the login
 * response offers registration, every load of a bound session asks for the bound cookie,
 * and the registration and refresh routes answer before any handler.
 */
import { resolveSecrets } from '../cookies/secrets.js'
import { COOKIE_NAME } from '../foundation/cookie-grammar.js'
import { invalidOption, type SessionError } from '../foundation/errors.js'
import type { DeviceBinding } from '../core/options.js'
import {
  admission,
  registrationHeader,
  setBoundCookie,
  type ResolvedDeviceBound,
} from './responses.js'
import { register, refresh } from './routes.js'
import { newDeviceId, resolveSigner, type SecretSource } from './tokens.js'

/** Options of {@link deviceBound}. */
export interface DeviceBoundOptions {
  /**
   * The secret that signs bound cookies and challenges (at least 32 bytes), or a function
   * of the request returning it (e.g. `(c) => c.env.SESSION_SECRET`) or the secrets while
   * one is rotated out, current first (`(c) => [c.env.SESSION_SECRET, c.env.OLD_SECRET]`).
   */
  secret: SecretSource
  /** Older secrets that still verify while being rotated out. @default [] */
  fallbacks?: readonly string[]
  /**
   * Lifetime of the bound cookie in seconds: how long a copied cookie jar keeps working,
   * and how often the browser proves its key (one refresh per lifetime per device).
   * @default 600
   */
  maxAge?: number
  /** Name of the bound cookie. @default the session cookie's name + `_bound` */
  cookieName?: string
  /** Where the browser registers its key (POST; the option answers it). @default '/.well-known/dbsc/register' */
  registrationPath?: string
  /** Where the browser refreshes the bound cookie (POST; the option answers it). @default '/.well-known/dbsc/refresh' */
  refreshPath?: string
  /** How long a challenge may be answered, in seconds. @default 300 */
  challengeMaxAge?: number
}

const invalid = (option: string, why: string): SessionError =>
  invalidOption('deviceBound()', option, why)
const PATH = /^\/[!#-:<-~]*$/

/**
 * Device Bound Session Credentials for `session({ deviceBound })`, on every store. The
 * response to `login()` offers the browser registration (`Secure-Session-Registration`)
 * and sets a first bound cookie; a browser with DBSC (Chrome 145+ on Windows, 147+ on macOS) registers a
 * key, kept in the session's record, and renews the short-lived bound cookie by proving
 * it. Once a session is bound, a request with its session cookie but without a valid
 * bound cookie reads as no session at all: a copied cookie jar is worthless after one
 * bound-cookie lifetime. Browsers without DBSC never register: nothing changes for them.
 * Throws `SessionError` `INVALID_OPTION` naming a bad option.
 *
 * @example
 * ```ts
 * app.use(session({ deviceBound: deviceBound({ secret: (c) => c.env.SESSION_SECRET, maxAge: 600 }) }))
 * ```
 */
export function deviceBound(options: DeviceBoundOptions): DeviceBinding {
  const fallbacks = options.fallbacks ?? []
  if (typeof options.secret === 'string') resolveSecrets('deviceBound()', options.secret, fallbacks)
  else if (typeof options.secret !== 'function')
    throw invalid(
      'secret',
      'must be a string or a function (c) => secret or [secret, ...older secrets]',
    )
  const maxAge = options.maxAge ?? 600
  if (!Number.isInteger(maxAge) || maxAge < 1 || maxAge > 86400)
    throw invalid('maxAge', 'must be a whole number of seconds from 1 to 86400')
  const cookieName = options.cookieName ?? null
  if (cookieName !== null && !COOKIE_NAME.test(cookieName))
    throw invalid('cookieName', 'must be an RFC 6265 token')
  const registrationPath = options.registrationPath ?? '/.well-known/dbsc/register'
  const refreshPath = options.refreshPath ?? '/.well-known/dbsc/refresh'
  if (!PATH.test(registrationPath))
    throw invalid(
      'registrationPath',
      'must start with "/" and hold no space, quote, ";" or non-ASCII character',
    )
  if (!PATH.test(refreshPath) || refreshPath === registrationPath)
    throw invalid(
      'refreshPath',
      'must start with "/", hold no space, quote, ";" or non-ASCII character, and differ from registrationPath',
    )
  const challengeMaxAge = options.challengeMaxAge ?? 300
  if (!Number.isInteger(challengeMaxAge) || challengeMaxAge < 1 || challengeMaxAge > 3600)
    throw invalid('challengeMaxAge', 'must be a whole number of seconds from 1 to 3600')
  const o: ResolvedDeviceBound = {
    signer: resolveSigner(options.secret, fallbacks),
    maxAge,
    cookieName,
    registrationPath,
    refreshPath,
    challengeMaxAgeMs: challengeMaxAge * 1000,
  }

  return {
    paths: [registrationPath, refreshPath],
    route(state) {
      const { c } = state
      if (c.req.method !== 'POST') return undefined
      if (c.req.path === registrationPath) return register(o, state)
      if (c.req.path === refreshPath) return refresh(o, state)
      return undefined
    },
    admits: (state, device) => admission(o, state, device),
    newDevice: () => ({ id: newDeviceId(), alg: null, jwk: null, seen: 0 }),
    async offer(state, device) {
      const header = await registrationHeader(o, state, device)
      const cookie = await setBoundCookie(o, state, device)
      return () => {
        state.c.header('Secure-Session-Registration', header)
        cookie()
      }
    },
  }
}
