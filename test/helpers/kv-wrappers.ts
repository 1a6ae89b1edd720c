/**
 * Wrappers around the real KV binding (never a mock): one counts operations, one fails on
 * command, one holds a call until the test releases it. Plain modules only (no
 * `cloudflare:test`, no vitest), so the benchmark's worker uses them too.
 */

/** Operation counts seen by a {@link countingKV}. */
export interface KVCounts {
  reads: number
  writes: number
  deletes: number
  lists: number
}

/** Which operations a {@link faultyKV} should fail, and how. */
export interface KVFaults {
  read?: boolean
  write?: boolean
  delete?: boolean
  /** The error thrown; defaults to an Error like KV's own. */
  error?: () => Error
}

/** The real namespace plus live counters. `reset()` zeroes them. */
export interface CountingKV {
  namespace: KVNamespace
  counts: KVCounts
  reset(): void
}

/** Wraps `namespace`, counting get/put/delete/list calls. */
export function countingKV(namespace: KVNamespace): CountingKV {
  const counts: KVCounts = { reads: 0, writes: 0, deletes: 0, lists: 0 }
  const wrapped = new Proxy(namespace, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        if (prop === 'get' || prop === 'getWithMetadata') counts.reads++
        else if (prop === 'put') counts.writes++
        else if (prop === 'delete') counts.deletes++
        else if (prop === 'list') counts.lists++
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return {
    namespace: wrapped,
    counts,
    reset() {
      counts.reads = counts.writes = counts.deletes = counts.lists = 0
    },
  }
}

/** Wraps `namespace`; operations named in `faults` (mutable at any time) reject. */
export function faultyKV(
  namespace: KVNamespace,
  faults: KVFaults = {},
): { namespace: KVNamespace; faults: KVFaults } {
  const wrapped = new Proxy(namespace, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown
      if (typeof value !== 'function') return value
      return async (...args: unknown[]) => {
        const fail =
          ((prop === 'get' || prop === 'getWithMetadata') && faults.read) ||
          (prop === 'put' && faults.write) ||
          (prop === 'delete' && faults.delete)
        if (fail)
          throw (faults.error ?? (() => new Error(`KV ${String(prop)} failed: simulated outage`)))()
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return { namespace: wrapped, faults }
}

/** KV's answer to more than one write per second to a key (a {@link KVFaults} `error`). */
export const tooManyRequests = (): Error =>
  Object.assign(new Error('KV PUT failed: 429 Too Many Requests'), { status: 429 })

/** A held KV call: `reached` resolves once it arrived; `release()` lets it reach KV. */
export interface KVHold {
  reached: Promise<void>
  release(): void
}

/**
 * Wraps `namespace`; `hold(op, keyPrefix)` makes the next call of `op` on a key with that
 * prefix wait, before it reaches KV, until the test releases it: a request "in flight" at
 * exactly that step, built deterministically.
 */
export function holdingKV(namespace: KVNamespace): {
  namespace: KVNamespace
  hold(op: 'get' | 'put' | 'delete', keyPrefix: string): KVHold
} {
  const holds: {
    op: string
    prefix: string
    arrived: () => void
    gate: Promise<void>
    taken: boolean
  }[] = []
  const wrapped = new Proxy(namespace, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown
      if (typeof value !== 'function') return value
      return async (...args: unknown[]) => {
        const hold = holds.find(
          (h) =>
            !h.taken &&
            h.op === prop &&
            typeof args[0] === 'string' &&
            args[0].startsWith(h.prefix),
        )
        if (hold !== undefined) {
          hold.taken = true
          hold.arrived()
          await hold.gate
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return {
    namespace: wrapped,
    hold(op, prefix) {
      let release!: () => void
      let arrived!: () => void
      const gate = new Promise<void>((resolve) => (release = resolve))
      const reached = new Promise<void>((resolve) => (arrived = resolve))
      holds.push({ op, prefix, arrived, gate, taken: false })
      return { reached, release }
    },
  }
}
