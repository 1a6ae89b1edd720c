/**
 * Impersonation in a real browser against `wrangler dev` on the Durable Object store
 * (`ADMIN_USERS=e2e-admin`, set by the global setup): the admin acts as a user from the
 * page's form, sees the banner, is refused a sensitive action, stops, and is back on their
 * own session; the user's page lists the impersonation naming the admin.
 */
import type { Page } from 'playwright-core'
import { describe, expect, inject, it } from 'vitest'
import { useBrowser } from './browser'
import { logIn, submit } from './forms'

const urls = inject('storeURLs')

const newContext = useBrowser()

/** A new browser profile on the Durable Object demo. */
async function device(name: string): Promise<Page> {
  const context = await newContext({ baseURL: urls.do, userAgent: `edge-session e2e (${name})` })
  const page = await context.newPage()
  await page.goto('/')
  return page
}

describe('impersonation (Durable Object store)', () => {
  it('an admin acts as a user, sees the banner, is refused a sensitive action, stops, and is back on their own session', async () => {
    const target = `acted-${Date.now()}`
    const user = await device('user')
    await logIn(user, target)
    const admin = await device('admin')
    await logIn(admin, 'e2e-admin')
    const handle = await admin.locator('#sessions tr.current').getAttribute('data-handle')
    expect(handle).toBeTruthy()

    await admin.fill('#form-impersonate [name="username"]', target)
    await admin.fill('#form-impersonate [name="reason"]', 'e2e ticket')
    expect(await submit(admin, '#form-impersonate')).toBe(303)
    expect(await admin.textContent('#whoami')).toBe(target)
    expect((await admin.locator('#impersonating').innerText()).replace(/\s+/g, ' ').trim()).toBe(
      `You are acting as ${target} — stop`,
    )

    // The user's own page lists the impersonation, naming the admin.
    await user.reload()
    const acting = user.locator('#sessions tbody tr', { has: user.locator('.impersonator') })
    expect(await acting.count()).toBe(1)
    expect(await acting.locator('.impersonator').innerText()).toContain('e2e-admin')

    // What must stay the user's own is refused.
    expect(await submit(admin, '#form-revoke-others')).toBe(403)
    expect(await admin.locator('#error').innerText()).toContain('acting as this user')
    expect(await user.reload().then(() => user.textContent('#whoami'))).toBe(target)

    await admin.goto('/')
    expect(await submit(admin, '#impersonating')).toBe(303)
    expect(await admin.textContent('#whoami')).toBe('e2e-admin')
    expect(await admin.locator('#impersonating').count()).toBe(0)
    expect(await admin.locator('#sessions tr.current').getAttribute('data-handle')).toBe(handle)

    await user.reload()
    expect(await user.locator('#sessions .impersonator').count()).toBe(0)
  })
})
