/**
 * @module
 * A namespace held in a `Map`, for the benchmark's "CPU only" group alone: it takes the
 * local KV's ~0.4 ms per operation out of the picture so the CPU each library spends on
 * a read can be compared. Never used by the tests, which run against the real binding.
 */

/**
 * The subset of `KVNamespace` the variants call, backed by a `Map`. `values` is the
 * `Map` itself, for a group that must not keep what every request writes.
 */
export function memoryNamespace(values = new Map<string, string>()): KVNamespace {
  const namespace = {
    async get(key: string, type?: string | { type?: string }): Promise<unknown> {
      const value = values.get(key) ?? null
      const as = typeof type === 'string' ? type : type?.type
      return value !== null && as === 'json' ? JSON.parse(value) : value
    },
    async put(key: string, value: string): Promise<void> {
      values.set(key, value)
    },
    async delete(key: string): Promise<void> {
      values.delete(key)
    },
  }
  return namespace as unknown as KVNamespace
}
