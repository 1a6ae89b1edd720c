// What needs no Workers binding: the cookie store, the signer, signed and plain cookies.
// It uses no Workers type, so the same module runs in workerd and on plain Node.
import { Hono } from 'hono'
import {
  BadSignatureError,
  cookieStore,
  timestampSigner,
  getCookie,
  getSignedCookie,
  session,
  setCookie,
  setSignedCookie,
  type SessionEnv,
  type Signer,
} from 'edge-session'

type Cart = { items: string[] }
type Env = SessionEnv<Cart> & { Bindings: { SESSION_SECRET?: string } }

/** The app, for a secret of at least 32 bytes. */
export function portableApp(secret: string): Hono<Env> {
  const signer: Signer = timestampSigner({ secret })
  const app = new Hono<Env>()
  app.use(session<Cart>({ store: cookieStore({ secret }), cookieName: 'cart' }))

  app.post('/cart/:item', async (c) => {
    const cart = c.get('session')
    const items = [...((await cart.get('items')) ?? []), c.req.param('item')]
    await cart.set('items', items)
    return c.json({ items })
  })
  app.get('/cart', async (c) => c.json({ items: (await c.get('session').get('items')) ?? [] }))

  app.get('/theme/:name', async (c) => {
    setCookie(c, 'theme', c.req.param('name'), { maxAge: 3600 })
    await setSignedCookie(c, 'user', 'raju', { signer, maxAge: 3600 })
    return c.text('set')
  })
  app.get('/whoami', async (c) => {
    const user = await getSignedCookie(c, 'user', { signer, default: null })
    const theme = getCookie(c, 'theme')
    return c.json({ user, theme: theme ?? null })
  })

  app.get('/token/:value', async (c) =>
    c.text(await signer.sign(c.req.param('value'), { purpose: 'token' })),
  )
  app.get('/verify', async (c) => {
    try {
      const { value, rotated } = await signer.verify(c.req.query('token') ?? '', {
        purpose: 'token',
        maxAge: 60,
      })
      return c.json({ value, rotated })
    } catch (err) {
      if (err instanceof BadSignatureError) return c.json({ error: err.reason }, 400)
      throw err
    }
  })
  return app
}
