/**
 * The Durable Object store's guarantees (issue 13, section 2), each against the real
 * `SessionObject` in workerd: no mock. "In flight" requests are built deterministically
 * by holding one RPC call (see helpers/do.ts) until the concurrent request has answered.
 */
import { env, runInDurableObject } from 'cloudflare:test'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { generateSessionId } from '../src/session'
import { durableObjectStore, SCHEMA_VERSION, type SessionObject } from '../src/session/durable-object'
import { sha256Hex } from '../src/session/id'
import { device, deviceWith, type Device } from './helpers/demo'
import { allObjects, clearObjects, instrument, namedStub, rowOf, rowsIn, splitToken, storedSessionCount, type InstrumentedNamespace } from './helpers/do'
import { harness } from './helpers/harness'
import { json, setCookie } from './helpers/http'
import { clearKV } from './helpers/kv'

/** The demo's own bindings, with its store choice set to Durable Objects. */
const DO = { ...env, SESSION_STORE: 'do' }

/** The same, with the namespace behind a counting / holding wrapper. */
function instrumented(): { objects: InstrumentedNamespace; bindings: typeof DO } {
  const objects = instrument()
  return { objects, bindings: { ...DO, SESSION_OBJECTS: objects.namespace } }
}

let users = 0
/** A user name no other test uses: each user has an object of its own. */
const newUser = (): string => `user-${++users}-${crypto.randomUUID().slice(0, 8)}`

/** Every session row of every object, as text, to look for data that must not be there. */
async function everyRecord(): Promise<string[]> {
  const rows = await Promise.all((await allObjects()).map((stub) => rowsIn(stub)))
  return rows.flat().map((row) => row.record)
}

beforeEach(async () => {
  await Promise.all([clearObjects(), clearKV(env.SESSIONS)])
})

afterEach(() => {
  vi.restoreAllMocks()
})

describe('a write to an existing session', () => {
  it('is saved, with values loaded from the record and values from the request (changes cross RPC as JSON)', async () => {
    const b = device(DO)
    await b.call('/session', json('POST', { a: { b: 1 } }))
    const token = b.token!
    const { res, body } = await b.call<{ data: unknown }>('/session', json('POST', { c: [1, { d: 2 }] }))
    expect(res.status).toBe(200)
    expect(body.data).toEqual({ a: { b: 1 }, c: [1, { d: 2 }] })
    expect(b.token).toBe(token)

    // A handler copying a loaded value (null prototypes at every depth) and deleting a key.
    const h = harness({ store: durableObjectStore({ namespace: env.SESSION_OBJECTS }) }, { start: Date.now() })
    h.jar.cookies.set('sessionid', token)
    const copied = await h.run(async (s) => {
      await s.set('copy', await s.get('a'))
      await s.delete('c')
      return s.toJSON()
    })
    expect(copied.res.status).toBe(200)
    const { body: after } = await b.call<{ data: unknown }>('/session')
    expect(after.data).toEqual({ a: { b: 1 }, copy: { b: 1 } })
  })
})
