// Bindings the tests see through `env` from 'cloudflare:test' (wrangler.toml).
declare namespace Cloudflare {
  interface Env {
    SESSIONS: KVNamespace
    USERS: KVNamespace
    SESSION_OBJECTS: DurableObjectNamespace<
      import('../src/session/durable-object/index').SessionObject
    >
    SESSION_STORE?: string
    SESSION_SECRET?: string
    SESSION_SECRET_FALLBACKS?: string
    ADMIN_TOKEN?: string
    FRESH_AUTH_SECONDS?: string
    MAX_SESSIONS_PER_USER?: string
    DEVICE_BOUND?: string
    DEVICE_BOUND_SECONDS?: string
  }
}
