/**
 * @module
 * edge-session: Django-grade sessions for Hono on Cloudflare Workers.
 */
export {
  session,
  type SessionEnv,
  type SessionEnvFor,
  type StoreEnvFor,
} from './core/middleware.js'
export { Session, TEST_COOKIE_VALUE } from './core/session.js'
export { freshAuth, type FreshAuthOptions } from './fresh-auth.js'
export {
  resolveOptions,
  type SessionOptions,
  type RollingOptions,
  type ResolvedSessionOptions,
} from './core/options.js'
export { MAX_COOKIE_AGE, MAX_COOKIE_BYTES, type SameSite } from './foundation/cookie-grammar.js'
export {
  SessionError,
  BadSignatureError,
  SignatureExpiredError,
  type SessionErrorCode,
  type BadSignatureReason,
} from './foundation/errors.js'
export {
  setCookie,
  getCookie,
  deleteCookie,
  serializeCookie,
  readRawCookie,
  trimCookieWhitespace,
  isHttps,
  type CookieOptions,
} from './cookies/helpers.js'
export { KV_RATE_LIMIT_RETRIES } from './stores/retry.js'
export {
  kvStore,
  kvKeyFor,
  kvRevokedKeyFor,
  KV_KEY_PREFIX,
  KV_MIN_TTL,
  KV_REVOKED_PREFIX,
  KV_REVOCATION_TTL,
  type KVStoreOptions,
  type KVNamespaceLike,
} from './stores/kv.js'
export { SESSION_ENDED_CLOSE_CODE } from './stores/types.js'
export type {
  SessionSockets,
  SessionStore,
  SessionRecord,
  SessionWrite,
  KeyChanges,
  SaveResult,
  EmptyResult,
  StoreContext,
  SessionLifetime,
  SessionCursor,
  SessionData,
  ExpirySetting,
  SessionAuth,
  SessionDevice,
  DeviceKey,
  SessionInfo,
  SessionRegistry,
  RegistryContext,
  SecurityEvent,
} from './stores/types.js'
export { generateSessionId, isSessionId } from './foundation/id.js'
export type {
  EventActor,
  RevokedBy,
  SessionEvent,
  SessionEventType,
} from './stores/events.js'
export {
  DEFAULT_SESSION_LIST_LIMIT,
  MAX_SESSION_LIST_LIMIT,
  type ListSessionsOptions,
  type SecurityEventsOptions,
} from './stores/list-page.js'
export {
  createSigner,
  type Signer,
  type SignerOptions,
  type SignOptions,
  type UnsignOptions,
  type VerifiedValue,
} from './cookies/signing.js'
export { MIN_SECRET_BYTES } from './cookies/secrets.js'
export {
  setSignedCookie,
  getSignedCookie,
  type SetSignedCookieOptions,
  type GetSignedCookieOptions,
} from './cookies/signed.js'
export { cookieStore, type CookieStoreOptions } from './stores/cookie.js'
export { deviceBound, type DeviceBoundOptions } from './device-bound/index.js'
export type { DeviceBinding } from './core/options.js'
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
export {
  loginRequired,
  safeRedirectPath,
  isSafePath,
  wantsJson,
  type LoginRequiredOptions,
  type LoginRequiredBody,
} from './login-required.js'
