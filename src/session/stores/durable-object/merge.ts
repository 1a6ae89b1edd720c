/**
 * @module
 * How one request's changes are applied to a session as it is now, for the Durable Object
 * store: keys merge one by one, and the expiry merges like a key (only a request that
 * changed it writes it; otherwise the stored one stays and `expiresAt` follows it), and a
 * registration the request did not see is kept (`mergeDevice()`). Pure functions, used by the object (updates and moves in one object) and by the store (a
 * session moved from another object).
 */
import { SessionError } from '../../foundation/errors.js'
import { encodeRecord, expiresAtFor, mergeDevice } from '../record.js'
import type {
  ExpirySetting,
  KeyChanges,
  SessionData,
  SessionLifetime,
  SessionRecord,
} from '../types.js'

/** What a merge is given: the stored session, the request's own record and its changes. */
export interface MergeInput {
  stored: SessionRecord
  mine: SessionRecord
  /** `null`: the request replaces the data and the expiry whole (a new session, `clear()`, `markModified()`). */
  changes: KeyChanges | null
  lifetime: SessionLifetime
  now: number
}

const sameExpiry = (a: ExpirySetting, b: ExpirySetting): boolean =>
  JSON.stringify(a) === JSON.stringify(b)

/**
 * The session once `changes` are applied to `stored` (its data in place): the creation
 * time and user of `base` (the session the row goes on as, whose `createdAt` also bounds
 * the absolute lifetime), and the device binding {@link mergeDevice} keeps.
 */
export function mergeRecord(
  { stored, mine, changes, lifetime, now }: MergeInput,
  base: Pick<SessionRecord, 'createdAt' | 'auth'>,
): SessionRecord {
  const { createdAt, auth } = base
  const device = mergeDevice(stored.device, mine.device)
  if (changes === null)
    return {
      data: mine.data,
      expiry: mine.expiry,
      expiresAt: mine.expiresAt,
      createdAt,
      auth,
      device,
    }
  const data: SessionData = stored.data
  for (const key of changes.deleted) delete data[key]
  for (const key of changes.set) if (key in mine.data) data[key] = mine.data[key]
  if (changes.expiry || sameExpiry(stored.expiry, mine.expiry))
    return { data, expiry: mine.expiry, expiresAt: mine.expiresAt, createdAt, auth, device }
  return {
    data,
    expiry: stored.expiry,
    expiresAt: expiresAtFor(stored.expiry, lifetime, now, createdAt),
    createdAt,
    auth,
    device,
  }
}

/** Encodes a merged record, or `'too-large'` when it passes `maxBytes`. */
export function encodeMerged(record: SessionRecord, maxBytes: number): string | 'too-large' {
  try {
    return encodeRecord(record, maxBytes)
  } catch (error) {
    if (error instanceof SessionError && error.code === 'PAYLOAD_TOO_LARGE') return 'too-large'
    throw error
  }
}
