/**
 * Helpers for tests of the Durable Object store, around the REAL namespace (never a
 * fake): a wrapper that counts the RPC calls requests make to the objects, can hold a
 * call until the test releases it (to build an "in flight" request deterministically),
 * or fail one on the caller's side; and readers of the objects' SQLite rows.
 */
import { env, listDurableObjectIds, runInDurableObject } from 'cloudflare:test'
import { sha256Hex } from '../../src/session/foundation/id'
import type { SessionObject } from '../../src/session/durable-object'
import type { SessionRow } from '../../src/session/stores/durable-object/schema'

/**
 * The object's RPC methods the store calls (and `fetch`, its socket upgrade). Not `send`:
 * the demo's own notification of a user's sockets is not the store's cost.
 */
export type ObjectMethod =
  | 'load'
  | 'create'
  | 'update'
  | 'take'
  | 'destroy'
  | 'list'
  | 'countSessions'
  | 'revoke'
  | 'revokeAll'
  | 'count'
  | 'fetch'
  | 'loginFailed'
  | 'securityEvents'
  | 'beginImpersonating'
  | 'startImpersonation'
  | 'endImpersonation'
  | 'endImpersonating'
const METHODS: ReadonlySet<string> = new Set<ObjectMethod>([
  'load',
  'create',
  'update',
  'take',
  'destroy',
  'list',
  'countSessions',
  'revoke',
  'revokeAll',
  'count',
  'fetch',
  'loginFailed',
  'securityEvents',
  'beginImpersonating',
  'startImpersonation',
  'endImpersonation',
  'endImpersonating',
])

/** A held call: `reached` resolves once `count` calls are waiting; `release()` lets them all go on. */
export interface Hold {
  reached: Promise<void>
  release(): void
}

/** What an {@link instrument}ed namespace saw since its last `reset()`. */
export interface ObjectCalls {
  /** RPC calls to objects, by method. */
  byMethod: Partial<Record<ObjectMethod, number>>
  /** Every RPC call to an object, in order: `method@<first 8 hex of the object id>`. */
  log: string[]
  /** Calls of the namespace's own methods (`idFromName`, `idFromString`, `get`, …), by name. */
  namespace: Record<string, number>
}

/** The real namespace behind a counting, holding, failing Proxy. */
export interface InstrumentedNamespace {
  namespace: DurableObjectNamespace<SessionObject>
  calls: ObjectCalls
  /** How many RPC calls reached (or were sent towards) objects. */
  readonly total: number
  reset(): void
  /** The next `count` calls of `method` wait, each before it is sent, until `release()`. */
  hold(method: ObjectMethod, count?: number): Hold
  /** Calls of the methods listed reject on the caller's side (nothing reaches the object) while listed. */
  fail: Set<ObjectMethod>
}

/** Wraps the real namespace: every stub it hands out counts, holds or fails its RPC calls. */
export function instrument(
  namespace: DurableObjectNamespace<SessionObject> = env.SESSION_OBJECTS,
): InstrumentedNamespace {
  const calls: ObjectCalls = { byMethod: {}, log: [], namespace: {} }
  const holds: {
    method: ObjectMethod
    left: number
    gate: Promise<void>
    arrivedAll: () => void
  }[] = []
  const fail = new Set<ObjectMethod>()

  const stubProxy = (stub: DurableObjectStub<SessionObject>): DurableObjectStub<SessionObject> =>
    new Proxy(stub, {
      get(target, prop) {
        if (typeof prop !== 'string' || !METHODS.has(prop))
          return Reflect.get(target, prop) as unknown
        const method = prop as ObjectMethod
        return async (...args: unknown[]) => {
          calls.byMethod[method] = (calls.byMethod[method] ?? 0) + 1
          calls.log.push(`${method}@${target.id.toString().slice(0, 8)}`)
          const hold = holds.find((h) => h.method === method && h.left > 0)
          if (hold !== undefined) {
            if (--hold.left === 0) hold.arrivedAll()
            await hold.gate
          }
          if (fail.has(method))
            throw new Error(`Durable Object ${method}() failed: simulated outage`)
          // Called as a method of the real stub: an RPC method taken off it and applied fails.
          return (target as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[
            method
          ]!(...args)
        }
      },
    })

  const wrapped = new Proxy(namespace, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        calls.namespace[prop as string] = (calls.namespace[prop as string] ?? 0) + 1
        const result = (value as (...a: unknown[]) => unknown).apply(target, args)
        return prop === 'get' || prop === 'getByName'
          ? stubProxy(result as DurableObjectStub<SessionObject>)
          : result
      }
    },
  })

  return {
    namespace: wrapped,
    calls,
    get total() {
      return Object.values(calls.byMethod).reduce((a, b) => a + b, 0)
    },
    reset() {
      calls.byMethod = {}
      calls.log = []
      calls.namespace = {}
    },
    hold(method, count = 1) {
      let release!: () => void
      let arrivedAll!: () => void
      const gate = new Promise<void>((resolve) => (release = resolve))
      const reached = new Promise<void>((resolve) => (arrivedAll = resolve))
      holds.push({ method, left: count, gate, arrivedAll })
      return { reached, release }
    },
    fail,
  }
}

