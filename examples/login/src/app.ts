/**
 * A complete login app on edge-session: sign-up, login and logout with PBKDF2 password
 * hashes, a login-required area, flash messages, CSRF protection, "your sessions" on the
 * Durable Object store, and sessions tied to the password (a new password logs every
 * other session out).
 */
import { Hono, type Context } from 'hono'
import { csrf } from 'hono/csrf'
import { html } from 'hono/html'
import { HTTPException } from 'hono/http-exception'
import type { HtmlEscapedString } from 'hono/utils/html'
import {
  loginRequired,
  messages,
  safeRedirectPath,
  session,
  SessionError,
  type SessionOptions,
} from 'edge-session'
import { durableObjectStore } from 'edge-session/durable-object'
import type { AppEnv } from './env'
import { accountPage, layout, loginForm, signupForm } from './pages'
import { authenticate, createUser, findUser, isPassword, setPassword, USER_NAME } from './users'

/** The session options, exported so that the tests' client uses the very same ones. */
export const sessionOptions: SessionOptions<AppEnv> = {
  store: (c) => durableObjectStore({ namespace: c.env.SESSION_OBJECTS }),
  // The session is bound to the password hash: a new password logs other sessions out.
  authHash: async (c, name) => (await findUser(c.env.USERS, name))?.password ?? null,
  // Idle timeout two weeks (the default), and never longer than 30 days after login.
  absoluteMaxAge: 30 * 24 * 3600,
}

type C = Context<AppEnv>

/** A page with the user, the waiting flash messages and `body`. */
async function render(
  c: C,
  title: string,
  body: HtmlEscapedString | Promise<HtmlEscapedString>,
  status: 200 | 400 = 200,
): Promise<Response> {
  const user = await c.get('session').getUser()
  return c.html(layout(title, user, await messages.get(c), body), status)
}

/** A text field of a posted form ('' when missing or a file). */
async function fields(c: C): Promise<(name: string) => string> {
  const form = await c.req.parseBody()
  return (name) => {
    const value = form[name]
    return typeof value === 'string' ? value : ''
  }
}

export const app = new Hono<AppEnv>()

// Refuses cross-site form posts (Origin and Sec-Fetch-Site): login, logout and every
// other form. The session cookie's SameSite=Lax is the second line.
app.use(csrf())
app.use(session<AppEnv>(sessionOptions))
app.use('/account/*', loginRequired({ loginUrl: '/login' }))

app.get('/', async (c) => {
  const user = await c.get('session').getUser()
  return render(
    c,
    'Home',
    user === null
      ? html`<p>Log in or sign up to see your account.</p>`
      : html`<p>You are logged in as ${user}.</p>`,
  )
})

app.get('/signup', (c) => render(c, 'Sign up', signupForm()))
app.post('/signup', async (c) => {
  const field = await fields(c)
  const name = field('name')
  const password = field('password')
  if (!USER_NAME.test(name))
    return render(
      c,
      'Sign up',
      signupForm('User names are 3 to 32 letters, digits, ".", "_" or "-".'),
      400,
    )
  if (!isPassword(password))
    return render(c, 'Sign up', signupForm('Passwords are 8 to 256 characters.'), 400)
  const user = await createUser(c.env.USERS, name, password)
  if (user === null) return render(c, 'Sign up', signupForm('That user name is taken.'), 400)
  await c.get('session').login(user.name)
  await messages.success(c, `Welcome, ${user.name}!`)
  return c.redirect('/account', 303)
})

app.get('/login', (c) =>
  render(c, 'Log in', loginForm(safeRedirectPath(c.req.query('next'), '/account'))),
)
app.post('/login', async (c) => {
  const field = await fields(c)
  const next = safeRedirectPath(c.req.query('next'), '/account')
  const user = await authenticate(c.env.USERS, field('name'), field('password'))
  if (user === null)
    return render(c, 'Log in', loginForm(next, 'Wrong user name or password.'), 400)
  await c.get('session').login(user.name) // a new session key: no fixation
  await messages.success(c, `Welcome back, ${user.name}.`)
  return c.redirect(next, 303)
})

app.post('/logout', async (c) => {
  await c.get('session').flush()
  await messages.info(c, 'You are logged out.')
  return c.redirect('/', 303)
})

app.get('/account', async (c) =>
  render(c, 'Your account', accountPage(await c.get('session').listSessions())),
)

app.post('/account/sessions/revoke-others', async (c) => {
  const count = await c.get('session').revokeOtherSessions()
  await messages.success(
    c,
    count === 1 ? 'One other session logged out.' : `${count} other sessions logged out.`,
  )
  return c.redirect('/account', 303)
})

app.post('/account/sessions/:handle/revoke', async (c) => {
  const s = c.get('session')
  const revoked = await s.revokeSession(c.req.param('handle'))
  await messages.info(
    c,
    revoked ? 'That session is logged out.' : 'That session had ended already.',
  )
  // Revoking this very session logs it out: back to the home page.
  return c.redirect((await s.getUser()) === null ? '/' : '/account', 303)
})

app.post('/account/password', async (c) => {
  const s = c.get('session')
  const field = await fields(c)
  const user = await findUser(c.env.USERS, (await s.getUser()) ?? '') // read the session first
  const page = async (error: string): Promise<Response> =>
    render(c, 'Your account', accountPage(await s.listSessions(), error), 400)
  if (user === null || (await authenticate(c.env.USERS, user.name, field('current'))) === null)
    return page('The current password is wrong.')
  if (!isPassword(field('password'))) return page('Passwords are 8 to 256 characters.')
  await setPassword(c.env.USERS, user, field('password'))
  await s.updateAuthHash() // this session stays logged in; every other one is logged out
  await messages.success(c, 'Password changed. Your other sessions are logged out.')
  return c.redirect('/account', 303)
})

// A SessionError answers with its status (503 with Retry-After when the store is down),
// without revealing a server fault's details; any other HTTPException (hono/csrf's 403,
// your own) is answered as it is; anything else is a logged 500.
app.onError((err, c) => {
  if (err instanceof SessionError) {
    if (err.status === 500) {
      console.error(err)
      return c.text('Internal Server Error', 500)
    }
    return err.getResponse()
  }
  if (err instanceof HTTPException) return err.getResponse()
  console.error(err)
  return c.text('Internal Server Error', 500)
})
