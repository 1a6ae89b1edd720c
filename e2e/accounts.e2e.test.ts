/**
 * Accounts in a real browser, and the logout race over HTTP, against `wrangler dev` on
 * each store: "Your sessions" and revoking another device (Durable Objects), "change
 * password" logging the user's other browsers out (every store), and 30 racing logouts
 * that must all end logged out (KV within its one location, Durable Objects always).
 */
import type { Page } from 'playwright-core'
import { describe, expect, inject, it } from 'vitest'
import { useBrowser } from './browser'
import { logIn, submit } from './forms'

const urls = inject('storeURLs')

const newContext = useBrowser()

/** A new browser profile (its own cookie jar) on `base`, with a recognisable User-Agent. */
async function device(base: string, name: string): Promise<Page> {
  const context = await newContext({ baseURL: base, userAgent: `edge-session e2e (${name})` })
  const page = await context.newPage()
  await page.goto('/')
  return page
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
    // The library names the device from the browser's client hints, which win over the
    // User-Agent each context overrides: this Chromium, on this system.
    const named = /^Chrom(e|ium) \d+ on \S/
    expect(await laptop.locator('#sessions tr.current .device-name').innerText()).toMatch(named)
    expect(await laptop.locator('#sessions tr.current .this-device').innerText()).toBe(
      'This device',
    )
    const other = laptop.locator('#sessions tbody tr:not(.current)')
    expect(await other.locator('.device-name').innerText()).toMatch(named)
    // wrangler dev's request.cf (recorded by the demo): a location is shown.
    expect(await other.locator('td').nth(1).innerText()).not.toBe('not recorded')

    // The table fits the page: nothing runs past the right edge, on a desktop or a phone.
    for (const width of [1280, 390]) {
      await laptop.setViewportSize({ width, height: 800 })
      expect(
        await laptop.evaluate(
          () => document.documentElement.scrollWidth <= document.documentElement.clientWidth,
        ),
        `${width} px`,
      ).toBe(true)
    }
    expect(await laptop.locator('#sessions tr.current time').first().getAttribute('title')).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/,
    )

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

describe('Security activity (Durable Object store)', () => {
  it('shows a login from a second browser as a new device, and this browser logging in again as known', async () => {
    const laptop = await device(urls.do, 'laptop')
    const user = `activity-${Date.now()}`
    await logIn(laptop, user)
    expect(await submit(laptop, '#form-logout')).toBe(303)
    await logIn(laptop, user) // the known-device cookie survived the logout
    const phone = await device(urls.do, 'phone')
    await logIn(phone, user)

    await laptop.reload()
    const items = laptop.locator('#security-activity li')
    const rows = await items.evaluateAll((lis) =>
      lis.map((li) => [li.getAttribute('data-type'), li.classList.contains('new-device')]),
    )
    expect(rows).toEqual([
      ['login', true], // the phone: a browser that never logged in as this user
      ['login', false],
      ['logout', false],
      ['login', true],
    ])
    const newest = await items.first().innerText()
    expect(newest).toContain('Signed in from a new device')
    expect(newest).toMatch(/Chrom(e|ium) \d+ on \S/)
    expect(newest).toContain('just now')
  })
})

