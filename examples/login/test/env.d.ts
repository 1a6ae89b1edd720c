// The bindings `env` from 'cloudflare:test' carries: those of wrangler.toml (src/env.ts).
declare namespace Cloudflare {
  interface Env {
    USERS: KVNamespace
    SESSION_OBJECTS: DurableObjectNamespace<import('edge-session/durable-object').SessionObject>
  }
}
