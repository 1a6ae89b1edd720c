// The account area as a visitor and as a user meet it: a redirect to the login page, the
// login form with its welcome on the next page, and logout; with edge-session/testing.
import { env, listDurableObjectIds, runInDurableObject } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { clearSessions, testClient } from 'edge-session/testing'
import { app, sessionOptions } from '../src/app'
import { createUser } from '../src/users'

const browser = () => testClient(app, { env, session: sessionOptions, url: 'https://example.com' })

beforeEach(async () => {
  // Storage is isolated per test file, not per test: empty the store the options name.
  await clearSessions(sessionOptions, { env, listDurableObjectIds, runInDurableObject })
  await createUser(env.USERS, 'ada', 'correct horse')
})

describe('/account', () => {
  it('sends a visitor to the login page', async () => {
    const client = browser()
    await client.assertRedirects(await client.get('/account'), '/login?next=%2Faccount', {
      status: 302,
      targetStatus: 200,
    })
  })

  it('shows a logged-in user their account', async () => {
    const client = browser()
    await client.forceLogin('ada')
    expect((await client.get('/account')).status).toBe(200)
  })

  it('logs in through the form, under a new session key, with a welcome', async () => {
    const client = browser()
    const res = await client.post('/login', { form: { name: 'ada', password: 'correct horse' } })
    await client.assertRedirects(res, '/account', { status: 303 })
    expect(await client.user()).toBe('ada')
    expect((await client.messages()).map(String)).toEqual(['Welcome back, ada.'])
  })

  it('follows the login to the account page, which shows the welcome once', async () => {
    const client = browser()
    const form = { form: { name: 'ada', password: 'correct horse' } }
    const res = await client.post('/login', form, { follow: true })
    expect(res.redirectChain).toEqual([{ url: '/account', status: 303 }])
    expect(await res.text()).toContain('<li class="success">Welcome back, ada.</li>')
    expect(await client.messages()).toEqual([])
  })

  it('logs out', async () => {
    const client = browser()
    await client.forceLogin('ada')
    await client.logout()
    expect((await client.get('/account')).status).toBe(302)
  })
})
