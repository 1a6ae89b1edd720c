/**
 * @module
 * `edge-session/store`: what a store author needs to write a `SessionStore` of their own
 * (D1, Postgres through Hyperdrive, Redis): the contract and the types it passes, the
 * record's codec every library store keeps, and session ids. Run the contract's
 * conformance suite on it with `storeConformance()` from `edge-session/testing`.
 *
 * @example
 * ```ts
 * import { decodeRecord, type SessionStore } from 'edge-session/store'
 * ```
 */
export type {
  DestroyContext,
  DeviceKey,
  EmptyResult,
  ExpirySetting,
  ImpersonationStart,
  KeyChanges,
  LoadedRecord,
  RegistryContext,
  RotationPolicy,
  SaveResult,
  SecurityEvent,
  SessionAuth,
  SessionCursor,
  SessionDevice,
  SessionImpersonation,
  SessionLifetime,
  SessionRecord,
  SessionRegistry,
  SessionRotation,
  SessionSockets,
  SessionStore,
  SessionWrite,
  StoreContext,
  TrailContext,
} from './stores/types.js'
export type {
  EventActor,
  EventCursor,
  EventFields,
  ImpersonationEnd,
  ImpersonationFields,
  SessionEventType,
} from './stores/events.js'
export { type CorruptReason, decodeRecord, encodeRecord } from './stores/record.js'
export { generateSessionId, isSessionId, sha256Hex } from './foundation/id.js'
export type { KVNamespaceLike } from './stores/kv.js'
export type { DeviceDetails, DeviceLocation, DeviceType } from './foundation/device.js'
