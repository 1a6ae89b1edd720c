/**
 * @module
 * edge-session: Django-grade sessions for Hono on Cloudflare Workers.
 */
export { session, type SessionEnv, type SessionEnvFor, type StoreEnvFor } from './middleware.js'
export { Session, TEST_COOKIE_VALUE } from './session.js'
export { resolveOptions, MAX_COOKIE_AGE, type SessionOptions, type RollingOptions, type SameSite, type ResolvedSessionOptions } from './options.js'
export { SessionError, BadSignatureError, SignatureExpiredError, type SessionErrorCode, type BadSignatureReason } from './errors.js'
export { setCookie, getCookie, deleteCookie, serializeCookie, readRawCookie, trimCookieWhitespace, isHttps, MAX_COOKIE_BYTES, type CookieOptions } from './cookies.js'
export { kvStore, kvKeyFor, kvRevokedKeyFor, KV_KEY_PREFIX, KV_MIN_TTL, KV_REVOKED_PREFIX, KV_REVOCATION_TTL, type KVStoreOptions, type KVNamespaceLike, type SecurityEvent } from './stores/kv.js'
export type { SessionStore, SessionRecord, SessionWrite, SessionChanges, StoreContext, SessionData, ExpirySetting, SessionAuth, SessionInfo, SessionRegistry, RegistryContext } from './stores/types.js'
export { generateSessionId, isSessionId } from './id.js'
export { createSigner, type Signer, type SignerOptions, type SignOptions, type UnsignOptions, type VerifiedValue } from './signing.js'
export { MIN_SECRET_BYTES } from './secrets.js'
export { setSignedCookie, getSignedCookie, type SetSignedCookieOptions, type GetSignedCookieOptions } from './signed-cookies.js'
export { cookieStore, type CookieStoreOptions } from './stores/cookie.js'
export {
  messages,
  createMessages,
  addMessage,
  getMessages,
  Message,
  MESSAGE_LEVELS,
  DEFAULT_MESSAGE_TAGS,
  MESSAGES_KEY,
  type Messages,
  type MessagesOptions,
  type AddMessageOptions,
  type AddAtLevel,
  type MessageLevel,
  type MessageLevelName,
  type MessageTarget,
} from './messages.js'
