// Bindings the tests see through `env` from 'cloudflare:test' (wrangler.toml).
declare namespace Cloudflare {
  interface Env {
    SESSIONS: KVNamespace
  }
}
