// Bindings the tests see through `env` from 'cloudflare:test' (wrangler.toml).
declare namespace Cloudflare {
  interface Env {
    SESSIONS: KVNamespace
    SESSION_STORE?: string
    SESSION_SECRET?: string
    SESSION_SECRET_FALLBACKS?: string
  }
}
