/**
 * @module
 * edge-session: Django-grade sessions for Hono on Cloudflare Workers.
 */
export { session, type SessionEnv } from './middleware.js'
export { Session, TEST_COOKIE_VALUE } from './session.js'
export { resolveOptions, MAX_COOKIE_AGE, type SessionOptions, type RollingOptions, type SameSite, type ResolvedSessionOptions } from './options.js'
export { SessionError, BadSignatureError, SignatureExpiredError, type SessionErrorCode, type BadSignatureReason } from './errors.js'
export { setCookie, getCookie, deleteCookie, serializeCookie, readRawCookie, trimCookieWhitespace, isHttps, MAX_COOKIE_BYTES, type CookieOptions } from './cookies.js'
export { kvStore, kvKeyFor, KV_KEY_PREFIX, KV_MIN_TTL, type KVStoreOptions, type SecurityEvent } from './stores/kv.js'
export type { SessionStore, SessionRecord, SessionWrite, SessionChanges, StoreContext, SessionData, ExpirySetting } from './stores/types.js'
export { generateSessionId, isSessionId } from './id.js'
export { createSigner, type Signer, type SignerOptions, type SignOptions, type UnsignOptions, type VerifiedValue } from './signing.js'
export { MIN_SECRET_BYTES } from './secrets.js'
export { setSignedCookie, getSignedCookie, type SetSignedCookieOptions, type GetSignedCookieOptions } from './signed-cookies.js'
export { cookieStore, type CookieStoreOptions } from './stores/cookie.js'
