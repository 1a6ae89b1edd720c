/**
 * @module
 * The library's caches (derived keys, signers, id hashes, memoised stores): a `Map` that
 * forgets its oldest entry once it holds `limit`, so an isolate that sees many secrets or
 * ids never grows without bound.
 */

/**
 * A `Map` bounded to `limit` entries; past it, the entry set first is dropped first.
 *
 * @example
 * ```ts
 * const keys = new BoundedMap<string, Promise<CryptoKey>>(64)
 * const key = keys.getOrSet(secret, () => importKey(secret))
 * ```
 */
export class BoundedMap<K, V> {
  readonly #entries = new Map<K, V>()
  readonly #limit: number

  /** A map that keeps at most `limit` entries (at least 1). */
  constructor(limit: number) {
    this.#limit = Math.max(1, limit)
  }

  /** How many entries it holds. */
  get size(): number {
    return this.#entries.size
  }

  /** The value of `key`, or `undefined`. */
  get(key: K): V | undefined {
    return this.#entries.get(key)
  }

  /** Keeps `value` under `key`, dropping the oldest entry when full; returns `value`. */
  set(key: K, value: V): V {
    if (!this.#entries.has(key) && this.#entries.size >= this.#limit) {
      const oldest = this.#entries.keys().next()
      if (oldest.done !== true) this.#entries.delete(oldest.value)
    }
    this.#entries.set(key, value)
    return value
  }

  /** The value of `key`, made by `make()` and kept the first time. */
  getOrSet(key: K, make: () => V): V {
    const known = this.#entries.get(key)
    return known !== undefined || this.#entries.has(key) ? (known as V) : this.set(key, make())
  }

  /** Forgets `key`. */
  delete(key: K): void {
    this.#entries.delete(key)
  }
}
