// Only session() with its default KV store: the cookie store (AES-GCM, HKDF) and the
// signer must not be in this bundle.
import { Hono } from 'hono'
import { session, type SessionEnv } from 'edge-session'

const app = new Hono<SessionEnv<{ hits: number }> & { Bindings: { SESSIONS: KVNamespace } }>()
app.use(session())
app.get('/', async (c) => {
  const s = c.get('session')
  await s.set('hits', ((await s.get('hits')) ?? 0) + 1)
  return c.text(String(await s.get('hits')))
})
export default app
