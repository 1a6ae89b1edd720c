/**
 * The factory memo behind `kvStore()`, `cookieStore()` and `durableObjectStore()`: the
 * same options give the same store, so `store: (c) => …` built per request costs a
 * lookup, and an option added later can never be left out of the key.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { cookieStore, kvStore } from '../src/session'
import { durableObjectStore } from '../src/session/durable-object'
import { memoized } from '../src/session/foundation/memo'

describe('memoized()', () => {
  const made = () => {
    let calls = 0
    const make = memoized(2, (options: object) => ({ options, n: ++calls }))
    return { make, calls: () => calls }
  }

  it('answers the same object for the same primitives, arrays and object literals', () => {
    const { make, calls } = made()
    const a = make({ n: 1, list: [1, 'a'], nested: { every: 60, grace: 30 } })
    expect(make({ nested: { grace: 30, every: 60 }, list: [1, 'a'], n: 1 })).toBe(a)
    expect(calls()).toBe(1)
    expect(make({ n: 1, list: [1, 'a'], nested: { every: 61, grace: 30 } })).not.toBe(a)
  })

  it('tells bindings, class instances and functions apart by identity', () => {
    const { make } = made()
    const f = () => 1
    const g = () => 1
    expect(make({ f })).toBe(make({ f }))
    expect(make({ f })).not.toBe(make({ f: g }))
    expect(make({ kv: env.SESSIONS })).toBe(make({ kv: env.SESSIONS }))
    expect(make({ at: new Date(0) })).not.toBe(make({ at: new Date(0) }))
  })

  it('keeps a value for an option that is absent apart from one set to undefined', () => {
    const { make } = made()
    expect(make({})).not.toBe(make({ a: undefined }))
  })

  it('does not keep what a failing factory threw, and forgets the oldest past its limit', () => {
    let fail = true
    const make = memoized(2, (o: { k: number }) => {
      if (fail) throw new Error('bad option')
      return { k: o.k }
    })
    expect(() => make({ k: 1 })).toThrow('bad option')
    fail = false
    const one = make({ k: 1 })
    make({ k: 2 })
    make({ k: 3 })
    expect(make({ k: 1 })).not.toBe(one)
  })
})

describe('the stores built per request', () => {
  it('are the same store for the same options, nested option objects included', () => {
    expect(kvStore({ namespace: env.SESSIONS })).toBe(kvStore({ namespace: env.SESSIONS }))
    const secret = 'a memo test secret of at least 32 bytes'
    expect(cookieStore({ secret })).toBe(cookieStore({ secret }))
    const options = () => ({
      namespace: env.SESSION_OBJECTS,
      trail: { maxEvents: 50 },
      loginThrottle: { failures: 3, window: 60 },
    })
    expect(durableObjectStore(options())).toBe(durableObjectStore(options()))
    expect(durableObjectStore({ ...options(), trail: { maxEvents: 51 } })).not.toBe(
      durableObjectStore(options()),
    )
  })
})
