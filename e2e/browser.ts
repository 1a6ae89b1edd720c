/**
 * @module
 * Debian's Chromium driven by playwright-core: the normal browser, and one that blocks
 * every cookie through Chromium's own content setting.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
} from 'playwright-core'
import { afterAll, afterEach, beforeAll } from 'vitest'

/** Debian's Chromium (`apt-get install -y chromium`); Playwright's own download does not work here. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Headless flags: no sandbox (root in a container), and nothing that reaches the network by itself. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/**
 * Launches the suite's browser; each test opens its own context (its own cookie jar).
 *
 * @example
 * ```ts
 * const browser = await launchChromium()
 * const context = await browser.newContext()
 * ```
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
}

/**
 * One Chromium for a test file: launched before its tests, closed after them. Each call of
 * the returned function opens a new context (its own cookie jar), closed after the test.
 *
 * @example
 * ```ts
 * const newContext = useBrowser()
 * it('…', async () => { const page = await (await newContext()).newPage() })
 * ```
 */
export function useBrowser(): (options?: BrowserContextOptions) => Promise<BrowserContext> {
  let browser: Browser | undefined
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
  return async (options) => {
    if (!browser)
      throw new Error(
        'useBrowser(): no browser yet (call it at the top of the file, use it in a test)',
      )
    const context = await browser.newContext(options)
    contexts.push(context)
    return context
  }
}

/** A browser context that stores no cookies, and how to dispose of it. */
export interface CookielessBrowser {
  context: BrowserContext
  close(): Promise<void>
}

/**
 * A Chromium whose profile blocks all cookies, as a person does in Settings → "Block
 * all cookies": the content setting `profile.default_content_setting_values.cookies = 2`
 * (CONTENT_SETTING_BLOCK) written to the profile's `Default/Preferences` before launch.
 * Chromium then ignores every `Set-Cookie` and sends no `Cookie` header, which is the
 * real behaviour the test cookie exists to detect.
 *
 * Why not something lighter: a Playwright route cannot strip `Set-Cookie` from a real
 * response (`route.fetch()` goes through the context's request API, which stores the
 * response's cookies in the same jar before we could drop them), and
 * `--blink-settings` only reaches `document.cookie`, not the network. The content
 * setting lives in a profile, and only a persistent context has one we can write to, so
 * this is a second Chromium process, launched for the one test that needs it (~0.6 s).
 *
 * @example
 * ```ts
 * const { context, close } = await launchCookieBlockingChromium()
 * const page = await context.newPage()
 * ```
 */
export async function launchCookieBlockingChromium(): Promise<CookielessBrowser> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'edge-session-nocookies-'))
  await mkdir(join(userDataDir, 'Default'))
  await writeFile(
    join(userDataDir, 'Default', 'Preferences'),
    JSON.stringify({ profile: { default_content_setting_values: { cookies: 2 } } }),
  )
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
  })
  return {
    context,
    async close() {
      await context.close()
      await rm(userDataDir, { recursive: true, force: true })
    },
  }
}
