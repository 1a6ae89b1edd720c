/**
 * The demo with rotating session ids (`ROTATE_SECONDS`, `ROTATE_GRACE_SECONDS` on
 * `SESSION_STORE=do`), over HTTP through `createApp()` on real objects: the id rotates after
 * `ROTATE_SECONDS`; requests in flight with the old id share one successor; a lost response
 * keeps the user logged in; a copied cookie is caught whichever browser comes first, and
 * the copy that never takes the new cookie too; the page of both browsers says why they
 * were logged out and the security activity lists it; the user's other browser and its
 * socket are untouched while the ended session's socket closes. On KV and the cookie store
 * the vars are ignored and the page says that rotation needs the Durable Object store.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../src/app'
import { captureConsole } from './helpers/console'
import { type Device, device, deviceWith } from './helpers/demo'
import { clearObjects } from './helpers/do'
import { type LiveSocket, openLive, within } from './helpers/sockets'

const EVERY = 300
const GRACE = 30
const DO = {
  ...env,
  SESSION_STORE: 'do',
  ROTATE_SECONDS: String(EVERY),
  ROTATE_GRACE_SECONDS: String(GRACE),
}
const OWNER =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36'
const THIEF = 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0'
const ENDED = 'This session was ended because its cookie was used from another device'

let clock = Date.now()
const pass = (seconds: number): void => {
  clock += seconds * 1000
}
/** The demo app on the test's clock. */
const app = createApp({ now: () => clock })

let made = 0
const newUser = (): string => `rot${++made}${crypto.randomUUID().slice(0, 6)}`

/** The session cookie a response set, or `undefined`. */
function setToken(res: Response): string | undefined {
  for (const line of res.headers.getSetCookie()) {
    const match = /^sessionid=([^;]*)/.exec(line)
    if (match !== null) return match[1]
  }
  return undefined
}

/** The owner logged in, and a copy of the cookie in another browser. */
async function stolen(): Promise<{ owner: Device; thief: Device; user: string; old: string }> {
  const owner = device(DO, { app, userAgent: OWNER })
  const user = newUser()
  const old = await owner.login(user)
  return { owner, thief: deviceWith(DO, old, { app, userAgent: THIEF }), user, old }
}

/** The HTML page a browser loads. */
async function page(d: Device): Promise<string> {
  const res = await d.send('/')
  expect(res.status).toBe(200)
  return res.text()
}

beforeEach(async () => {
  clock = Date.now()
  await clearObjects(env.SESSION_OBJECTS)
})

