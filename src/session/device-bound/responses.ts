/**
 * @module
 * What the device binding writes on responses and reads back: the bound and key cookies
 * with the session cookie's `Path`, `Domain` and `SameSite` (always `Secure` and
 * `HttpOnly`), the attributes the instructions JSON names for the bound cookie, and the
 * registration offer.
 */
import type { Context } from 'hono'
import { readRawCookie, setCookie, type CookieOptions } from '../cookies/helpers.js'
import type { Signer } from '../cookies/signing.js'
import type { Admission, BindingState } from '../core/options.js'
import type { SessionDevice } from '../stores/types.js'
import { sfString } from './proof.js'
import {
  boundCookieExpiry,
  boundCookieValid,
  boundCookieValue,
  keyCookieValue,
  keyFromCookie,
  newChallenge,
} from './tokens.js'

/** `deviceBound()`'s options, resolved once: what the hook and the routes use. */
export interface ResolvedDeviceBound {
  /** The signer of bound cookies and challenges for a request (made once for a string secret). */
  signer: (c: Context) => Signer
  maxAge: number
  cookieName: string | null
  registrationPath: string
  refreshPath: string
  challengeMaxAgeMs: number
}

/** The bound cookie's name for a session configured as `state.options`. */
export const boundCookieName = (o: ResolvedDeviceBound, state: BindingState): string =>
  o.cookieName ?? `${state.options.cookieName}_bound`

/** Whether the request carries a valid, unexpired bound cookie made for `device` (one HMAC, no store operation). */
export function hasBoundCookie(
  o: ResolvedDeviceBound,
  state: BindingState,
  device: SessionDevice,
): Promise<boolean> {
  const value = readRawCookie(state.c.req.raw.headers.get('Cookie'), boundCookieName(o, state))
  return boundCookieValid(o.signer(state.c), device.id, value, state.now())
}

/**
 * What a request may do with a session bound to `device` (the `admits` hook): use it until
 * its bound cookie expires; not at all (no valid bound cookie); or not now, without
 * anything changing, when Chrome says it skipped the refresh (`Secure-Session-Skipped`).
 */
export async function admission(
  o: ResolvedDeviceBound,
  state: BindingState,
  device: SessionDevice,
): Promise<Admission> {
  const value = readRawCookie(state.c.req.raw.headers.get('Cookie'), boundCookieName(o, state))
  const until = await boundCookieExpiry(o.signer(state.c), device.id, value, state.now())
  if (until !== null) return { kind: 'bound', until }
  // The newest draft: Chrome could not refresh (unreachable, server_error, quota_exceeded)
  // and sends the request without the bound cookie. Anyone can send the header, so it
  // grants nothing; it only keeps the request from changing the session.
  return state.c.req.raw.headers.has('Secure-Session-Skipped')
    ? { kind: 'skipped' }
    : { kind: 'refused' }
}

/** The bound cookie's attributes as the instructions JSON names them (Max-Age and Expires aside). */
export function boundCookieAttributes(state: BindingState): string {
  const { domain, path, sameSite } = state.options
  return `${domain === undefined ? '' : `Domain=${domain}; `}Path=${path}; Secure; HttpOnly; SameSite=${sameSite}`
}

/** The bound and key cookies' attributes: the session cookie's `Path`, `Domain` and `SameSite`, always `Secure` and `HttpOnly`. */
function cookieOptions(state: BindingState, maxAge: number, now: number): CookieOptions {
  const { domain, path, sameSite } = state.options
  return {
    path,
    sameSite,
    secure: true,
    httpOnly: true,
    maxAge,
    now,
    ...(domain === undefined ? {} : { domain }),
  }
}

/** The key cookie's name: the bound cookie's + `_key`. */
const keyCookieName = (o: ResolvedDeviceBound, state: BindingState): string =>
  `${boundCookieName(o, state)}_key`

/** Sets the key cookie for a registered `device` (as long-lived as the session cookie's `maxAge`). */
export async function setKeyCookie(
  o: ResolvedDeviceBound,
  state: BindingState,
  device: SessionDevice,
): Promise<() => void> {
  const { c, options } = state
  if (device.alg === null || device.jwk === null) return () => undefined
  const value = await keyCookieValue(o.signer(c), device.id, { alg: device.alg, jwk: device.jwk })
  const attributes = cookieOptions(state, options.maxAge, state.now())
  return () => setCookie(c, keyCookieName(o, state), value, attributes)
}

/**
 * `device` with the key its key cookie carries, when the record lost it (a write that
 * loaded the session before registration saved after it, on KV or the cookie store);
 * `device` as it is otherwise.
 */
export async function withCookieKey(
  o: ResolvedDeviceBound,
  state: BindingState,
  device: SessionDevice,
): Promise<SessionDevice> {
  if (device.jwk !== null) return device
  const value = readRawCookie(state.c.req.raw.headers.get('Cookie'), keyCookieName(o, state))
  const key = await keyFromCookie(o.signer(state.c), device.id, value)
  return key === null ? device : { ...device, alg: key.alg, jwk: key.jwk }
}

/** Sets the bound cookie for `device` on the response, `maxAge` seconds from the session's clock. */
export async function setBoundCookie(
  o: ResolvedDeviceBound,
  state: BindingState,
  device: SessionDevice,
): Promise<() => void> {
  const now = state.now()
  const value = await boundCookieValue(
    o.signer(state.c),
    device.id,
    Math.floor(now / 1000) + o.maxAge,
  )
  const attributes = cookieOptions(state, o.maxAge, now)
  return () => setCookie(state.c, boundCookieName(o, state), value, attributes)
}

/** The `Secure-Session-Registration` header for `device`, with a fresh challenge. */
export async function registrationHeader(
  o: ResolvedDeviceBound,
  state: BindingState,
  device: SessionDevice,
): Promise<string> {
  const challenge = await newChallenge(o.signer(state.c), device.id, state.now())
  return `(ES256 RS256);path=${sfString(o.registrationPath)};challenge=${sfString(challenge)}`
}
