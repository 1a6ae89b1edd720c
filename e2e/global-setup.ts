/**
 * @module
 * Vitest global setup of the e2e suite: one `wrangler dev` per session store for the
 * whole run (KV, the default; the cookie store; Durable Objects), their URLs handed to
 * the tests as `inject('baseURL')` (KV) and `inject('storeURLs')`.
 */
import type { TestProject } from 'vitest/node'
import { startWorker } from './worker'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where the demo worker answers on the KV store, e.g. `http://127.0.0.1:41234`. */
    baseURL: string
    /** Where it answers on each store (`SESSION_STORE`). */
    storeURLs: { kv: string; cookie: string; do: string }
  }
}

/** Starts the worker; the function it returns stops it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [kv, cookie, objects] = await Promise.all([
    startWorker(),
    startWorker({ vars: { SESSION_STORE: 'cookie' } }),
    // Locations recorded, as "Your sessions" shows them; e2e-admin may impersonate.
    startWorker({ vars: { SESSION_STORE: 'do', RECORD_LOCATION: '1', ADMIN_USERS: 'e2e-admin' } }),
  ])
  project.provide('baseURL', kv.url)
  project.provide('storeURLs', { kv: kv.url, cookie: cookie.url, do: objects.url })
  return async () => {
    await Promise.all([kv.stop(), cookie.stop(), objects.stop()])
  }
}
