/**
 * Rotating session ids in a real browser, against a `wrangler dev` of its own on the
 * Durable Object store with `ROTATE_SECONDS=3` and `ROTATE_GRACE_SECONDS=2` (wrangler's
 * clock cannot be injected: the test waits for those seconds to pass). One browser with
 * two tabs keeps its session across several rotations; a second browser context given a
 * copy of the cookie is caught, and both are logged out, each page saying why.
 */
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useBrowser } from './browser'
import { type DevWorker, startWorker } from './worker'

const EVERY_MS = 3_000
const GRACE_MS = 2_000
const ENDED = 'This session was ended because its cookie was used from another device.'

let worker: DevWorker
beforeAll(async () => {
  worker = await startWorker({
    vars: {
      SESSION_STORE: 'do',
      ROTATE_SECONDS: String(EVERY_MS / 1000),
      ROTATE_GRACE_SECONDS: String(GRACE_MS / 1000),
    },
  })
})
afterAll(async () => {
  await worker?.stop()
})

const newContext = useBrowser()

/** Lets the wall clock, which the worker's clock is, pass `ms`. */
const elapse = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms))

/** The session cookie of a browser context. */
async function sessionCookie(context: BrowserContext): Promise<string | undefined> {
  return (await context.cookies()).find((cookie) => cookie.name === 'sessionid')?.value
}

/** Who the page says is logged in. */
async function who(page: Page): Promise<string | null> {
  return (await page.locator('#whoami').count()) === 0 ? null : page.textContent('#whoami')
}

/** Logs `name` in through the page's form. */
async function logIn(page: Page, name: string): Promise<void> {
  await page.goto('/')
  await page.fill('#form-login [name="username"]', name)
  await Promise.all([page.waitForEvent('load'), page.click('#form-login button[type="submit"]')])
  expect(await who(page)).toBe(name)
}

describe('ROTATE_SECONDS in Chromium (Durable Object store)', () => {
  it('keeps one browser with two tabs logged in across several rotations', async () => {
    const context = await newContext({ baseURL: worker.url })
    const [one, two] = [await context.newPage(), await context.newPage()]
    const user = `tabs${Date.now()}`
    await logIn(one, user)
    await two.goto('/')
    const seen = new Set([await sessionCookie(context)])
    for (let round = 0; round < 3; round++) {
      await elapse(EVERY_MS)
      // Both tabs at once, with the same cookie: they share one new id.
      await Promise.all([one.reload(), two.reload()])
      expect([await who(one), await who(two)]).toEqual([user, user])
      seen.add(await sessionCookie(context))
      await elapse(GRACE_MS)
      await one.reload()
      expect(await who(one)).toBe(user)
      expect(await one.locator('#session-reused').count()).toBe(0)
    }
    expect(seen.size).toBeGreaterThanOrEqual(4)
    await two.reload()
    expect(await who(two)).toBe(user)
  }, 60_000)

  it('catches a copy of the cookie in a second browser context, and logs both out', async () => {
    const owner = await newContext({ baseURL: worker.url })
    const page = await owner.newPage()
    const user = `copied${Date.now()}`
    await logIn(page, user)
    // The thief's browser gets the owner's cookies, as malware copying the jar would.
    const thief = await newContext({ baseURL: worker.url })
    await thief.addCookies(await owner.cookies())
    const stolen = await thief.newPage()
    await stolen.goto('/')
    expect(await who(stolen)).toBe(user)

    await elapse(EVERY_MS)
    await page.reload() // the owner's browser gets the new id
    await page.reload() // and presents it
    expect(await who(page)).toBe(user)
    await elapse(GRACE_MS + 500)

    await stolen.reload()
    expect(await who(stolen)).toBeNull()
    expect(await stolen.textContent('#session-reused')).toContain(ENDED)
    await page.reload()
    expect(await who(page)).toBeNull()
    expect(await page.textContent('#session-reused')).toContain(ENDED)

    // Logged in again, the owner sees it in the security activity.
    await logIn(page, user)
    expect(await page.locator('#security-activity li[data-type="session-reused"]').count()).toBe(1)
  }, 60_000)
})
