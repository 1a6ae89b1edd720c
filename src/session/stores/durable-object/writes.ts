/**
 * @module
 * The Durable Object store's side of a write: the object's answer turned into the store's
 * (an error, or the expiry the stored session carries on with), and the merge of writes
 * that landed on a session taken from another object.
 */
import { SessionError } from '../../foundation/errors.js'
import { decodeRecord } from '../record.js'
import type { SessionEvent } from '../events.js'
import type { ExpirySetting, KeyChanges, SessionWrite } from '../types.js'
import { encodeMerged, mergeRecord } from './merge.js'
import type { Recording, SessionObject, SessionUpdate, WriteResult } from './object.js'
import { loginThrottled } from './throttle.js'

/** The expiry a written session carries on with, for the cookie, and the events the write recorded. */
export interface Settled {
  readonly expiry: ExpirySetting
  readonly expiresAt: number
  readonly events: readonly SessionEvent[]
}

/** The object's answer as the store's: the expiry it kept, or `SESSION_INTERRUPTED` / `PAYLOAD_TOO_LARGE` / `LOGIN_THROTTLED`. */
export function settle(result: WriteResult, maxPayloadBytes: number): Settled {
  if (result.status === 'gone' || result.status === 'ended' || result.status === 'moved')
    throw interrupted()
  if (result.status === 'throttled') throw loginThrottled(result.retryAfter)
  if (result.status === 'too-large') {
    throw new SessionError(
      'PAYLOAD_TOO_LARGE',
      `With the changes of concurrent requests, the session would pass ${maxPayloadBytes} bytes.`,
    )
  }
  return { expiry: result.expiry, expiresAt: result.expiresAt, events: result.events }
}

/** What the object is asked to apply for `write` (its record, as `text`). */
export function updateOf(
  write: SessionWrite,
  text: string,
  changes: KeyChanges | null,
): SessionUpdate {
  const { now, maxPayloadBytes, lifetime } = write
  return { record: text, changes, now, maxPayloadBytes, lifetime }
}

/**
 * Replaces the new row `hash` with `taken` (the session it replaces, as it was when taken
 * from its object) plus this request's changes, when that differs from what was inserted:
 * a write that landed on the old session meanwhile is kept. Resolves the expiry the row
 * then has, or `null` when it was left as inserted.
 */
export async function rebase(
  stub: DurableObjectStub<SessionObject>,
  hash: string,
  taken: string,
  write: SessionWrite,
  changes: KeyChanges,
  recording: Recording,
): Promise<Settled | null> {
  const stored = decodeRecord(taken)
  const { record, now, lifetime, maxPayloadBytes } = write
  if (typeof stored === 'string') return null
  const merged = mergeRecord({ stored, mine: record, changes, lifetime, now }, record)
  const text = encodeMerged(merged, maxPayloadBytes)
  // Too large once merged: the new session keeps this request's own copy.
  if (text === 'too-large' || text === write.serialized) return null
  return settle(await stub.update(hash, updateOf(write, text, null), recording), maxPayloadBytes)
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
