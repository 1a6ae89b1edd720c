/**
 * @module
 * One memo for factories called per request (`store: (c) => kvStore({ namespace:
 * c.env.SESSIONS })`): the same options give the same object, so a request costs a lookup,
 * not a validation and the caches a new object would start empty. The key is made from
 * every option the caller passed, nested option objects included, so an option added
 * later can never be left out of it.
 */
import { BoundedMap } from './bounded-map.js'

/** A number per object or function seen in options: bindings and callbacks by identity. */
const identities = new WeakMap<object, number>()
let counter = 0

/** Whether `value` is an object literal (its own prototype is `Object.prototype` or none). */
function isPlain(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * A stable text for one option value: primitives, arrays and object literals (`{ every:
 * 60 }` written inside `store: (c) => …`) by value; bindings, class instances and
 * functions by identity.
 */
function part(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(part).join(',')}]`
  if (typeof value === 'object' && value !== null && isPlain(value)) return `{${keyOf(value)}}`
  if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
    let id = identities.get(value)
    if (id === undefined) {
      id = ++counter
      identities.set(value, id)
    }
    return `#${id}`
  }
  return value === undefined ? 'u' : JSON.stringify(value)
}

/** The memo key of an options object: each own key and its value, in key order. */
function keyOf(options: object): string {
  return Object.keys(options)
    .sort()
    .map((name) => `${JSON.stringify(name)}:${part((options as Record<string, unknown>)[name])}`)
    .join('|')
}

/**
 * A factory memoised on its options (at most `limit` configurations per isolate): the
 * first call with a configuration runs `make`, later ones with the same values (objects
 * and functions being the same objects) return its result.
 *
 * @example
 * ```ts
 * export const kvStore = memoized(16, (options: KVStoreOptions) => new KVSessionStore(options))
 * ```
 */
export function memoized<O extends object, R>(
  limit: number,
  make: (options: O) => R,
): (options: O) => R {
  const made = new BoundedMap<string, R>(limit)
  return (options) =>
    typeof options === 'object' && options !== null
      ? made.getOrSet(keyOf(options), () => make(options))
      : make(options) // not options at all: `make` refuses it with its own error
}