describe('ROTATE_SECONDS on SESSION_STORE=do', () => {
  it('gives a logged-in session a new id on its first request ROTATE_SECONDS after the last', async () => {
    const owner = device(DO, { app })
    const user = newUser()
    const first = await owner.login(user)
    pass(EVERY - 1)
    expect(await owner.whoami()).toBe(user)
    expect(owner.token).toBe(first)
    pass(1)
    expect(await owner.whoami()).toBe(user)
    expect(owner.token).not.toBe(first)
    expect(await page(owner)).toContain('id="rotation-on"')
  })

  it('serves 20 requests in flight with the old id as the user, with one successor', async () => {
    const owner = device(DO, { app })
    const user = newUser()
    const old = await owner.login(user)
    pass(EVERY)
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => deviceWith(DO, old, { app }).send('/whoami')),
    )
    const names = await Promise.all(
      answers.map(async (res) => ((await res.json()) as { username: string }).username),
    )
    expect(new Set(names)).toEqual(new Set([user]))
    expect(new Set(answers.map(setToken)).size).toBe(1)
  })

  it('keeps a browser whose response was lost logged in, giving it the same new id again', async () => {
    const owner = device(DO, { app })
    const user = newUser()
    const old = await owner.login(user)
    pass(EVERY)
    const lost = setToken(await deviceWith(DO, old, { app }).send('/whoami'))
    pass(GRACE * 5)
    const again = await owner.send('/whoami')
    expect(((await again.json()) as { username: string }).username).toBe(user)
    expect(setToken(again)).toBe(lost)
  })

  it('catches a copy used first: both browsers are logged out, their pages say why, the activity lists it', async () => {
    const { owner, thief, user } = await stolen()
    pass(EVERY)
    expect(await thief.whoami()).toBe(user)
    expect(await thief.whoami()).toBe(user)
    pass(GRACE)
    const ownerPage = await page(owner)
    expect(ownerPage).toContain(ENDED)
    expect(ownerPage).toContain('Nobody is logged in.')
    const thiefPage = await page(thief)
    expect(thiefPage).toContain(ENDED)
    expect(await thief.whoami()).toBeNull()
    // The next page of either says nothing more: the cookie was deleted.
    expect(await page(owner)).not.toContain(ENDED)
    const back = device(DO, { app, userAgent: OWNER })
    await back.login(user)
    const { body } = await back.call<{ events: Record<string, unknown>[] }>('/security-events')
    const reused = body.events.find((e) => e['type'] === 'session-reused')
    expect(reused).toMatchObject({
      device: { label: 'Chrome 147 on macOS' },
      holder: { label: 'Firefox 140 on Linux' },
    })
    expect(await page(back)).toContain('Session ended: its cookie was used from another device')
  })

  it('catches a copy used after the owner: the copy is answered anonymous and the owner is logged out too', async () => {
    const { owner, thief, user } = await stolen()
    pass(EVERY)
    expect(await owner.whoami()).toBe(user)
    expect(await owner.whoami()).toBe(user)
    pass(GRACE)
    expect(await page(thief)).toContain(ENDED)
    expect(await owner.whoami()).toBeNull()
  })

  it('catches a copy that never takes the new cookie', async () => {
    const { owner, user, old } = await stolen()
    const copy = async (): Promise<string | null> =>
      deviceWith(DO, old, { app, userAgent: THIEF }).whoami()
    pass(EVERY)
    expect(await copy()).toBe(user)
    expect(await owner.whoami()).toBe(user)
    expect(await owner.whoami()).toBe(user)
    pass(GRACE)
    expect(await copy()).toBeNull()
    expect(await owner.whoami()).toBeNull()
  })

  it("leaves the user's other browser and its socket alone, and closes the ended session's socket", async () => {
    const { owner, thief, user } = await stolen()
    const laptop = device(DO, { app })
    await laptop.login(user)
    const open = async (d: Device): Promise<LiveSocket> => {
      const live = await openLive(d.send)
      await live.next((f) => f['type'] === 'hello')
      return live
    }
    const mine = await open(owner)
    const other = await open(laptop)
    pass(EVERY)
    expect(await owner.whoami()).toBe(user)
    expect(await owner.whoami()).toBe(user)
    const pong = mine.next((f) => f['type'] === 'pong')
    mine.ws.send('ping')
    await pong
    pass(GRACE)
    const ended = mine.next((f) => f['type'] === 'ended')
    expect(await thief.whoami()).toBeNull()
    expect(await ended).toEqual({ type: 'ended', reason: 'reused' })
    expect(await within(mine.closed, 1_000, 'the close')).toMatchObject({
      code: 4401,
      reason: 'reused',
    })
    expect(await laptop.whoami()).toBe(user)
    const still = other.next((f) => f['type'] === 'pong')
    other.ws.send('ping')
    await still
    other.ws.close(1000)
  })
})

describe('ROTATE_SECONDS on a store that cannot rotate', () => {
  it.each(['kv', 'cookie'])(
    'is ignored on %s: the page says rotation needs the Durable Object store',
    async (store) => {
      const bindings = { ...env, SESSION_STORE: store, ROTATE_SECONDS: '60' }
      const owner = device(bindings, { app })
      const user = newUser()
      const token = await owner.login(user)
      const html = await page(owner)
      expect(html).toContain('id="rotation-needs-do"')
      expect(html).toContain('rotating session ids needs the Durable Object')
      pass(600)
      expect(await owner.whoami()).toBe(user)
      if (store === 'kv') expect(owner.token).toBe(token)
    },
  )
})

describe('ROTATE_SECONDS and ROTATE_GRACE_SECONDS, malformed', () => {
  it.each([
    [{ ROTATE_SECONDS: 'often' }, /ROTATE_SECONDS must be a whole number from 1 to/],
    [{ ROTATE_SECONDS: '0' }, /ROTATE_SECONDS must be a whole number from 1 to/],
    [
      { ROTATE_SECONDS: '60', ROTATE_GRACE_SECONDS: '3601' },
      /ROTATE_GRACE_SECONDS must be a whole number from 0 to 3600/,
    ],
  ])(
    'refuses %j with a logged error naming the variable (500, nothing set)',
    async (vars, logged) => {
      const errors = captureConsole('error')
      const d = device({ ...env, SESSION_STORE: 'do', ...vars }, { app })
      const res = await d.send('/whoami')
      expect(res.status).toBe(500)
      expect(await res.json()).toEqual({ error: 'Internal Server Error' })
      expect(res.headers.getSetCookie()).toEqual([])
      expect(errors).toHaveLength(1)
      expect(String(errors[0]?.[0])).toMatch(logged)
    },
  )
})
