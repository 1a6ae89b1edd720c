/**
 * The store contract, tested once: the conformance suite of `edge-session/testing` run
 * against the library's three stores on the pool's real KV and Durable Objects, each
 * declaring what it guarantees. What is particular to a store stays in its own tests.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { cookieStore, kvStore } from '../src/session'
import { durableObjectStore } from '../src/session/durable-object'
import { type StoreFixture, storeConformance } from '../src/session/testing'

const SECRET = 'edge-session conformance secret, 32 bytes or more'

/** Each store, how it opens, and the cases its capabilities leave out (by name fragment). */
const stores: [string, () => StoreFixture, string[]][] = [
  [
    'kvStore()',
    () => ({
      store: kvStore({ namespace: env.SESSIONS }),
      capabilities: { revocation: 'local', tokens: 'kept', merges: false },
      now: Date.now(),
    }),
    ['(merges)', '(empty)'],
  ],
  [
    'cookieStore()',
    () => ({
      store: cookieStore({ secret: SECRET }),
      capabilities: { revocation: 'none', tokens: 'reissued', merges: false },
      now: Date.now(),
    }),
    ['ends a destroyed', 'SESSION_INTERRUPTED', 'moves a session', '(merges)', '(empty)'],
  ],
  [
    'durableObjectStore()',
    () => ({
      store: durableObjectStore({ namespace: env.SESSION_OBJECTS }),
      capabilities: { revocation: 'strong', tokens: 'kept', merges: true },
      now: Date.now(),
    }),
    [],
  ],
]

describe.each(stores)('%s conformance', (_name, open, notApplicable) => {
  const cases = storeConformance(open)
  const { capabilities } = open()
  const applicable = cases.filter((c) => c.skipReason(capabilities) === null)

  it.each(applicable.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(await c.run()).toEqual({ status: 'passed' })
  })

  it('leaves out only the cases its capabilities do not cover, saying why', async () => {
    const left = cases.filter((c) => c.skipReason(capabilities) !== null)
    expect(left.map((c) => c.name)).toEqual(
      notApplicable.map((part) => expect.stringContaining(part) as string),
    )
    for (const c of left) {
      expect(await c.run()).toEqual({ status: 'skipped', reason: c.skipReason(capabilities) })
    }
  })
})
