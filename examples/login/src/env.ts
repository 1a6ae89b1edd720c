/** The app's Hono environment: its bindings and what it keeps in a session. */
import type { SessionEnv } from 'edge-session'
import type { SessionObject } from 'edge-session/durable-object'

export type Bindings = {
  /** Users and their password hashes (src/users.ts). */
  USERS: KVNamespace
  /** The sessions' Durable Objects (the class is exported by src/index.ts). */
  SESSION_OBJECTS: DurableObjectNamespace<SessionObject>
}

/** Nothing of its own yet: the user is kept beside the data by `login()`, messages under `_messages`. */
export type Data = Record<string, never>

export type AppEnv = SessionEnv<Data> & { Bindings: Bindings }
