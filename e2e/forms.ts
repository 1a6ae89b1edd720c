/**
 * The demo page's forms, as the suites submit them: one way to post a form and wait for the
 * page it leads to, and one way to log in, which says what the server answered when it fails.
 */
import type { Page } from 'playwright-core'
import { expect } from 'vitest'

/** Submits the form `selector` names and waits for the page it leads to; resolves the POST's status. */
export async function submit(page: Page, selector: string): Promise<number> {
  const [post] = await Promise.all([
    page.waitForRequest((request) => request.method() === 'POST'),
    page.waitForEvent('load'),
    page.click(`${selector} button[type="submit"]`),
  ])
  return (await post.response())?.status() ?? 0
}

/** Logs `name` in through the page's login form: a 303, then the page names the user. */
export async function logIn(page: Page, name: string): Promise<void> {
  await page.fill('#form-login [name="username"]', name)
  const status = await submit(page, '#form-login')
  // On a failure the browser shows the answer's page: say what it was.
  const shown = status === 303 ? '' : ((await page.textContent('body')) ?? '').slice(0, 400)
  expect(status, `POST /login answered ${status}: ${shown}`).toBe(303)
  expect(await page.textContent('#whoami')).toBe(name)
}
