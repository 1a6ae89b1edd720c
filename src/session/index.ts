/**
 * @module
 * edge-session: Django-grade sessions for Hono on Cloudflare Workers. What an app uses:
 * the middleware and its `Session`, the stores for KV and cookies, cookie helpers and
 * signing, flash messages, `loginRequired()`, `freshAuth()`, device binding, and the
 * security events. The Durable Object store is `edge-session/durable-object`; what a store
 * author needs is `edge-session/store`; what tests need is `edge-session/testing`.
 */
export { session, type SessionEnv } from './core/middleware.js'
export type { SessionOptions } from './core/options.js'
export { Session } from './core/session.js'
export {
  BadSignatureError,
  SessionError,
  type SessionErrorCode,
  SignatureExpiredError,
} from './foundation/errors.js'
export { kvStore, type KVStoreOptions } from './stores/kv.js'
export { cookieStore, type CookieStoreOptions } from './stores/cookie.js'
export type { SessionData, SessionInfo } from './stores/types.js'
export type { ListSessionsOptions, SecurityEventsOptions } from './stores/list-page.js'
export type { RevokedBy, SessionEvent } from './stores/events.js'
export { type CookieOptions, deleteCookie, getCookie, setCookie } from './cookies/helpers.js'
export {
  type GetSignedCookieOptions,
  getSignedCookie,
  type SetSignedCookieOptions,
  setSignedCookie,
} from './cookies/signed.js'
export { type Signer, type SignerOptions, timestampSigner } from './cookies/signing.js'
export {
  flashMessages,
  Message,
  type MessageLevel,
  type Messages,
  type MessagesOptions,
  messages,
} from './features/messages.js'
export {
  type LoginRequiredOptions,
  loginRequired,
  safeRedirectPath,
  wantsJson,
} from './features/login-required.js'
export { type FreshAuthOptions, freshAuth } from './features/fresh-auth.js'
export { type DeviceBoundOptions, deviceBound } from './device-bound/index.js'