/** The two halves of a Durable Object store token: the session id and its object's id. */
export function splitToken(token: string): { id: string; object: string } {
  const match = /^([A-Za-z0-9_-]{43})\.([0-9a-f]{64})$/.exec(token)
  if (match === null) throw new Error(`not a Durable Object store token: ${token}`)
  return { id: match[1]!, object: match[2]! }
}

/** The stub of a token's object (the real namespace). */
export function stubOf(token: string): DurableObjectStub<SessionObject> {
  return env.SESSION_OBJECTS.get(env.SESSION_OBJECTS.idFromString(splitToken(token).object))
}

/** The stub of a named object (`user:raju`, `anon:3`), of the demo's namespace unless given. */
export function namedStub(
  name: string,
  namespace: DurableObjectNamespace<SessionObject> = env.SESSION_OBJECTS,
): DurableObjectStub<SessionObject> {
  return namespace.get(namespace.idFromName(name))
}

/** Every row of an object's `sessions` table, read in the object through SQLite. */
export async function rowsIn(stub: DurableObjectStub<SessionObject>): Promise<SessionRow[]> {
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec<Pick<SessionRow, keyof SessionRow>>('SELECT * FROM sessions ORDER BY created_at, hash')
      .toArray(),
  )
}

/** The row a token's session is stored in, or `null` (read in its object, expired or not). */
export async function rowOf(token: string): Promise<SessionRow | null> {
  const hash = await sha256Hex(splitToken(token).id)
  return (await rowsIn(stubOf(token))).find((row) => row.hash === hash) ?? null
}

/** Every object of a namespace this test file's storage holds (its DO storage is isolated per file). */
export async function allObjects(
  namespace: DurableObjectNamespace<SessionObject> = env.SESSION_OBJECTS,
): Promise<DurableObjectStub<SessionObject>[]> {
  return (await listDurableObjectIds(namespace)).map((id) => namespace.get(id))
}

/** How many session rows all objects hold, live or expired (the DO store's "sessions stored"). */
export async function storedSessionCount(): Promise<number> {
  const counts = await Promise.all((await allObjects()).map((stub) => stub.count()))
  return counts.reduce((a, b) => a + b, 0)
}

/**
 * Empties every object and deletes its alarm. Storage and alarms are not reset between
 * the tests of a file, and an alarm left behind really fires during a later test.
 */
export async function clearObjects(
  namespace: DurableObjectNamespace<SessionObject> = env.SESSION_OBJECTS,
): Promise<void> {
  await Promise.all(
    (await allObjects(namespace)).map((stub) =>
      runInDurableObject(stub, async (_instance, state) => {
        for (const table of [
          'sessions',
          'moved',
          'verifiers',
          'login_failures',
          'rotations',
          'reused',
        ])
          state.storage.sql.exec(`DELETE FROM ${table}`)
        await state.storage.deleteAlarm()
      }),
    ),
  )
}
