/**
 * The shipped test kit (`edge-session/testing`) on the demo worker as deployed (`SELF`):
 * the client's `forceLogin()` runs the demo's own session options, and the worker sees
 * the user.
 */
import { env, SELF } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { selectStore } from '../src/routes/store'
import { demoAuthHash, USER_KEY_PREFIX } from '../src/routes/users'
import { kvKeyFor } from '../src/session/stores/kv'
import { clearKvSessions, testClient } from '../src/session/testing'

beforeEach(async () => {
  await clearKvSessions(env.SESSIONS)
})

describe('the test client over a fetcher (SELF, the demo worker)', () => {
  const demoOptions = { authHash: demoAuthHash, store: selectStore() }

  it("force-logs in on the demo's own options and the worker sees the user", async () => {
    await env.USERS.put(`${USER_KEY_PREFIX}raju`, 'raju-verifier')
    const client = testClient(SELF, {
      env,
      session: demoOptions,
      url: 'http://localhost:8787',
    })
    await client.forceLogin('raju')
    expect(await (await client.get('/whoami')).json()).toEqual({ username: 'raju' })
    expect(await env.SESSIONS.get(await kvKeyFor(client.sessionCookie!))).not.toBeNull()
    // The demo's guard refuses cross-site posts: the client's own Origin is same-site.
    const res = await client.post('/session', { json: { color: 'blue' } })
    expect(res.status).toBe(200)
    expect(await client.session()).toEqual({ color: 'blue' })
  })
})
