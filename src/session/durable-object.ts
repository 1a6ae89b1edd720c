/**
 * @module
 * `edge-session/durable-object`: the Durable Object session store and the object class
 * a worker re-exports from its entry. Its own entry point because the class imports
 * `cloudflare:workers`; the main entry stays importable from plain Node.
 *
 * @example
 * ```ts
 * import { durableObjectStore } from 'edge-session/durable-object'
 * export { SessionObject } from 'edge-session/durable-object'
 * ```
 */
export {
  SessionObject,
  type SessionUpdate,
  type SessionMove,
  type WriteResult,
  type EndReason,
  type ListedRow,
  type Moved,
  FORWARD_TTL_MS,
} from './stores/durable-object/object.js'
export {
  userSessions,
  type UserSessions,
  type UserSessionsOptions,
} from './stores/durable-object/admin.js'
export type { SocketPeer } from './stores/durable-object/sockets.js'
export {
  durableObjectStore,
  type DurableObjectStoreOptions,
} from './stores/durable-object/store.js'
export { SCHEMA_VERSION, type SessionRow } from './stores/durable-object/schema.js'
