/**
 * @module
 * Clearing every session of a store between tests. The vitest pool isolates storage per
 * test file, not per test: without this, a session (and a Durable Object's alarm) left
 * by one test is there in the next. `clearSessions()` clears whatever the app's session
 * options name; `clearKvSessions()` and `clearDurableObjectSessions()` clear one binding.
 */
import { Hono } from 'hono'
import { resolveOptions, type SessionOptions } from '../core/options.js'
import { SessionError } from '../foundation/errors.js'
import { KV_KEY_PREFIX, KV_REVOKED_PREFIX } from '../stores/kv.js'
import type { SessionObject } from '../stores/durable-object/object.js'

/** The part of a KV namespace binding {@link clearKvSessions} uses. */
export interface KVListable {
  list(options: {
    prefix: string
    cursor?: string | null
  }): Promise<{ keys: { name: string }[]; list_complete: boolean; cursor?: string }>
  delete(key: string): Promise<void>
}

/**
 * Deletes every session record of a KV namespace, and the revocation markers logouts
 * leave (`session:` and `revoked:` keys); any other key is left alone. Resolves how many
 * keys it deleted.
 *
 * @example
 * ```ts
 * import { env } from 'cloudflare:test'
 * beforeEach(() => clearKvSessions(env.SESSIONS))
 * ```
 */
export async function clearKvSessions(namespace: KVListable): Promise<number> {
  let deleted = 0
  for (const prefix of [KV_KEY_PREFIX, KV_REVOKED_PREFIX]) {
    let cursor: string | undefined
    do {
      const page = await namespace.list(cursor === undefined ? { prefix } : { prefix, cursor })
      await Promise.all(page.keys.map((key) => namespace.delete(key.name)))
      deleted += page.keys.length
      cursor = page.list_complete ? undefined : page.cursor
    } while (cursor !== undefined)
  }
  return deleted
}

/**
 * The two helpers of `cloudflare:test` that reach into objects:
 * `import { listDurableObjectIds, runInDurableObject } from 'cloudflare:test'`.
 */
export interface DurableObjectTestHelpers {
  listDurableObjectIds(namespace: DurableObjectNamespace<SessionObject>): Promise<DurableObjectId[]>
  runInDurableObject(
    stub: DurableObjectStub<SessionObject>,
    callback: (instance: unknown, state: DurableObjectState) => Promise<void>,
  ): Promise<void>
}

/**
 * Empties every table of the session objects this test file created: the sessions, the
 * forwards and verifiers kept beside them, rotations, impersonations, the failed logins the
 * throttle counts, the security trails and known devices (so each test starts with new
 * devices and empty trails); and deletes their pending alarms (which the pool does not reset between tests, and which would fire
 * during a later one). Resolves how many objects it emptied. Only in the vitest pool: it
 * runs code inside each object, which only the pool's helpers can.
 *
 * @example
 * ```ts
 * import { env, listDurableObjectIds, runInDurableObject } from 'cloudflare:test'
 * beforeEach(() => clearDurableObjectSessions(env.SESSION_OBJECTS, { listDurableObjectIds, runInDurableObject }))
 * ```
 */
export async function clearDurableObjectSessions(
  namespace: DurableObjectNamespace<SessionObject>,
  helpers: DurableObjectTestHelpers,
): Promise<number> {
  const ids = await helpers.listDurableObjectIds(namespace)
  await Promise.all(
    ids.map((id) =>
      helpers.runInDurableObject(namespace.get(id), async (_instance, state) => {
        // Only an object of the session class has these tables: one of another class
        // bound beside it is left alone, alarm included.
        const tables = state.storage.sql
          .exec<{ name: string }>(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('sessions', 'moved', 'verifiers', 'login_failures', 'rotations', 'reused', 'impersonations', 'events', 'known_devices')",
          )
          .toArray()
        if (tables.length === 0) return
        for (const { name } of tables) state.storage.sql.exec(`DELETE FROM ${name}`)
        await state.storage.deleteAlarm()
      }),
    ),
  )
  return ids.length
}

/** What {@link clearSessions} is given beside the options: the bindings, and the pool's helpers. */
export interface ClearSessionsContext extends Partial<DurableObjectTestHelpers> {
  /** The bindings (`env` from `cloudflare:test`), as the app's `store` reads them. */
  env: object
}

