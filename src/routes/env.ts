/**
 * @module
 * The demo worker's Hono environment: its bindings and the session's data shape.
 */
import type { SessionEnv } from '../session'

/** What the demo keeps in a session. Any other key set through `POST /session` is allowed too. */
export type DemoData = {
  hits?: number
  username?: string
  [key: string]: unknown
}

/** Bindings from wrangler.toml. */
export type Bindings = {
  SESSIONS: KVNamespace
}

/** The demo app's environment. */
export type DemoEnv = SessionEnv<DemoData> & { Bindings: Bindings }
