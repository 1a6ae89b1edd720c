/**
 * The tutorial in a real browser: Debian's Chromium against the demo worker under
 * `wrangler dev` (fresh local KV). Cookies are read from Chromium's own jar.
 */
import { mkdtemp, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { BrowserContext, Cookie, Page } from 'playwright-core'
import { describe, expect, inject, it } from 'vitest'
import { launchCookieBlockingChromium, useBrowser } from './browser'

const base = inject('baseURL')

const newContext = useBrowser()

/** A new context (its own cookie jar) and a page in it. */
async function open(
  options: { javaScriptEnabled?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await newContext(options)
  return { context, page: await context.newPage() }
}

/** The jar's cookie `name` for the worker's URL, from Chromium itself. */
async function jarCookie(context: BrowserContext, name: string): Promise<Cookie | undefined> {
  return (await context.cookies(base)).find((cookie) => cookie.name === name)
}

/** Navigates and returns the response's status. */
async function visit(page: Page, path: string): Promise<number | undefined> {
  return (await page.goto(base + path))?.status()
}

const heading = (page: Page): Promise<string | null> => page.textContent('h1')

/** Clicks a link of the page and waits for the new document. */
async function follow(page: Page, href: string): Promise<void> {
  await Promise.all([page.waitForEvent('load'), page.click(`a[href="${href}"]`)])
}

/**
 * Fills and submits one of the page's forms the way a person does, and returns the
 * status of the POST's own response (303 on success) once the page it leads to has loaded.
 */
async function submit(
  page: Page,
  form: string,
  fields: Record<string, string> = {},
): Promise<number> {
  for (const [name, value] of Object.entries(fields))
    await page.fill(`#${form} [name="${name}"]`, value)
  const [post] = await Promise.all([
    page.waitForRequest((request) => request.method() === 'POST'),
    page.waitForEvent('load'),
    page.click(`#${form} button[type="submit"]`),
  ])
  const response = await post.response()
  return response?.status() ?? 0
}

/** The session's data as the page shows it: key to displayed JSON. */
async function shownSession(page: Page): Promise<Record<string, string> | 'empty'> {
  if ((await page.locator('#session-empty').count()) > 0) return 'empty'
  const rows = await page.locator('#session-data tbody tr').all()
  const data: Record<string, string> = {}
  for (const row of rows)
    data[(await row.locator('td').nth(0).innerText()).trim()] = (
      await row.locator('td').nth(1).innerText()
    ).trim()
  return data
}

describe('the test cookie', () => {
  it("works in a browser that keeps cookies, following the page's own links", async () => {
    const { context, page } = await open()
    await visit(page, '/')
    await follow(page, '/test/')
    expect(await heading(page)).toBe('We are Testing Cookies..!! ')
    expect((await jarCookie(context, 'testcookie'))?.value).toBe('worked')
    await visit(page, '/')
    await follow(page, '/check/')
    expect(await heading(page)).toBe('Cookies are Deleted...!!')
    expect(await jarCookie(context, 'testcookie')).toBeUndefined()
  })

  it('says "Please enable cookies and try again." when the browser blocks cookies', async () => {
    const blocking = await launchCookieBlockingChromium()
    try {
      const page = await blocking.context.newPage()
      await visit(page, '/test/')
      expect(await heading(page)).toBe('We are Testing Cookies..!! ')
      await visit(page, '/check/')
      expect(await heading(page)).toBe('Please enable cookies and try again.')
      expect(await blocking.context.cookies()).toEqual([])
      await visit(page, '/')
      expect(await page.textContent('#no-cookies')).toContain('The browser sent no cookies.')
    } finally {
      await blocking.close()
    }
  })
})

describe('set, get and delete a cookie', () => {
  it('sets user=Raju, reads it back, shows it on the page, and deletes it', async () => {
    const { context, page } = await open()
    await visit(page, '/set-cook/')
    expect(await heading(page)).toBe('Say Hey Cookie Set..!!')
    const user = await jarCookie(context, 'user')
    expect(user).toMatchObject({ value: 'Raju', httpOnly: true, sameSite: 'Lax', expires: -1 })

    expect(await visit(page, '/get-cook/')).toBe(200)
    expect(await page.textContent('body')).toBe('Raju Hey Get Cookie Success')

    await visit(page, '/')
    expect(await page.locator('#cookies tr', { hasText: 'user' }).locator('td.v').innerText()).toBe(
      'Raju',
    )

    await visit(page, '/del-cook/')
    expect(await heading(page)).toBe('Say Hey Cookie Deleted..!!')
    expect(await jarCookie(context, 'user')).toBeUndefined()
    expect(await visit(page, '/get-cook/')).toBe(400)
  })
})

describe('hit counters', () => {
  it('keeps a temporary cookie without expiry and a persistent one about 120 s ahead', async () => {
    const { context, page } = await open()
    await visit(page, '/hit/')
    await visit(page, '/hit/')
    expect(await heading(page)).toBe('Visit number 2')
    expect((await jarCookie(context, 'hit'))?.expires).toBe(-1) // a session cookie: ends with the browser

    const before = Date.now() / 1000
    await visit(page, '/hit/persistent/')
    const after = Date.now() / 1000
    expect(await heading(page)).toBe('Visit number 3')
    const persistent = await jarCookie(context, 'hit')
    expect(persistent?.value).toBe('3')
    expect(persistent?.expires).toBeGreaterThanOrEqual(Math.floor(before) + 119)
    expect(persistent?.expires).toBeLessThanOrEqual(Math.ceil(after) + 121)
  })

  it('counts in the session across tabs', async () => {
    const { context, page } = await open()
    await visit(page, '/session-hit/')
    expect(await heading(page)).toBe('Visit number 1')
    const tab = await context.newPage()
    await visit(tab, '/session-hit/')
    expect(await heading(tab)).toBe('Visit number 2')
    await visit(page, '/')
    expect(await shownSession(page)).toEqual({ hits: '2' })
  })
})

describe('the session cookie', () => {
  it('is HttpOnly: in the jar and seen by the server, absent from document.cookie', async () => {
    const { context, page } = await open()
    await visit(page, '/')
    expect(await submit(page, 'form-set', { key: 'color', value: 'blue' })).toBe(303)
    const session = await jarCookie(context, 'sessionid')
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' })
    expect(session?.expires).toBeGreaterThan(Date.now() / 1000 + 1209600 - 60)

    // A cookie scripts may see, so that document.cookie is shown to work at all.
    await page.evaluate(() => {
      // biome-ignore lint/suspicious/noDocumentCookie: the test is a page script writing a cookie
      document.cookie = 'fromscript=1; path=/'
    })
    expect(await page.evaluate(() => document.cookie)).toBe('fromscript=1')
    await visit(page, '/')
    expect(
      await page.locator('#cookies tr', { hasText: 'sessionid' }).locator('td.v').innerText(),
    ).toBe(session?.value)
  })

  it('survives reloads and a new tab', async () => {
    const { context, page } = await open()
    await visit(page, '/')
    await submit(page, 'form-set', { key: 'color', value: 'blue' })
    expect(await shownSession(page)).toEqual({ color: '"blue"' })
    await page.reload()
    await page.reload()
    expect(await shownSession(page)).toEqual({ color: '"blue"' })
    const tab = await context.newPage()
    await visit(tab, '/')
    expect(await shownSession(tab)).toEqual({ color: '"blue"' })
  })
})

describe('the forms, without JavaScript', () => {
  it('logs in with a new key and logs out, removing the cookie', async () => {
    const { context, page } = await open({ javaScriptEnabled: false })
    await visit(page, '/')
    expect(await submit(page, 'form-set', { key: 'cart', value: '3 items' })).toBe(303)
    const anonymous = (await jarCookie(context, 'sessionid'))?.value
    expect(anonymous).toBeDefined()

    expect(await submit(page, 'form-login', { username: 'Raju' })).toBe(303)
    const loggedIn = (await jarCookie(context, 'sessionid'))?.value
    expect(loggedIn).toBeDefined()
    expect(loggedIn).not.toBe(anonymous)
    expect(await page.textContent('#whoami')).toBe('Raju')
    expect(await shownSession(page)).toEqual({ cart: '"3 items"', username: '"Raju"' })

    // The pre-login id is worthless now: a browser holding it gets an empty session.
    const { context: attacker, page: attackerPage } = await open()
    await attacker.addCookies([{ name: 'sessionid', value: anonymous!, url: base }])
    await visit(attackerPage, '/')
    expect(await shownSession(attackerPage)).toBe('empty')

    expect(await submit(page, 'form-logout')).toBe(303)
    expect(await jarCookie(context, 'sessionid')).toBeUndefined()
    expect(await shownSession(page)).toBe('empty')
    expect(await page.textContent('body')).toContain('Nobody is logged in.')
  })

  it('sets, deletes, cycles and flushes', async () => {
    const { context, page } = await open({ javaScriptEnabled: false })
    await visit(page, '/')
    await submit(page, 'form-set', { key: 'a', value: '1' })
    await submit(page, 'form-set', { key: 'b', value: '<2>' })
    expect(await shownSession(page)).toEqual({ a: '"1"', b: '"<2>"' })
    await submit(page, 'form-delete', { key: 'a' })
    expect(await shownSession(page)).toEqual({ b: '"<2>"' })

    const before = (await jarCookie(context, 'sessionid'))?.value
    expect(await submit(page, 'form-cycle')).toBe(303)
    const after = (await jarCookie(context, 'sessionid'))?.value
    expect(after).not.toBe(before)
    expect(await shownSession(page)).toEqual({ b: '"<2>"' })

    await submit(page, 'form-expiry', { seconds: '0' })
    expect(await page.textContent('#browser-close')).toContain('yes')
    expect((await jarCookie(context, 'sessionid'))?.expires).toBe(-1)
    await submit(page, 'form-expiry-default')
    expect(await page.textContent('#browser-close')).toBe('no')
    expect((await jarCookie(context, 'sessionid'))?.expires).toBeGreaterThan(
      Date.now() / 1000 + 1209600 - 60,
    )

    expect(await submit(page, 'form-flush')).toBe(303)
    expect(await jarCookie(context, 'sessionid')).toBeUndefined()
    expect(await shownSession(page)).toBe('empty')
  })

  it('shows bad input as a message on the page with a 400', async () => {
    const { page } = await open({ javaScriptEnabled: false })
    await visit(page, '/')
    expect(await submit(page, 'form-login', { username: '   ' })).toBe(400)
    expect(await page.textContent('#error')).toContain(
      'The name must be 1 to 150 characters, not all spaces, and well-formed Unicode.',
    )
    expect(await page.locator('#form-login').count()).toBe(1) // the page is still there to try again
  })
})

describe('flash messages', () => {
  /** The page's flash messages as [class, text] pairs. */
  const flashes = async (page: Page): Promise<[string | null, string][]> =>
    Promise.all(
      (await page.locator('#messages li').all()).map(
        async (li) =>
          [await li.getAttribute('class'), (await li.innerText()).trim()] as [
            string | null,
            string,
          ],
      ),
    )

  it('show what each form did on the page after it, once: a reload no longer shows them', async () => {
    const { context, page } = await open({ javaScriptEnabled: false })
    await visit(page, '/')
    expect(await flashes(page)).toEqual([])

    await submit(page, 'form-set', { key: 'color', value: 'blue' })
    expect(await flashes(page)).toEqual([['success', 'Key color set']])
    expect(await shownSession(page)).toEqual({ color: '"blue"' }) // the message is not session data on the page
    await page.reload()
    expect(await flashes(page)).toEqual([])

    await submit(page, 'form-login', { username: 'Raju' })
    expect(await flashes(page)).toEqual([['success', 'Logged in as Raju']])
    await submit(page, 'form-delete', { key: 'nope' })
    expect(await flashes(page)).toEqual([['info', 'There was no key nope']])

    await submit(page, 'form-logout')
    expect(await flashes(page)).toEqual([['success', 'Logged out']])
    // The message-only session that carried it is gone once shown, cookie included.
    expect(await jarCookie(context, 'sessionid')).toBeUndefined()
    await page.reload()
    expect(await flashes(page)).toEqual([])
    expect(await page.textContent('body')).toContain('Nobody is logged in.')
  })
})

describe('a short expiry', () => {
  it('empties the session once it passes, even for a browser that kept the cookie', async () => {
    const { context, page } = await open()
    await visit(page, '/')
    await submit(page, 'form-set', { key: 'color', value: 'blue' })
    expect(await submit(page, 'form-expiry', { seconds: '2' })).toBe(303)
    expect(await page.textContent('#expiry-age')).toMatch(/^2 s/)
    const cookie = await jarCookie(context, 'sessionid')
    expect(cookie?.expires).toBeLessThanOrEqual(Date.now() / 1000 + 3)

    await page.waitForTimeout(2500)
    await page.reload()
    expect(await shownSession(page)).toBe('empty')

    // Chromium dropped the cookie itself; KV still holds the record (it keeps any
    // record at least 60 s), so put the cookie back: the record's own expiry refuses it.
    await context.addCookies([{ name: 'sessionid', value: cookie!.value, url: base }])
    await page.reload()
    expect(await shownSession(page)).toBe('empty')
    expect(await jarCookie(context, 'sessionid')).toBeUndefined() // the server deleted it
  })
})

describe("the page's stylesheet and security headers", () => {
  it("applies the stylesheet's child-combinator rule (sent raw, not HTML-escaped)", async () => {
    const { page } = await open()
    await visit(page, '/')
    // `ol>li{margin-bottom:.6rem}`: 9.6px at the page's 16px; an escaped `ol&gt;li` matches nothing (0px).
    expect(
      await page
        .locator('ol > li')
        .first()
        .evaluate((li) => getComputedStyle(li).marginBottom),
    ).toBe('9.6px')
  })

  it('arrive with the page', async () => {
    const { page } = await open()
    const response = await page.goto(`${base}/`)
    expect(response?.headers()).toMatchObject({
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
      'cross-origin-opener-policy': 'same-origin',
    })
  })

  it('keep Chromium from framing the page (X-Frame-Options: DENY), even on its own origin', async () => {
    const { page } = await open()
    // DENY refuses every parent, the demo's own pages included (SAMEORIGIN would not):
    // a frame of `/` added to the demo's 404 page gets Chromium's error page instead.
    await visit(page, '/framed-here')
    await page.evaluate((src) => {
      const frame = document.createElement('iframe')
      frame.id = 'f'
      frame.src = src
      document.body.append(frame)
    }, `${base}/`)
    const frame = await (await page.waitForSelector('#f')).contentFrame()
    await frame?.waitForLoadState()
    expect(frame?.url()).toMatch(/^chrome-error:/)
    expect(await frame?.locator('#form-set').count()).toBe(0)
  })
})

describe('the screenshot', () => {
  it('shows the page after a few actions', async () => {
    const { page } = await open()
    await page.setViewportSize({ width: 1000, height: 800 })
    await visit(page, '/set-cook/')
    await visit(page, '/hit/persistent/')
    await visit(page, '/')
    await submit(page, 'form-set', { key: 'color', value: 'blue' })
    await submit(page, 'form-login', { username: 'Raju' })
    expect(await page.textContent('#whoami')).toBe('Raju')
    // `E2E_SCREENSHOT=docs/internals/demo-page.png npm run test:e2e` refreshes docs/internals/demo.md's picture.
    const target = process.env.E2E_SCREENSHOT
      ? resolve(process.env.E2E_SCREENSHOT)
      : join(await mkdtemp(join(tmpdir(), 'edge-session-shot-')), 'demo-page.png')
    await page.screenshot({ path: target, fullPage: true })
    expect((await stat(target)).size).toBeGreaterThan(10_000)
  })
})
