// Bindings the tests see through `env` from 'cloudflare:test' (wrangler.toml, and vitest.config.ts).
declare namespace Cloudflare {
  interface Env {
    SESSIONS: KVNamespace
    USERS: KVNamespace
    SESSION_OBJECTS: DurableObjectNamespace<import('../src/session/durable-object').SessionObject>
    /**
     * The library tests' own object class (vitest.config.ts): the library's `SessionObject`
     * with socket hooks that report (test/helpers/socket-object.ts), typed as the library's
     * class, as it adds no RPC method.
     */
    TEST_SESSION_OBJECTS: DurableObjectNamespace<
      import('../src/session/durable-object').SessionObject
    >
    SESSION_STORE?: string
    SESSION_SECRET?: string
    SESSION_SECRET_FALLBACKS?: string
    ADMIN_TOKEN?: string
    FRESH_AUTH_SECONDS?: string
    MAX_SESSIONS_PER_USER?: string
    DEVICE_BOUND?: string
    DEVICE_BOUND_SECONDS?: string
    RECORD_LOCATION?: string
    LOGIN_FAILURES?: string
    LOGIN_FAILURE_WINDOW_SECONDS?: string
  }
}
