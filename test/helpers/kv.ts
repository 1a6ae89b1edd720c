/**
 * Wrappers around the real KV binding (never a mock): one counts operations, one
 * fails on command. Both forward everything else to miniflare's local KV.
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
export function faultyKV(namespace: KVNamespace, faults: KVFaults = {}): { namespace: KVNamespace; faults: KVFaults } {
  const wrapped = new Proxy(namespace, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown
      if (typeof value !== 'function') return value
      return async (...args: unknown[]) => {
        const fail =
          ((prop === 'get' || prop === 'getWithMetadata') && faults.read) ||
          (prop === 'put' && faults.write) ||
          (prop === 'delete' && faults.delete)
        if (fail) throw (faults.error ?? (() => new Error(`KV ${String(prop)} failed: simulated outage`)))()
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return { namespace: wrapped, faults }
}

/**
 * Deletes every key of a namespace. Storage is isolated per test file, not per test,
 * in vitest-pool-workers 0.15; call this in `beforeEach` where tests count records.
 */
export async function clearKV(namespace: KVNamespace): Promise<void> {
  let cursor: string | undefined
  do {
    const page: KVNamespaceListResult<unknown, string> = await namespace.list(cursor ? { cursor } : {})
    await Promise.all(page.keys.map((k) => namespace.delete(k.name)))
    cursor = page.list_complete ? undefined : page.cursor
  } while (cursor)
}

/** A point where a {@link scriptedKV} holds an operation: `reached` once it is held, `release()` lets it go. */
export interface Hold {
  reached: Promise<void>
  release(): void
}

/**
 * Wraps `namespace`; `hold(op, prefix)` makes the next `op` ('get' | 'put' | 'delete') on a
 * key starting with `prefix` wait until released, so a test can put two requests' KV
 * calls in any order it wants. Everything else goes straight to the real binding.
 */
export function scriptedKV(namespace: KVNamespace): { namespace: KVNamespace; hold(op: 'get' | 'put' | 'delete', prefix: string): Hold } {
  const holds: { op: string; prefix: string; arrive: () => void; gate: Promise<void> }[] = []
  const wrapped = new Proxy(namespace, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown
      if (typeof value !== 'function') return value
      return async (...args: unknown[]) => {
        const key = String(args[0])
        const i = holds.findIndex((h) => h.op === prop && key.startsWith(h.prefix))
        if (i !== -1) {
          const [held] = holds.splice(i, 1)
          held!.arrive()
          await held!.gate
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return {
    namespace: wrapped,
    hold(op, prefix) {
      let arrive: () => void = () => undefined
      let release: () => void = () => undefined
      const reached = new Promise<void>((resolve) => (arrive = resolve))
      const gate = new Promise<void>((resolve) => (release = resolve))
      holds.push({ op, prefix, arrive, gate })
      return { reached, release }
    },
  }
}
