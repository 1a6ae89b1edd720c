/**
 * Accounts in a real browser, and the logout race over HTTP, against `wrangler dev` on
 * each store: "Your sessions" and revoking another device (Durable Objects), "change
 * password" logging the user's other browsers out (every store), and 30 racing logouts
 * that must all end logged out (KV within its one location, Durable Objects always).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { launchChromium } from './browser'

const urls = inject('storeURLs')

let browser: Browser
const contexts: BrowserContext[] = []

beforeAll(async () => {
  browser = await launchChromium()
})

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()))
})

afterAll(async () => {
  await browser?.close()
})

/** A new browser profile (its own cookie jar) on `base`, with a recognisable User-Agent. */
async function device(base: string, name: string): Promise<Page> {
  const context = await browser.newContext({ baseURL: base, userAgent: `edge-session e2e (${name})` })
  contexts.push(context)
  const page = await context.newPage()
  await page.goto('/')
  return page
}

/** Submits a form of the page by its id (or a form found by `selector`) and waits for the page it leads to. */
async function submit(page: Page, selector: string): Promise<number> {
  const [post] = await Promise.all([
    page.waitForRequest((request) => request.method() === 'POST'),
    page.waitForEvent('load'),
    page.click(`${selector} button[type="submit"]`),
  ])
  return (await post.response())?.status() ?? 0
}

async function logIn(page: Page, name: string): Promise<void> {
  await page.fill('#form-login [name="username"]', name)
  expect(await submit(page, '#form-login')).toBe(303)
  expect(await page.textContent('#whoami')).toBe(name)
}

/** Who the page says is logged in, after a reload. */
async function whoAfterReload(page: Page): Promise<string | null> {
  await page.reload()
  return (await page.locator('#whoami').count()) === 0 ? null : page.textContent('#whoami')
}

describe('Your sessions (Durable Object store)', () => {
  it('lists both devices of a user, and logging the other out ends it on its next reload', async () => {
    const laptop = await device(urls.do, 'laptop')
    const phone = await device(urls.do, 'phone')
    await logIn(laptop, 'raju')
    await logIn(phone, 'raju')

    await laptop.reload()
    const rows = laptop.locator('#sessions tbody tr')
    expect(await rows.count()).toBe(2)
    expect(await laptop.locator('#sessions tr.current td').first().innerText()).toBe('edge-session e2e (laptop)')
    const other = laptop.locator('#sessions tbody tr:not(.current)')
    expect(await other.locator('td').first().innerText()).toBe('edge-session e2e (phone)')
    // wrangler dev's request.cf (recorded by the demo): a location is shown.
    expect(await other.locator('td').nth(1).innerText()).not.toBe('not recorded')

    expect(await submit(laptop, '#sessions tbody tr:not(.current) form')).toBe(303)
    expect(await laptop.locator('#sessions tbody tr').count()).toBe(1)
    expect(await whoAfterReload(phone)).toBeNull()
    expect(await whoAfterReload(laptop)).toBe('raju')
  })

  it('"Log out other devices" keeps this one; "Log out everywhere" ends this one too', async () => {
    const a = await device(urls.do, 'a')
    const b = await device(urls.do, 'b')
    const c = await device(urls.do, 'c')
    for (const page of [a, b, c]) await logIn(page, 'sita')

    expect(await submit(a, '#form-revoke-others')).toBe(303)
    expect(await whoAfterReload(b)).toBeNull()
    expect(await whoAfterReload(c)).toBeNull()
    expect(await whoAfterReload(a)).toBe('sita')

    await logIn(b, 'sita')
    expect(await submit(a, '#form-revoke-all')).toBe(303)
    expect(await a.locator('#whoami').count()).toBe(0)
    expect(await whoAfterReload(b)).toBeNull()
  })
})

describe.each([['kv'], ['cookie'], ['do']] as const)('Change password (%s store)', (store) => {
  it('logs the user\'s other browser out on its next request, and keeps this one', async () => {
    const mine = await device(urls[store], 'mine')
    const other = await device(urls[store], 'other')
    const user = `user-${store}-${Date.now()}`
    await logIn(mine, user)
    await logIn(other, user)
    expect(await whoAfterReload(other)).toBe(user)

    expect(await submit(mine, '#form-password')).toBe(303)
    expect(await mine.textContent('#whoami')).toBe(user)
    expect(await whoAfterReload(other)).toBeNull()
    expect(await whoAfterReload(mine)).toBe(user)
  })
})

describe.each([['kv'], ['do']] as const)('a logout racing a write, over HTTP (%s store)', (store) => {
  const base = urls[store]
  const post = (path: string, cookie: string, body?: unknown): Promise<Response> =>
    fetch(base + path, {
      method: 'POST',
      headers: { Cookie: cookie, 'Content-Type': 'application/json' },
      body: body === undefined ? '{}' : JSON.stringify(body),
    })

  const many = Object.fromEntries(Array.from({ length: 2000 }, (_, k) => [`k${k}`, k]))

  it('30 tries: log in, start a write, log out while it runs; every one ends logged out', async () => {
    let loggedIn = 0
    const statuses = new Map<number, number>()
    for (let i = 0; i < 30; i++) {
      const login = await post('/login', '', { username: `racer${i}` })
      const id = /sessionid=([^;]+)/.exec(login.headers.get('Set-Cookie') ?? '')?.[1]
      expect(id).toBeDefined()
      const cookie = `sessionid=${id}`
      // The write and the logout race. The write sets 2,000 keys: it loads the session at
      // the first and saves after the last, so the logout lands in between more often than not.
      const write = post('/session', cookie, many)
      await new Promise((done) => setTimeout(done, i % 4))
      const logout = await post('/logout', cookie)
      expect(logout.status).toBe(200)
      const res = await write
      await res.arrayBuffer()
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      // Refused (409) or done before the logout (200); never a Set-Cookie for the old id after a 409.
      expect([200, 409]).toContain(res.status)
      if (res.status === 409) expect(res.headers.get('Set-Cookie')).toBeNull()
      const who = (await (await fetch(`${base}/whoami`, { headers: { Cookie: cookie } })).json()) as { username: string | null }
      if (who.username !== null) loggedIn++
    }
    expect(loggedIn, `statuses: ${JSON.stringify([...statuses])}`).toBe(0)
    // The race really happened: some writes landed after the logout and were refused
    // (9 to 14 of 30 here; without the fix, 4 of 30 KV tries ended logged in).
    expect(statuses.get(409) ?? 0, `statuses: ${JSON.stringify([...statuses])}`).toBeGreaterThan(0)
  }, 60_000)
})
