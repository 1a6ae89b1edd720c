/**
 * The commit's decision, as a table: what the end of a request does to the store, for
 * each shape of session and response. The I/O that runs it is tested through requests
 * in the store and session suites.
 */
import { describe, expect, it } from 'vitest'
import { type CommitAction, type CommitFacts, decide } from '../src/session/core/decide'

/** A loaded, unchanged, non-empty session of a request that succeeded. */
const LOADED: CommitFacts = {
  token: 'tok',
  retired: [],
  modified: false,
  frozen: false,
  skipped: false,
  empty: false,
  age: 3600,
  failed: false,
  rollingDue: false,
  saveEveryRequest: false,
  keyByKey: true,
  cookieSent: true,
  offerDevice: false,
  reissued: false,
}

const cases: [string, Partial<CommitFacts>, CommitAction][] = [
  ['an unchanged session: nothing', {}, { kind: 'nothing' }],
  [
    'a bound session whose refresh Chrome skipped, changed: nothing',
    { token: null, frozen: true, skipped: true, modified: true, cookieSent: true },
    { kind: 'nothing' },
  ],
  [
    'a bound session whose refresh Chrome skipped, emptied (a logout): nothing',
    { token: null, frozen: true, skipped: true, modified: true, empty: true, keyByKey: false },
    { kind: 'nothing' },
  ],
  [
    'rotated at the load, unchanged: only the cookie, with the new token',
    { reissued: true },
    { kind: 'reissue', token: 'tok' },
  ],
  [
    'rotated at the load and changed: saved under the new token (its cookie with it)',
    { reissued: true, modified: true },
    { kind: 'save', token: 'tok', offer: false },
  ],
  [
    'rotated at the load, a failed request: nothing (the old id stays current)',
    { reissued: true, failed: true },
    { kind: 'nothing' },
  ],
  [
    'rotated at the load, then emptied: destroyed, its cookie deleted',
    { reissued: true, empty: true, keyByKey: false },
    { kind: 'destroy', deleteCookie: true },
  ],
  [
    'a changed session: saved under its token',
    { modified: true },
    { kind: 'save', token: 'tok', offer: false },
  ],
  ['rolling expiry due: saved', { rollingDue: true }, { kind: 'save', token: 'tok', offer: false }],
  [
    'rolling due on a session with no token: nothing',
    { token: null, rollingDue: true },
    { kind: 'nothing' },
  ],
  [
    'saveEveryRequest: saved',
    { saveEveryRequest: true },
    { kind: 'save', token: 'tok', offer: false },
  ],
  [
    'a new session: saved under a new key',
    { token: null, modified: true, cookieSent: false },
    { kind: 'save-new', replaces: [], offer: false },
  ],
  [
    'moved to a new key (cycleKey, login): saved under a new key, replacing the old',
    { token: null, retired: ['old'], modified: true },
    { kind: 'save-new', replaces: ['old'], offer: false },
  ],
  [
    'a rekey load (moved from another store), unchanged: saved under a new key',
    { token: null, retired: ['kv'] },
    { kind: 'save-new', replaces: ['kv'], offer: false },
  ],
  [
    'a login with a device binding on: saved with the offer',
    { token: null, retired: ['old'], modified: true, offerDevice: true },
    { kind: 'save-new', replaces: ['old'], offer: true },
  ],
  [
    'a failed request (5xx or SessionError): nothing saved',
    { modified: true, failed: true },
    { kind: 'nothing' },
  ],
  [
    'emptied key by key: emptied if still empty, cookie deleted if it ends',
    { modified: true, empty: true },
    { kind: 'empty', token: 'tok', deleteCookie: true },
  ],
  [
    'emptied whole (clear(), markModified()): destroyed',
    { modified: true, empty: true, keyByKey: false },
    { kind: 'destroy', deleteCookie: true },
  ],
  [
    'emptied while moving to a new key (logout of a login): destroyed',
    { token: null, retired: ['old'], modified: true, empty: true },
    { kind: 'destroy', deleteCookie: true },
  ],
  [
    'an empty session never stored, with a stale cookie: destroyed (the cookie deleted)',
    { token: null, empty: true },
    { kind: 'destroy', deleteCookie: true },
  ],
  [
    'an empty session and no cookie sent: nothing to delete',
    { token: null, empty: true, cookieSent: false },
    { kind: 'destroy', deleteCookie: false },
  ],
  [
    'emptied, but the request failed: nothing (the record stays)',
    { modified: true, empty: true, failed: true },
    { kind: 'nothing' },
  ],
  [
    'emptied by flush() (no key left), the request failed: the cookie still goes',
    { token: null, modified: true, empty: true, failed: true },
    { kind: 'destroy', deleteCookie: true },
  ],
  ['past a fixed expiry date: destroyed', { age: 0 }, { kind: 'destroy', deleteCookie: true }],
  [
    'a bound session without its bound cookie, unchanged: nothing at all',
    { frozen: true, empty: true },
    { kind: 'nothing' },
  ],
  [
    'a bound session without its bound cookie, changed (a refresh proved the key): saved',
    { frozen: true, modified: true },
    { kind: 'save', token: 'tok', offer: false },
  ],
]

describe('decide()', () => {
  it.each(cases)('%s', (_what, facts, action) => {
    expect(decide({ ...LOADED, ...facts })).toEqual(action)
  })
})
