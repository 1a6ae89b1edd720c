// The complete test file of docs/testing.md, as it is printed there.
import { env, listDurableObjectIds, runInDurableObject } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { clearDurableObjectSessions, createTestClient } from 'edge-session/testing'
import { app, sessionOptions } from '../src/app'
import { createUser } from '../src/users'

const browser = () =>
  createTestClient(app, { env, session: sessionOptions, url: 'https://example.com' })

beforeEach(async () => {
  // Storage is isolated per test file, not per test.
  await clearDurableObjectSessions(env.SESSION_OBJECTS, {
    listDurableObjectIds,
    runInDurableObject,
  })
  await createUser(env.USERS, 'ada', 'correct horse')
})

describe('/account', () => {
  it('sends a visitor to the login page', async () => {
    const res = await browser().get('/account')
    expect(res.status).toBe(302)
    expect(res.headers.get('Location')).toBe('/login?next=%2Faccount')
  })

  it('shows a logged-in user their account', async () => {
    const client = browser()
    await client.forceLogin('ada')
    expect((await client.get('/account')).status).toBe(200)
  })

  it('logs in through the form, under a new session key', async () => {
    const client = browser()
    const res = await client.post('/login', { form: { name: 'ada', password: 'correct horse' } })
    expect(res.status).toBe(303)
    expect(await client.user()).toBe('ada')
    expect(await client.session()).toEqual({
      _messages: [{ level: 25, message: 'Welcome back, ada.' }],
    })
  })

  it('logs out', async () => {
    const client = browser()
    await client.forceLogin('ada')
    await client.logout()
    expect((await client.get('/account')).status).toBe(302)
  })
})
