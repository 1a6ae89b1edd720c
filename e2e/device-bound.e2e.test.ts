/**
 * Device Bound Session Credentials in a real browser: Debian's Chromium with the DBSC
 * feature switches (a software key, no TPM), against `wrangler dev` over HTTPS with a
 * certificate made for this run and pinned by its SPKI hash. The login offers
 * registration, Chromium registers a key, renews the short-lived bound cookie by itself,
 * and a copy of the session cookie in another browser is not logged in.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './browser'
import { makeCertificate, type Certificate } from './certificate'
import { startWorker, type DevWorker } from './worker'

/** The bound cookie's lifetime in this run: short, so the browser renews it during the test. */
const SECONDS = 3

/** The stores the demo runs on (`SESSION_STORE`): one HTTPS worker each. */
const STORES = ['kv', 'cookie', 'do'] as const

let certificate: Certificate | undefined
const workers = new Map<string, DevWorker>()
let browser: Browser | undefined
const contexts: BrowserContext[] = []

beforeAll(async () => {
  certificate = await makeCertificate()
  const https = certificate
  const started = await Promise.all(
    STORES.map((store) =>
      startWorker({
        https,
        vars: { SESSION_STORE: store, DEVICE_BOUND: '1', DEVICE_BOUND_SECONDS: String(SECONDS) },
      }),
    ),
  )
  for (const [i, store] of STORES.entries()) workers.set(store, started[i] as DevWorker)
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    // Chromium keeps only the last --enable-features/--disable-features: these replace
    // Playwright's own lists. The refresh quota (2 per 5 minutes) is off for the test.
    args: [
      ...CHROMIUM_ARGS,
      '--enable-features=DeviceBoundSessions,DeviceBoundSessionsDevTools,EnableBoundSessionCredentialsSoftwareKeysForManualTesting',
      '--disable-features=DeviceBoundSessionsRefreshQuota',
      `--ignore-certificate-errors-spki-list=${certificate.spki}`,
    ],
  })
})

afterAll(async () => {
  await Promise.all(contexts.map((context) => context.close()))
  await browser?.close()
  await Promise.all([...workers.values()].map((worker) => worker.stop()))
  await certificate?.remove()
})

/** A new browser profile (its own cookie jar and DBSC sessions) on an HTTPS worker. */
async function newPage(base: string): Promise<{ context: BrowserContext; page: Page }> {
  if (browser === undefined) throw new Error('no browser')
  const context = await browser.newContext({ baseURL: base })
  contexts.push(context)
  return { context, page: await context.newPage() }
}

/** Who the page says is logged in, or `null`. */
async function who(page: Page): Promise<string | null> {
  return (await page.locator('#whoami').count()) === 0 ? null : page.textContent('#whoami')
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms))

/** The value of cookie `name` in `context`, if any. */
async function cookie(context: BrowserContext, name: string): Promise<string | undefined> {
  return (await context.cookies()).find((c) => c.name === name)?.value
}

describe.each(STORES)(
  'deviceBound in Chromium over HTTPS (DEVICE_BOUND=1, the %s store)',
  (store) => {
    it('registers at login, renews the bound cookie by itself, and a copied session cookie is not logged in', async () => {
      const base = workers.get(store)?.url as string
      const { context, page } = await newPage(base)
      const cdp = await context.newCDPSession(page)
      // Chromium's own account of its DBSC session: creation, challenges, refreshes.
      const events: string[] = []
      cdp.on('Network.deviceBoundSessionEventOccurred', (event: Record<string, unknown>) => {
        const kind = Object.keys(event).find((key) => key.endsWith('EventDetails')) ?? 'unknown'
        const details = event[kind] as { refreshResult?: string } | undefined
        events.push(
          `${kind.replace('EventDetails', '')}:${event['succeeded'] === true ? 'ok' : 'failed'}${details?.refreshResult ? `:${details.refreshResult}` : ''}`,
        )
      })
      await cdp.send('Network.enable')
      await cdp.send(
        'Network.enableDeviceBoundSessions' as 'Network.enable',
        { enable: true } as never,
      )

      await page.goto('/')
      await page.fill('#form-login [name="username"]', 'dbsc-user')
      await Promise.all([
        page.waitForEvent('load'),
        page.click('#form-login button[type="submit"]'),
      ])
      // The page the login redirects to shows the user even while registration runs.
      expect(await who(page)).toBe('dbsc-user')

      // Chromium registers its key in the background: the page then says so.
      for (let i = 0; i < 50 && (await page.locator('#device-bound').count()) === 0; i++) {
        await sleep(200)
        await page.reload()
      }
      expect(await page.locator('#device-bound').count()).toBe(1)
      const first = await cookie(context, 'sessionid_bound')
      expect(first).toBeDefined()

      // Several bound-cookie lifetimes pass; the user stays logged in because Chromium
      // proves its key at the refresh route and gets the next bound cookie itself.
      await sleep((SECONDS * 2 + 1) * 1000)
      await page.reload()
      expect(await who(page)).toBe('dbsc-user')
      expect(await page.locator('#device-bound').count()).toBe(1)
      expect(await cookie(context, 'sessionid_bound')).not.toBe(first)
      expect(events[0]).toBe('creation:ok')
      expect(events).toContain('refresh:ok:Refreshed')
      expect(events.filter((e) => e.endsWith(':failed'))).toEqual([])

      // A second browser given only the copied session cookie is nobody.
      const stolen = await cookie(context, 'sessionid')
      expect(stolen).toBeDefined()
      const thief = await newPage(base)
      await thief.context.addCookies([
        {
          name: 'sessionid',
          value: stolen as string,
          url: base,
          secure: true,
          httpOnly: true,
          sameSite: 'Lax',
        },
      ])
      await thief.page.goto('/')
      expect(await who(thief.page)).toBeNull()
      await thief.page.goto('/whoami')
      expect(JSON.parse((await thief.page.textContent('body')) ?? 'null')).toEqual({
        username: null,
      })

      // And the owner is unaffected.
      await page.reload()
      expect(await who(page)).toBe('dbsc-user')
    }, 60_000)
  },
)
