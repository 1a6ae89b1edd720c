/**
 * The demo's stores as suites see them, so one suite runs on each: the bindings that
 * select the store (`SESSION_STORE`), and per store "how many sessions are stored",
 * "what is stored under this token", a store whose reads or writes fail (a wrapper around
 * the real binding), and a well-formed token of a session that does not exist.
 */
import { env } from 'cloudflare:test'
import { kvStore, type SessionData } from '../../src/session'
import { generateSessionId, type SessionStore } from '../../src/session/store'
import { kvKeyFor } from '../../src/session/stores/kv'
import { durableObjectStore } from '../../src/session/durable-object'
import { decodeRecord } from '../../src/session/stores/record'
import { clearObjects, instrument, rowOf, storedSessionCount } from './do'
import { clearKV, faultyKV } from './kv'

/** The server-side stores the demo can run on (`SESSION_STORE`). */
export type ServerStoreName = 'kv' | 'do'

/** Which operations a {@link StoreUnderTest.faulty} store fails. */
export interface StoreFaults {
  read?: boolean
  write?: boolean
}

/** One store, as a suite parametrised over stores uses it. */
export interface StoreUnderTest {
  name: ServerStoreName
  /** The worker's bindings with `SESSION_STORE` selecting this store. */
  bindings: Cloudflare.Env
  /** How many session records the store holds (KV keys, or SQLite rows in every object). */
  count(): Promise<number>
  /** The data stored under a session cookie's value, or `null` when nothing is stored. */
  data(token: string): Promise<SessionData | null>
  /** Forgets every session (storage is isolated per file, not per test). */
  clear(): Promise<void>
  /** This store over the real binding, with reads or writes failing on the caller's side. */
  faulty(faults: StoreFaults): SessionStore
  /** A token of the store's exact format for a session that does not exist. */
  unknownToken(): string
}

const kv: StoreUnderTest = {
  name: 'kv',
  bindings: { ...env, SESSION_STORE: 'kv' },
  count: async () => (await env.SESSIONS.list({ prefix: 'session:' })).keys.length,
  async data(token) {
    const text = await env.SESSIONS.get(await kvKeyFor(token))
    return text === null ? null : (JSON.parse(text) as { data: SessionData }).data
  },
  clear: () => clearKV(env.SESSIONS),
  faulty: (faults) => kvStore({ namespace: faultyKV(env.SESSIONS, faults).namespace }),
  unknownToken: () => generateSessionId(),
}

const durableObjects: StoreUnderTest = {
  name: 'do',
  bindings: { ...env, SESSION_STORE: 'do' },
  count: storedSessionCount,
  async data(token) {
    const row = await rowOf(token)
    if (row === null) return null
    const record = decodeRecord(row.record)
    if (typeof record === 'string') throw new Error(`corrupt row: ${record}`)
    // A plain copy: stored objects have null prototypes, which toEqual tells apart.
    return JSON.parse(JSON.stringify(record.data)) as SessionData
  },
  async clear() {
    await Promise.all([clearObjects(), clearKV(env.SESSIONS)])
  },
  faulty(faults) {
    const objects = instrument()
    if (faults.read) objects.fail.add('load')
    if (faults.write) for (const m of ['create', 'update'] as const) objects.fail.add(m)
    return durableObjectStore({ namespace: objects.namespace, recordLocation: true })
  },
  unknownToken: () =>
    `${generateSessionId()}.${env.SESSION_OBJECTS.idFromName('anon:0').toString()}`,
}

/** Every server-side store, for `describe.each`. */
export const SERVER_STORES: readonly StoreUnderTest[] = [kv, durableObjects]

/** A store by name. */
export function storeUnderTest(name: ServerStoreName): StoreUnderTest {
  return name === 'kv' ? kv : durableObjects
}