describe('live sessions (Durable Object store, GET /live)', () => {
  it('"Log out other devices" in one browser shows "Session ended" in the other within a second, without a reload', async () => {
    const first = await device(urls.do, 'first')
    const second = await device(urls.do, 'second')
    const user = `live-${Date.now()}`
    await logIn(first, user)
    await logIn(second, user)
    // The first page's list refreshes by itself when another device logs in: no reload.
    await first.reload()
    await second.reload()
    await expect
      .poll(() => second.locator('#sessions tbody tr').count(), { timeout: 2_000 })
      .toBe(2)
    expect(await second.locator('#session-ended').isVisible()).toBe(false)
    let navigations = 0
    second.on('framenavigated', () => navigations++)

    const clicked = Date.now()
    expect(await submit(first, '#form-revoke-others')).toBe(303)
    await second.locator('#session-ended').waitFor({ state: 'visible', timeout: 1_000 })
    const shownAfter = Date.now() - clicked
    expect(await second.locator('#session-ended').innerText()).toContain('Session ended')
    expect(navigations).toBe(0)
    console.log(`e2e: "Session ended" shown ${shownAfter} ms after the click`)
    expect(await whoAfterReload(second)).toBeNull()
    expect(await whoAfterReload(first)).toBe(user)
  })

  it('"Your sessions" refreshes by itself when the same user logs in elsewhere', async () => {
    const first = await device(urls.do, 'one')
    const user = `refresh-${Date.now()}`
    await logIn(first, user)
    expect(await first.locator('#sessions tbody tr').count()).toBe(1)
    const second = await device(urls.do, 'two')
    await logIn(second, user)
    await expect.poll(() => first.locator('#sessions tbody tr').count(), { timeout: 1_000 }).toBe(2)
  })
})

describe.each([['kv'], ['cookie'], ['do']] as const)('Change password (%s store)', (store) => {
  it("logs the user's other browser out on its next request, and keeps this one", async () => {
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

describe.each([['kv'], ['do']] as const)(
  'a logout racing a write, over HTTP (%s store)',
  (store) => {
    const base = urls[store]
    const post = (path: string, cookie: string, body?: unknown): Promise<Response> =>
      fetch(base + path, {
        method: 'POST',
        headers: { Cookie: cookie, 'Content-Type': 'application/json' },
        body: body === undefined ? '{}' : JSON.stringify(body),
      })

    const many = Object.fromEntries(Array.from({ length: 2000 }, (_, k) => [`k${k}`, k]))

    it('log in, start writes, log out while they run: every try ends logged out', async () => {
      let loggedIn = 0
      let tries = 0
      const statuses = new Map<number, number>()
      const refused = (): number => statuses.get(409) ?? 0
      // At least 30 tries, and more (up to 150) until the race has really happened 3 times:
      // how often a write straddles the logout depends on the machine's load.
      while (tries < 30 || (refused() < 3 && tries < 150)) {
        const i = tries++
        const login = await post('/login', '', { username: `racer${i}` })
        const id = /sessionid=([^;]+)/.exec(login.headers.get('Set-Cookie') ?? '')?.[1]
        expect(id).toBeDefined()
        const cookie = `sessionid=${id}`
        // Three writes race the logout. Each sets 2,000 keys: it loads the session at the
        // first and saves after the last, so the logout, sent 0 to 5 ms later, often lands
        // in between.
        const writes = [0, 1, 2].map(() => post('/session', cookie, many))
        await new Promise((done) => setTimeout(done, i % 6))
        const logout = await post('/logout', cookie)
        expect(logout.status).toBe(200)
        for (const res of await Promise.all(writes)) {
          await res.arrayBuffer()
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
          // Refused (409), or done before the logout or after it (a new, anonymous session:
          // 200); never a Set-Cookie for the old id after a 409.
          expect([200, 409]).toContain(res.status)
          if (res.status === 409) expect(res.headers.get('Set-Cookie')).toBeNull()
        }
        const who = (await (
          await fetch(`${base}/whoami`, { headers: { Cookie: cookie } })
        ).json()) as { username: string | null }
        if (who.username !== null) loggedIn++
      }
      const seen = `${tries} tries, statuses: ${JSON.stringify([...statuses])}`
      console.log(`race (${store}): ${seen}`)
      expect(loggedIn, seen).toBe(0)
      // The race really happened: writes that loaded before the logout and saved after it
      // were refused (before the revocation marker, 4 of 30 one-write KV tries ended logged in).
      expect(refused(), seen).toBeGreaterThanOrEqual(3)
    }, 120_000)
  },
)
