/**
 * The demo's live sessions (`src/routes/live.ts`, `src/routes/live-object.ts`): `GET /live`
 * on each store, its object's frames (`hello` with the session's handle, `pong` for
 * `ping`, `ended` before the 4401 close), and `{"type":"sessions"}` to every socket of a
 * user whose list of sessions changed.
 */
import { env, SELF } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { BASE, type Device, device } from './helpers/demo'
import { clearObjects } from './helpers/do'
import { json } from './helpers/http'
import { type LiveSocket, openLive, within } from './helpers/sockets'

const DO = { ...env, SESSION_STORE: 'do' }
let made = 0
const newUser = (): string => `demo-live-${++made}-${crypto.randomUUID().slice(0, 8)}`

/** A logged-in device of `user` with its socket open (the hello received). */
async function online(user: string): Promise<{ d: Device; live: LiveSocket; handle: string }> {
  const d = device(DO)
  await d.login(user)
  const live = await openLive(d.send)
  const hello = await live.next((f) => f['type'] === 'hello')
  return { d, live, handle: hello['handle'] as string }
}

beforeEach(async () => {
  await clearObjects()
})

describe('GET /live', () => {
  it.each([['kv'], ['cookie']])(
    'answers 501 NOT_SUPPORTED on the %s store, even from another origin',
    async (store) => {
      const d = device({ ...env, SESSION_STORE: store })
      await d.login(newUser())
      for (const headers of [{}, { Origin: 'https://evil.example' }] as Record<string, string>[]) {
        const res = await d.send('/live', { headers: { Upgrade: 'websocket', ...headers } })
        expect(res.status).toBe(501)
        expect(await res.json()).toMatchObject({ code: 'NOT_SUPPORTED' })
      }
    },
  )

  it('answers 501 through the deployed worker (SELF, the KV store)', async () => {
    const res = await SELF.fetch(`${BASE}/live`, { headers: { Upgrade: 'websocket' } })
    expect(res.status).toBe(501)
    expect(res.webSocket).toBeNull()
  })
})

describe("the demo's socket", () => {
  it("is greeted with its session's handle, the one GET /sessions lists as current", async () => {
    const { d, handle } = await online(newUser())
    const { body } = await d.call<{ sessions: { handle: string; current: boolean }[] }>('/sessions')
    expect(body.sessions).toEqual([expect.objectContaining({ handle, current: true })])
  })

  it("answers ping with pong: the socket's user and handle, and the start of the object that answered", async () => {
    const user = newUser()
    const { live, handle } = await online(user)
    const pong = live.next((f) => f['type'] === 'pong')
    live.ws.send('ping')
    expect(await pong).toEqual({
      type: 'pong',
      user,
      handle,
      instance: expect.stringMatching(/^[0-9a-f-]{36}$/),
    })
  })

  it('says why ({"type":"ended"}) before the 4401 close', async () => {
    const { d, live } = await online(newUser())
    const ended = live.next((f) => f['type'] === 'ended')
    await d.call('/logout', json('POST', {}))
    expect(await ended).toEqual({ type: 'ended', reason: 'logged out' })
    expect((await live.closed).code).toBe(4401)
  })
})

describe('the user\'s sockets hear {"type":"sessions"} when the list changes', () => {
  it("on a login and on a revocation, the revoking device's own socket included", async () => {
    const user = newUser()
    const a = await online(user)
    const changed = a.live.next((f) => f['type'] === 'sessions')
    const b = await online(user)
    await changed
    const again = a.live.next((f) => f['type'] === 'sessions')
    await a.d.call(`/sessions/${b.handle}`, { method: 'DELETE' })
    await within(again, 1_000, 'the sessions frame')
  })
})
