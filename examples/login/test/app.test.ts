/**
 * The login app, through its routes, with edge-session/testing's client: real Durable
 * Objects and KV in workerd (the vitest pool), real PBKDF2 on Web Crypto.
 */
import { env, listDurableObjectIds, runInDurableObject, SELF } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { clearSessions, testClient, type TestClient } from 'edge-session/testing'
import { app, sessionOptions } from '../src/app'
import { createUser, findUser } from '../src/users'

const URL = 'https://example.com'
/** A browser on the app, with the app's own session options for forceLogin() and session(). */
const browser = (): TestClient =>
  testClient(app, {
    env,
    session: sessionOptions,
    url: URL,
    headers: { 'User-Agent': 'test browser' },
  })
const page = async (res: Response): Promise<string> => res.text()

beforeEach(async () => {
  // Storage is isolated per test file, not per test: start each test empty.
  await clearSessions(sessionOptions, { env, listDurableObjectIds, runInDurableObject })
  const { keys } = await env.USERS.list()
  await Promise.all(keys.map((key) => env.USERS.delete(key.name)))
})

describe('sign-up', () => {
  it('creates the user with a salted PBKDF2 hash, logs them in and welcomes them once', async () => {
    const client = browser()
    const form = { form: { name: 'ada', password: 'correct horse' } }
    const res = await client.post('/signup', form, { follow: true })
    await client.assertRedirects(res, '/account', { status: 303, targetStatus: 200 })
    const stored = await findUser(env.USERS, 'ada')
    expect(stored?.password).toMatch(
      /^pbkdf2_sha256\$100000\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/,
    )
    expect(JSON.stringify(stored)).not.toContain('correct horse')
    expect(await client.user()).toBe('ada')
    expect(await page(res)).toContain('<li class="success">Welcome, ada!</li>')
    expect(await page(await client.get('/account'))).not.toContain('Welcome, ada!')
  })

  it('refuses a taken name and a short password with 400, logging no one in', async () => {
    await createUser(env.USERS, 'ada', 'correct horse')
    const client = browser()
    expect(
      (await client.post('/signup', { form: { name: 'ada', password: 'another one' } })).status,
    ).toBe(400)
    expect(
      (await client.post('/signup', { form: { name: 'bob', password: 'short' } })).status,
    ).toBe(400)
    expect(await client.user()).toBeNull()
  })
})

describe('login', () => {
  beforeEach(async () => {
    await createUser(env.USERS, 'ada', 'correct horse')
  })

  it('logs in with the right password under a new session key, and goes to next', async () => {
    const client = browser()
    await client.withSession((s) => s.set('theme', 'dark')) // an anonymous session first
    const before = client.sessionCookie
    const res = await client.post('/login?next=%2Faccount%3Ftab%3D2', {
      form: { name: 'ada', password: 'correct horse' },
    })
    await client.assertRedirects(res, '/account?tab=2', { status: 303 })
    expect(client.sessionCookie).not.toBe(before)
    expect(await client.user()).toBe('ada')
  })

  it('refuses a wrong password or an unknown user with 400', async () => {
    const client = browser()
    for (const form of [
      { name: 'ada', password: 'wrong horse' },
      { name: 'nobody', password: 'correct horse' },
    ]) {
      const res = await client.post('/login', { form })
      expect(res.status).toBe(400)
      expect(await page(res)).toContain('Wrong user name or password.')
    }
    expect(await client.user()).toBeNull()
  })

  it('never redirects to another site after login', async () => {
    const client = browser()
    const res = await client.post('/login?next=%2F%2Fevil.example', {
      form: { name: 'ada', password: 'correct horse' },
    })
    await client.assertRedirects(res, '/account')
  })

  it('refuses a cross-site login post (CSRF) with 403', async () => {
    const hostile = testClient(app, {
      env,
      session: sessionOptions,
      url: URL,
      origin: 'https://evil.example',
    })
    expect(
      (await hostile.post('/login', { form: { name: 'ada', password: 'correct horse' } })).status,
    ).toBe(403)
    expect(await hostile.user()).toBeNull()
  })
})

describe('the account area (loginRequired)', () => {
  it('sends a logged-out page request to the login page with next, and a JSON one a 401', async () => {
    const client = browser()
    await client.assertRedirects(await client.get('/account'), '/login?next=%2Faccount', {
      status: 302,
    })
    expect((await client.get('/account', { headers: { Accept: 'application/json' } })).status).toBe(
      401,
    )
    expect((await client.post('/account/password', { form: {} })).status).toBe(302)
  })

  it('shows the user\'s sessions, and "log out every other session" ends the others', async () => {
    await createUser(env.USERS, 'ada', 'correct horse')
    const [laptop, phone] = [browser(), browser()]
    await laptop.forceLogin('ada')
    await phone.forceLogin('ada')
    const html = await page(await laptop.get('/account'))
    expect(html.match(/<tr><td>test browser/g)).toHaveLength(2)
    expect(html).toContain('(this one)')
    expect((await laptop.post('/account/sessions/revoke-others')).status).toBe(303)
    expect(await phone.user()).toBeNull()
    expect(await laptop.user()).toBe('ada')
  })
})

describe('logout', () => {
  it('ends the session and says so once', async () => {
    await createUser(env.USERS, 'ada', 'correct horse')
    const client = browser()
    await client.forceLogin('ada')
    await client.assertRedirects(await client.post('/logout'), '/', { status: 303 })
    expect((await client.messages()).map((m) => [m.levelTag, m.message])).toEqual([
      ['info', 'You are logged out.'],
    ])
    expect(await page(await client.get('/'))).not.toContain('You are logged out.')
    expect((await client.get('/account')).status).toBe(302)
  })
})

describe('changing the password', () => {
  it('keeps this session, logs every other one out, and only the new password works', async () => {
    await createUser(env.USERS, 'ada', 'correct horse')
    const [here, elsewhere] = [browser(), browser()]
    await here.forceLogin('ada')
    await elsewhere.forceLogin('ada')
    const wrong = await here.post('/account/password', {
      form: { current: 'nope nope', password: 'battery staple' },
    })
    expect(wrong.status).toBe(400)
    expect(await elsewhere.user()).toBe('ada')
    const res = await here.post('/account/password', {
      form: { current: 'correct horse', password: 'battery staple' },
    })
    expect(res.status).toBe(303)
    expect(await here.user()).toBe('ada')
    expect(await elsewhere.user()).toBeNull()
    expect(
      (await browser().post('/login', { form: { name: 'ada', password: 'correct horse' } })).status,
    ).toBe(400)
    expect(
      (await browser().post('/login', { form: { name: 'ada', password: 'battery staple' } }))
        .status,
    ).toBe(303)
  })
})

describe('the deployed Worker (SELF)', () => {
  it('serves the same app, and the client logs in through it', async () => {
    await createUser(env.USERS, 'ada', 'correct horse')
    const client = testClient(SELF, { env, session: sessionOptions, url: URL })
    await client.post('/login', { form: { name: 'ada', password: 'correct horse' } })
    expect(await page(await client.get('/'))).toContain('You are logged in as ada.')
  })
})
