/**
 * @module
 * The Durable Object store's side of a write: the changes in the form the object takes,
 * the object's answer turned into the store's (an error, or the merged expiry for the
 * cookie), and the merge of writes that landed on a session taken from another object.
 */
import { SessionError } from '../../foundation/errors.js'
import { decodeRecord } from '../record.js'
import type { SessionChanges, SessionWrite } from '../types.js'
import { encodeMerged, mergeRecord, type KeyChanges } from './merge.js'
import type { SessionObject, WriteResult } from './object.js'

/** The changes in the form the object takes: key names only (values travel in the record). */
export function keyChanges(changes: SessionChanges | null): KeyChanges | null {
  return changes === null
    ? null
    : { set: Object.keys(changes.set), deleted: [...changes.deleted], expiry: changes.expiry }
}

/** Turns an object's answer into the store's: an error, or the merged expiry in `write.record` for the cookie. */
export function settle(result: WriteResult, write: SessionWrite): void {
  if (result.status === 'gone' || result.status === 'ended') throw interrupted()
  if (result.status === 'too-large') {
    throw new SessionError(
      'PAYLOAD_TOO_LARGE',
      `With the changes of concurrent requests, the session would pass ${write.maxPayloadBytes} bytes.`,
    )
  }
  write.record.expiry = result.expiry
  write.record.expiresAt = result.expiresAt
}

/**
 * Replaces the new row `hash` with `taken` (the session it replaces, as it was when taken
 * from its object) plus this request's changes, when that differs from what was inserted:
 * a write that landed on the old session meanwhile is kept.
 */
export async function rebase(
  stub: DurableObjectStub<SessionObject>,
  hash: string,
  taken: string,
  write: SessionWrite,
  changes: KeyChanges,
): Promise<void> {
  const stored = decodeRecord(taken)
  const { record, now, lifetime, maxPayloadBytes } = write
  if (typeof stored === 'string') return
  const merged = mergeRecord({ stored, mine: record, changes, lifetime, now }, record)
  const text = encodeMerged(merged, maxPayloadBytes)
  // Too large once merged: the new session keeps this request's own copy.
  if (text === 'too-large' || text === write.serialized) return
  settle(
    await stub.update(hash, { record: text, changes: null, now, maxPayloadBytes, lifetime }),
    write,
  )
}

/** A load of a key whose session moved to a new key meanwhile. */
export const moved = (): SessionError =>
  new SessionError(
    'SESSION_INTERRUPTED',
    'The session moved to a new key in another request while this one ran; its changes were not saved.',
  )

/** A write of a session another request ended (or moved) meanwhile. */
export const interrupted = (): SessionError =>
  new SessionError(
    'SESSION_INTERRUPTED',
    'The session was ended by another request while this one ran; its changes were not saved.',
  )
