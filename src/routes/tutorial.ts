/**
 * @module
 * The tutorial's routes, exactly: the test cookie, set/get/delete a cookie, and the
 * hit counters (temporary and persistent cookies, and one kept in the session).
 */
import { Hono } from 'hono'
import { html } from 'hono/html'
import { deleteCookie, getCookie, setCookie } from '../session/index.js'
import type { DemoEnv } from './env.js'

/** A non-negative integer from a cookie, or 0 for anything else (missing, "abc", "-3", "1e3"). */
function count(value: string | undefined): number {
  return value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : 0
}

/** The tutorial's routes. Mounted by the demo app; the session middleware must run first. */
export const tutorial = new Hono<DemoEnv>({ strict: false })

// Paths are registered without the trailing slash: with `strict: false` Hono
// serves `/test/` and `/test` alike.

// Django: request.session.set_test_cookie()
tutorial.get('/test', (c) => {
  c.get('session').setTestCookie()
  return c.html('<h1>We are Testing Cookies..!! </h1>')
})

// Django: test_cookie_worked() / delete_test_cookie(). The tutorial's view returns
// nothing when the cookie did not come back (Django would crash); we say why.
tutorial.get('/check', (c) => {
  const session = c.get('session')
  if (session.testCookieWorked()) {
    session.deleteTestCookie()
    return c.html('<h1>Cookies are Deleted...!!</h1>')
  }
  return c.html('<h1>Please enable cookies and try again.</h1>')
})

tutorial.get('/set-cook', (c) => {
  setCookie(c, 'user', 'Raju')
  return c.html('<h1>Say Hey Cookie Set..!!</h1>')
})

// Django's request.COOKIES['user'] raises KeyError (a 500) when the cookie is missing.
tutorial.get('/get-cook', (c) => {
  const user = getCookie(c, 'user')
  if (user === undefined) {
    return c.html('<h1>No "user" cookie was sent. Visit /set-cook/ first.</h1>', 400)
  }
  return c.html(html`${user} Hey Get Cookie Success`)
})

tutorial.get('/del-cook', (c) => {
  deleteCookie(c, 'user')
  return c.html('<h1>Say Hey Cookie Deleted..!!</h1>')
})

tutorial.get('/hit', (c) => {
  const hits = count(getCookie(c, 'hit')) + 1
  setCookie(c, 'hit', String(hits)) // temporary: no Max-Age
  return c.html(html`<h1>Visit number ${hits}</h1><p>Counted in a temporary cookie.</p>`)
})

tutorial.get('/hit/persistent', (c) => {
  const hits = count(getCookie(c, 'hit')) + 1
  setCookie(c, 'hit', String(hits), { maxAge: 120 }) // persistent: two minutes
  return c.html(
    html`<h1>Visit number ${hits}</h1><p>Counted in a persistent cookie (Max-Age=120).</p>`,
  )
})

tutorial.get('/session-hit', async (c) => {
  const session = c.get('session')
  const hits = count(String((await session.get('hits')) ?? 0)) + 1
  await session.set('hits', hits)
  return c.html(
    html`<h1>Visit number ${hits}</h1><p>Counted in the session, kept in the session store (Workers KV by default).</p>`,
  )
})
