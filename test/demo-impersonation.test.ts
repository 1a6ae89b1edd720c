/**
 * The demo's impersonation (`src/routes/impersonation.ts`, issue 26 item 5) on
 * `SESSION_STORE=do`: `ADMIN_USERS` may `POST /impersonate` with a reason and a fresh
 * authentication, `GET /whoami` names the impersonator, the sensitive routes answer 403
 * `IMPERSONATING`, `POST /impersonate/stop` (or `IMPERSONATION_SECONDS`, or the target
 * ending it) brings the admin back on their own session; the page shows the banner, the
 * target's sessions list it, and both trails record it.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../src/app'
import { device, type Device } from './helpers/demo'
import { captureConsole } from './helpers/console'
import { clearObjects } from './helpers/do'
import { json } from './helpers/http'

let n = 0
const newUser = (what: string): string => `${what}-${++n}-${crypto.randomUUID().slice(0, 8)}`

interface Row {
  handle: string
  current: boolean
  impersonator?: string
}

/** The demo on the Durable Object store with `ADMIN_USERS` naming `admin`, and a clock. */
function setup(vars: Record<string, string> = {}) {
  const clock = { now: Math.ceil(Date.now() / 1000) * 1000 + 60_000 }
  const app = createApp({ now: () => clock.now })
  const admin = newUser('admin')
  const target = newUser('user')
  const bindings = {
    ...env,
    SESSION_STORE: 'do',
    ADMIN_USERS: ` someone-else , ${admin}`,
    ...vars,
  }
  const browser = (): Device => device(bindings, { app })
  return { clock, app, admin, target, browser }
}

const impersonate = (d: Device, username: string, reason: unknown = 'ticket #77') =>
  d.call<Record<string, unknown>>('/impersonate', json('POST', { username, reason }))

const sessionsOf = async (d: Device): Promise<Row[]> =>
  (await d.call<{ sessions: Row[] }>('/sessions')).body.sessions

const ownHandle = async (d: Device): Promise<string | undefined> =>
  (await sessionsOf(d)).find((s) => s.current)?.handle

beforeEach(async () => {
  await clearObjects()
})

describe('POST /impersonate', () => {
  it('from a fresh admin: 200, and GET /whoami names the target and the impersonator', async () => {
    const { admin, target, browser } = setup()
    const a = browser()
    await a.login(admin)
    await browser().login(target)
    const { res, body } = await impersonate(a, target)
    expect(res.status).toBe(200)
    expect(body).toEqual({ username: target, impersonator: admin })
    expect((await a.call('/whoami')).body).toEqual({ username: target, impersonator: admin })
  })

  it('answers 403 to a user not in ADMIN_USERS, 400 without a reason, 404 for an unknown user, 401 logged out', async () => {
    const { admin, target, browser } = setup()
    const a = browser()
    const other = browser()
    await a.login(admin)
    await browser().login(target)
    await other.login(newUser('plain'))
    const notAdmin = await impersonate(other, target)
    expect(notAdmin.res.status).toBe(403)
    expect(notAdmin.body).toMatchObject({ code: 'NOT_ADMIN' })
    for (const reason of [null, '', '  ', 7]) {
      const { res } = await impersonate(a, target, reason)
      expect(res.status).toBe(400)
    }
    expect((await impersonate(a, 'nobody-ever-logged-in')).res.status).toBe(404)
    expect((await impersonate(a, admin)).res.status).toBe(400)
    expect((await impersonate(browser(), target)).res.status).toBe(401)
    expect(await a.whoami()).toBe(admin)
  })

  it('answers 403 REAUTHENTICATION_REQUIRED when the admin last authenticated too long ago', async () => {
    const { admin, target, browser, clock } = setup()
    const a = browser()
    await a.login(admin)
    await browser().login(target)
    clock.now += 601_000
    const { res, body } = await impersonate(a, target)
    expect(res.status).toBe(403)
    expect(body).toMatchObject({ code: 'REAUTHENTICATION_REQUIRED' })
    expect((await a.call('/confirm', json('POST', { username: admin }))).res.status).toBe(200)
    expect((await impersonate(a, target)).res.status).toBe(200)
  })

  it('answers 500, impersonating nobody, when IMPERSONATION_SECONDS is not 1 to 86400', async () => {
    const errors = captureConsole('error')
    for (const value of ['abc', '0', '86401', '1.5']) {
      const { admin, target, browser } = setup({ IMPERSONATION_SECONDS: value })
      const a = browser()
      await a.login(admin)
      await browser().login(target)
      expect((await impersonate(a, target)).res.status).toBe(500)
      expect(await a.whoami()).toBe(admin)
    }
    expect(String(errors[0]?.[0])).toContain('IMPERSONATION_SECONDS must be a whole number')
    expect(errors.length).toBe(4)
  })

  it('answers 501 on the KV store', async () => {
    const { admin, target, browser } = setup({ SESSION_STORE: 'kv' })
    const a = browser()
    await a.login(admin)
    await browser().login(target)
    const { res, body } = await impersonate(a, target)
    expect(res.status).toBe(501)
    expect(body).toMatchObject({ code: 'NOT_SUPPORTED' })
  })
})

