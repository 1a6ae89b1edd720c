// The README's example, as a user pastes it ("Using the library in your own Hono app").
import { Hono } from 'hono'
import { session, type SessionEnv } from 'edge-session'

type Data = { hits: number }
const app = new Hono<SessionEnv<Data> & { Bindings: { SESSIONS: KVNamespace } }>()
app.use(session()) // KV binding SESSIONS, cookie "sessionid", two weeks
app.get('/hits', async (c) => {
  const s = c.get('session')
  await s.set('hits', ((await s.get('hits')) ?? 0) + 1)
  return c.text(`hits: ${await s.get('hits')}`)
})
export default app
