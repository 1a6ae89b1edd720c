// session() on the cookie store, and a signer for signed cookies: everything.
import { Hono } from 'hono'
import {
  cookieStore,
  timestampSigner,
  getSignedCookie,
  session,
  setSignedCookie,
  type SessionEnv,
} from 'edge-session'

const SECRET = 'a development secret of at least 32 bytes'
const signer = timestampSigner({ secret: SECRET })
const app = new Hono<SessionEnv<{ hits: number }>>()
app.use(session({ store: cookieStore({ secret: SECRET }) }))
app.get('/', async (c) => {
  const s = c.get('session')
  await s.set('hits', ((await s.get('hits')) ?? 0) + 1)
  await setSignedCookie(c, 'seen', 'yes', { signer })
  return c.text(`${await s.get('hits')} ${(await getSignedCookie(c, 'seen', { signer })) ?? ''}`)
})
export default app
