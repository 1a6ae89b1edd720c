/**
 * `edge-session/testing`, a page flow as Django's test client walks it: `client.messages()`
 * reads and consumes flash messages as the next page would, `{ follow: true }` goes through
 * redirects with the cookies they set, and `client.assertRedirects()` checks one; on the KV,
 * cookie and Durable Object stores, through a Hono app on the pool's real bindings.
 */
import { env, listDurableObjectIds, runInDurableObject } from 'cloudflare:test'
import { Hono, type Context } from 'hono'
import { csrf } from 'hono/csrf'
import { beforeEach, describe, expect, it } from 'vitest'
import {
  cookieStore,
  flashMessages,
  loginRequired,
  messages,
  safeRedirectPath,
  session,
  type SessionEnv,
  type SessionOptions,
} from '../src/session'
import { durableObjectStore } from '../src/session/durable-object'
import { clearSessions, testClient, type TestResponse } from '../src/session/testing'

type AppEnv = SessionEnv & { Bindings: Cloudflare.Env }

const STORES: [string, SessionOptions<AppEnv>][] = [
  ['KV', {}],
  ['cookie', { store: cookieStore({ secret: 'edge-session flow tests secret, 32+ bytes' }) }],
  ['Durable Objects', { store: (c) => durableObjectStore({ namespace: c.env.SESSION_OBJECTS }) }],
]
const POOL = { env, listDurableObjectIds, runInDurableObject }

/** A login flow as an app writes it: a form that logs in and redirects with a message, pages that show messages. */
function loginApp(options: SessionOptions<AppEnv>): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.use(csrf())
  app.use(session<AppEnv>(options))
  app.use('/account/*', loginRequired())
  const page = async (c: Context<AppEnv>, title: string): Promise<Response> => {
    const shown = (await messages.get(c)).map((m) => `[${m.tags}] ${m.message}`)
    return c.text([title, ...shown].join('\n'))
  }
  app.get('/', (c) => page(c, 'home'))
  app.get('/login', (c) => page(c, 'login'))
  app.get('/account/', async (c) => page(c, `account of ${await c.get('session').getUser()}`))
  app.post('/login', async (c) => {
    const body = await c.req.parseBody()
    await c.get('session').login(String(body['name']))
    await messages.success(c, `Welcome back, ${String(body['name'])}.`)
    return c.redirect(safeRedirectPath(c.req.query('next'), '/account/'), 303)
  })
  app.post('/logout', async (c) => {
    await c.get('session').flush()
    await messages.info(c, 'You are logged out.')
    return c.redirect('/', 302)
  })
  // A 307 sends the form again to its new address, method and body kept.
  app.post('/old-login', (c) => c.redirect('/login?next=/account/', 307))
  app.get('/loop', (c) => c.redirect('/loop', 302))
  app.get('/away', (c) => c.redirect('https://elsewhere.example/', 302))
  app.get('/no-location', (c) => c.body(null, 302))
  return app
}

beforeEach(async () => {
  for (const [, options] of STORES) await clearSessions(options, POOL)
})

describe.each(STORES)('client.messages() on the %s store', (_, options) => {
  it('reads the waiting messages as the next page would, and consumes them', async () => {
    const client = testClient(loginApp(options), { env, session: options })
    const res = await client.post('/login', { form: { name: 'ada' } })
    expect(res.status).toBe(303)
    const read = await client.messages()
    expect(read.map((m) => [m.level, m.levelTag, m.message])).toEqual([
      [25, 'success', 'Welcome back, ada.'],
    ])
    expect(await client.messages()).toEqual([])
    // Consumed in the store: the page the redirect leads to has none left to show.
    expect(await (await client.get('/account/')).text()).toBe('account of ada')
    expect(await client.user()).toBe('ada')
  })

  it('returns none, and writes nothing, for a client without a session', async () => {
    const client = testClient(loginApp(options), { env, session: options })
    expect(await client.messages()).toEqual([])
    expect(client.sessionCookie).toBeUndefined()
  })

  it('reads the messages a page did not, and leaves none for it once read', async () => {
    const client = testClient(loginApp(options), { env, session: options })
    await client.post('/login', { form: { name: 'ada' } })
    await client.post('/logout')
    // The logout flushed the session: its message is the only one in the new one.
    expect((await client.messages()).map(String)).toEqual(['You are logged out.'])
    expect(await (await client.get('/')).text()).toBe('home')
  })

  it("uses the app's own messages API, with its tags", async () => {
    const client = testClient(loginApp(options), { env, session: options })
    await client.post('/login', { form: { name: 'ada' } })
    const flash = flashMessages({ tags: { 25: 'ok' } })
    expect((await client.messages(flash)).map((m) => m.tags)).toEqual(['ok'])
  })
})