describe('while impersonating', () => {
  it.each([
    ['DELETE', '/sessions/HANDLE'],
    ['POST', '/sessions/revoke-others'],
    ['POST', '/sessions/revoke-all'],
    ['POST', '/password'],
    ['POST', '/confirm'],
    ['POST', '/impersonate'],
  ])('%s %s answers 403 {"code": "IMPERSONATING"} and ends nothing', async (method, path) => {
    const { admin, target, browser } = setup()
    const a = browser()
    const t = browser()
    await a.login(admin)
    await t.login(target)
    const handle = await ownHandle(t)
    await impersonate(a, target)
    const body = path === '/sessions/HANDLE' ? undefined : { username: target, reason: 'x' }
    const init = body === undefined ? { method } : json(method, body)
    const { res, body: answer } = await a.call(path.replace('HANDLE', handle ?? ''), init)
    expect(res.status).toBe(403)
    expect(answer).toMatchObject({ code: 'IMPERSONATING' })
    expect(await t.whoami()).toBe(target)
    expect((await sessionsOf(t)).length).toBe(2)
  })

  it('the page shows the banner "You are acting as <target> — stop"', async () => {
    const { admin, target, browser } = setup()
    const a = browser()
    await a.login(admin)
    await browser().login(target)
    await impersonate(a, target)
    const html = await (await a.send('/')).text()
    expect(html).toMatch(
      new RegExp(`You are acting as <strong>${target}</strong> —\\s*<button[^>]*>\\s*stop`),
    )
  })

  it("the target's GET /sessions lists it naming the admin, and DELETE of its handle ends it: the admin is back on their own session", async () => {
    const { admin, target, browser } = setup()
    const a = browser()
    const t = browser()
    await a.login(admin)
    await t.login(target)
    const adminHandle = await ownHandle(a)
    await impersonate(a, target)
    const row = (await sessionsOf(t)).find((s) => s.impersonator !== undefined)
    expect(row).toMatchObject({ impersonator: admin, current: false })
    const { body } = await t.call(`/sessions/${row?.handle}`, { method: 'DELETE' })
    expect(body).toEqual({ revoked: true })
    expect((await a.call('/whoami')).body).toEqual({ username: admin })
    expect(await ownHandle(a)).toBe(adminHandle)
  })

  it("both users' GET /security-events list the start and the end", async () => {
    const { admin, target, browser } = setup()
    const a = browser()
    const t = browser()
    await a.login(admin)
    await t.login(target)
    await impersonate(a, target, 'ticket #12')
    await a.call('/impersonate/stop', { method: 'POST' })
    const types = async (d: Device) =>
      (
        await d.call<{ events: { type: string; reason?: string; how?: string }[] }>(
          '/security-events',
        )
      ).body.events.filter((e) => e.type.startsWith('impersonation'))
    for (const d of [a, t])
      expect(await types(d)).toEqual([
        expect.objectContaining({ type: 'impersonation-ended', how: 'stopped' }),
        expect.objectContaining({ type: 'impersonation-started', reason: 'ticket #12' }),
      ])
  })
})

describe('POST /impersonate/stop', () => {
  it('answers 200, and GET /whoami is the admin again on the same session handle', async () => {
    const { admin, target, browser } = setup()
    const a = browser()
    await a.login(admin)
    await browser().login(target)
    const handle = await ownHandle(a)
    await impersonate(a, target)
    const { res, body } = await a.call('/impersonate/stop', { method: 'POST' })
    expect(res.status).toBe(200)
    expect(body).toEqual({ stopped: true, username: admin })
    expect((await a.call('/whoami')).body).toEqual({ username: admin })
    expect(await ownHandle(a)).toBe(handle)
  })

  it('IMPERSONATION_SECONDS sets the limit: past it, the next request is the admin again', async () => {
    const { admin, target, browser, clock } = setup({ IMPERSONATION_SECONDS: '120' })
    const a = browser()
    await a.login(admin)
    await browser().login(target)
    await impersonate(a, target)
    clock.now += 119_000
    expect(await a.whoami()).toBe(target)
    clock.now += 1_000
    expect((await a.call('/whoami')).body).toEqual({ username: admin })
  })

  it('the page forms: act as a user, see the banner, stop', async () => {
    const { admin, target, browser } = setup()
    const a = browser()
    await a.login(admin)
    await browser().login(target)
    expect(await (await a.send('/')).text()).toContain('id="form-impersonate"')
    const form = (fields: Record<string, string>) => ({
      method: 'POST',
      body: new URLSearchParams(fields),
    })
    const start = await a.send('/form/impersonate', form({ username: target, reason: 'ticket' }))
    expect(start.status).toBe(303)
    const page = await (await a.send('/')).text()
    expect(page).toContain('id="impersonating"')
    expect(page).not.toContain('id="form-impersonate"')
    const refused = await a.send('/form/sessions/revoke-others', form({}))
    expect(refused.status).toBe(403)
    expect(await refused.text()).toContain('acting as this user')
    expect((await a.send('/form/impersonate/stop', form({}))).status).toBe(303)
    expect(await a.whoami()).toBe(admin)
  })
})
