/**
 * @module
 * Clearing every session of a store between tests. The vitest pool isolates storage per
 * test file, not per test: without this, a session (and a Durable Object's alarm) left
 * by one test is there in the next.
 */
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
 * Deletes every session of a Durable Object store (with the forwards and verifiers kept
 * beside them), in every object of the namespace this test file created, and their
 * pending alarms (which the pool does not reset between tests, and which would fire
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
        for (const table of ['sessions', 'moved', 'verifiers'])
          state.storage.sql.exec(`DELETE FROM ${table}`)
        await state.storage.deleteAlarm()
      }),
    ),
  )
  return ids.length
}
