/**
 * @module
 * `edge-session/durable-object`: the Durable Object session store, the object class a
 * worker re-exports from its entry, and `userSessions()` for calls outside a request. Its
 * own entry point because the class imports `cloudflare:workers`; the main entry stays
 * importable from plain Node. The object's RPC methods and its SQLite schema are internal
 * (they change with the library); use the store and `userSessions()`.
 *
 * @example
 * ```ts
 * import { durableObjectStore } from 'edge-session/durable-object'
 * export { SessionObject } from 'edge-session/durable-object'
 * ```
 */
export { SessionObject } from './stores/durable-object/object.js'
export {
  type AdminCallOptions,
  type UserSessions,
  type UserSessionsOptions,
  userSessions,
} from './stores/durable-object/admin.js'
export type { EndReason, SocketPeer } from './stores/durable-object/sockets.js'
export {
  type DurableObjectStoreOptions,
  durableObjectStore,
} from './stores/durable-object/store.js'
export { DEVICE_BOUND_EXPIRED_CLOSE_CODE, SESSION_ENDED_CLOSE_CODE } from './stores/types.js'
export {
  DEFAULT_IMPERSONATION_MAX_AGE,
  type ImpersonateOptions,
} from './core/impersonation.js'