describe.each(STORES)('requests with { follow: true } on the %s store', (_, options) => {
  it('goes through a 303 with the cookie the redirect set, as a GET without the body', async () => {
    const client = testClient(loginApp(options), { env, session: options })
    const res = await client.post('/login', { form: { name: 'ada' } }, { follow: true })
    expect(res.status).toBe(200)
    expect(res.redirectChain).toEqual([{ url: '/account/', status: 303 }])
    // The page after the redirect ran logged in (the new cookie) and showed the message.
    expect(await res.text()).toBe('account of ada\n[success] Welcome back, ada.')
    expect(await client.messages()).toEqual([])
  })

  it('goes through a chain: the login page, then the page asked for', async () => {
    const client = testClient(loginApp(options), { env, session: options })
    const res = await client.get('/account/', { follow: true })
    expect(res.redirectChain).toEqual([{ url: '/login?next=%2Faccount%2F', status: 302 }])
    expect(await res.text()).toBe('login')
    const login = await client.post('/old-login', { form: { name: 'ada' } }, { follow: true })
    // 307 resent the POST and its form; the 303 after it became a GET.
    expect(login.redirectChain).toEqual([
      { url: '/login?next=/account/', status: 307 },
      { url: '/account/', status: 303 },
    ])
    expect(await login.text()).toBe('account of ada\n[success] Welcome back, ada.')
  })
})

describe('requests with { follow: true }: where they stop', () => {
  const client = () => testClient(loginApp({}), { env, url: 'https://app.example' })

  it('does not follow without the option: the redirect is the response, with no chain', async () => {
    const res = await client().get('/account/')
    expect(res.status).toBe(302)
    expect(res.redirectChain).toEqual([])
  })

  it('stops at a redirect to another origin, and at one without a Location', async () => {
    const away = await client().get('/away', { follow: true })
    expect(away.status).toBe(302)
    expect(away.headers.get('Location')).toBe('https://elsewhere.example/')
    expect(away.redirectChain).toEqual([])
    expect((await client().get('/no-location', { follow: true })).status).toBe(302)
  })

  it('rejects a redirect loop', async () => {
    await expect(client().get('/loop', { follow: true })).rejects.toThrow(
      'GET /loop: a redirect loop (302 /loop, 302 /loop)',
    )
  })
})

describe('client.assertRedirects()', () => {
  const client = () => testClient(loginApp({}), { env, url: 'https://app.example' })

  it('passes for the redirect and Location given, relative or whole', async () => {
    const c = client()
    const res = await c.get('/account/')
    await c.assertRedirects(res, '/login?next=%2Faccount%2F')
    await c.assertRedirects(res, 'https://app.example/login?next=%2Faccount%2F', { status: 302 })
    await c.assertRedirects(res, '/login?next=%2Faccount%2F', { status: 302, targetStatus: 200 })
  })

  it.each<
    [string, (c: ReturnType<typeof client>) => Promise<TestResponse>, string, object, RegExp]
  >([
    [
      'another status',
      (c) => c.get('/account/'),
      '/login?next=%2Faccount%2F',
      { status: 303 },
      /its status was 302 \(expected 303\)/,
    ],
    ['no redirect', (c) => c.get('/'), '/', {}, /its status was 200 \(expected a redirect/],
    [
      'another Location',
      (c) => c.get('/account/'),
      '/login',
      {},
      /redirected to '\/login\?next=%2Faccount%2F', expected '\/login'/,
    ],
    ['no Location', (c) => c.get('/no-location'), '/', {}, /it has no Location/],
    [
      'a target with another status',
      (c) => c.get('/account/'),
      '/login?next=%2Faccount%2F',
      { targetStatus: 404 },
      /its status was 200 \(expected 404\)/,
    ],
  ])('fails, as an AssertionError, for %s', async (_, send, expected, options, message) => {
    const c = client()
    const error = await c.assertRedirects(await send(c), expected, options).catch((e) => e)
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('AssertionError')
    expect(error.message).toMatch(message)
  })

  it('checks a followed response by its chain: the first status, the last Location, its own status', async () => {
    const c = client()
    const res = await c.post('/old-login', { form: { name: 'ada' } }, { follow: true })
    await c.assertRedirects(res, '/account/', { status: 307, targetStatus: 200 })
    await expect(c.assertRedirects(res, '/account/', { status: 303 })).rejects.toThrow(
      /its status was 307 \(expected 303\)/,
    )
    await expect(c.assertRedirects(res, '/login?next=/account/')).rejects.toThrow(
      /redirected to '\/account\/'/,
    )
  })
})