/** What {@link clearSessions} cleared, by binding name. */
export interface ClearedSessions {
  /** Each KV namespace the store reads, and how many keys were deleted from it. */
  kv: Record<string, number>
  /** Each Durable Object namespace the store reads, and how many of its objects were emptied. */
  durableObjects: Record<string, number>
}

/** Whether a binding is a KV namespace: `list()`, `delete()`, and `getWithMetadata()`, which an R2 bucket lacks. */
function isKvNamespace(value: unknown): value is KVListable {
  const kv = value as Partial<Record<'list' | 'delete' | 'getWithMetadata', unknown>> | null
  return (
    typeof kv === 'object' &&
    kv !== null &&
    typeof kv.list === 'function' &&
    typeof kv.delete === 'function' &&
    typeof kv.getWithMetadata === 'function'
  )
}

/** Whether a binding is a Durable Object namespace (`idFromName`, `get`). */
function isDurableObjectNamespace(value: unknown): value is DurableObjectNamespace<SessionObject> {
  const ns = value as Partial<Record<'idFromName' | 'get', unknown>> | null
  return (
    typeof ns === 'object' &&
    ns !== null &&
    typeof ns.idFromName === 'function' &&
    typeof ns.get === 'function'
  )
}

/**
 * The bindings the options' store reads: it is made once, as for a request, with an `env`
 * that notes every binding read (the default store reads `kvBinding`, a `store` function
 * the namespaces it names, `migrateFromKV`'s included). A store made once outside a request
 * (a cookie store) reads none.
 */
async function bindingsRead(options: SessionOptions, env: object): Promise<Map<string, unknown>> {
  const { store } = resolveOptions(options)
  const read = new Map<string, unknown>()
  const noting = new Proxy(env, {
    get(target, name) {
      const value: unknown = Reflect.get(target, name)
      if (typeof name === 'string') read.set(name, value)
      return value
    },
  })
  let failure: { error: unknown } | undefined
  const app = new Hono()
  app.all('*', (c) => {
    try {
      store(c)
    } catch (error) {
      failure = { error }
    }
    return c.body(null, 204)
  })
  await app.request('http://localhost/', undefined, noting)
  if (failure !== undefined) throw failure.error
  return read
}

/**
 * Deletes every session of the store the app's session options name (the same object the
 * app gives `session()`): the `session:` and `revoked:` keys of each KV namespace its
 * `store` reads (the default store's `kvBinding`, a `migrateFromKV` namespace), and every
 * session row, forward, verifier and alarm of each Durable Object namespace it reads (with
 * `listDurableObjectIds` and `runInDurableObject` from `cloudflare:test`, needed then). The
 * cookie store keeps nothing on the server: nothing to delete. Resolves what it cleared,
 * by binding. Rejects with `SessionError` `INVALID_OPTION` for a Durable Object store without
 * the pool's helpers, and with the store's own error when it cannot be made from `env`.
 *
 * It finds the bindings by making the store as a request does, with `env`: a store built
 * outside a request from bindings it captured is not seen (build it in `store: (c) => …`).
 *
 * @example
 * ```ts
 * import { env, listDurableObjectIds, runInDurableObject } from 'cloudflare:test'
 * beforeEach(() => clearSessions(sessionOptions, { env, listDurableObjectIds, runInDurableObject }))
 * ```
 */
export async function clearSessions(
  // biome-ignore lint/suspicious/noExplicitAny: the options of an app of any environment
  options: SessionOptions<any>,
  context: ClearSessionsContext,
): Promise<ClearedSessions> {
  const cleared: ClearedSessions = { kv: {}, durableObjects: {} }
  const { listDurableObjectIds, runInDurableObject } = context
  for (const [name, binding] of await bindingsRead(options, context.env)) {
    if (isDurableObjectNamespace(binding)) {
      if (listDurableObjectIds === undefined || runInDurableObject === undefined)
        throw new SessionError(
          'INVALID_OPTION',
          `clearSessions(): the store uses the Durable Object namespace ${name}: pass listDurableObjectIds and runInDurableObject from 'cloudflare:test'`,
        )
      cleared.durableObjects[name] = await clearDurableObjectSessions(binding, {
        listDurableObjectIds,
        runInDurableObject,
      })
    } else if (isKvNamespace(binding)) {
      cleared.kv[name] = await clearKvSessions(binding)
    }
  }
  return cleared
}
