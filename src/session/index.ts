/**
 * @module
 * edge-session: Django-grade sessions for Hono on Cloudflare Workers.
 */
export { session, type SessionEnv } from './middleware'
export { Session, TEST_COOKIE_VALUE } from './session'
export { resolveOptions, MAX_COOKIE_AGE, type SessionOptions, type RollingOptions, type SameSite, type ResolvedSessionOptions } from './options'
export { SessionError, type SessionErrorCode } from './errors'
export { setCookie, getCookie, deleteCookie, serializeCookie, readRawCookie, isHttps, MAX_COOKIE_BYTES, type CookieOptions } from './cookies'
export { kvStore, kvKeyFor, KV_KEY_PREFIX, KV_MIN_TTL, type KVStoreOptions, type SecurityEvent } from './stores/kv'
export type { SessionStore, SessionRecord, SessionWrite, SessionData, ExpirySetting } from './stores/types'
export { generateSessionId, isSessionId } from './id'
export { createSigner, BadSignatureError, SignatureExpiredError, MIN_SECRET_BYTES, type Signer, type SignerOptions, type SignOptions, type UnsignOptions, type VerifiedValue, type BadSignatureReason } from './signing'
export { setSignedCookie, getSignedCookie, type SetSignedCookieOptions, type GetSignedCookieOptions } from './signed-cookies'
export { cookieStore, type CookieStoreOptions } from './stores/cookie'
