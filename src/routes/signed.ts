/**
 * @module
 * The signed-cookie demo: Django's `set_signed_cookie` / `get_signed_cookie` on a
 * cookie named `signed`, salt `demo`, signed with the demo's secrets (see `store.ts`).
 */
import { Hono } from 'hono'
import { html } from 'hono/html'
import {
  BadSignatureError,
  getSignedCookie,
  SessionError,
  setSignedCookie,
  SignatureExpiredError,
} from '../session/index.js'
import type { DemoEnv } from './env.js'
import { demoSigner } from './store.js'

/** The cookie the demo signs, and its salt. */
export const SIGNED_COOKIE = 'signed'
const SALT = 'demo'

/** The signed-cookie routes. Mounted by the demo app. */
export const signed = new Hono<DemoEnv>({ strict: false })

// GET /set-signed/?value=V: a temporary cookie (no Max-Age), like /set-cook/.
signed.get('/set-signed', async (c) => {
  const value = c.req.query('value')
  if (value === undefined)
    return c.html('<h1>No value given: try /set-signed/?value=hello</h1>', 400)
  try {
    await setSignedCookie(c, SIGNED_COOKIE, value, { signer: demoSigner(c), salt: SALT })
  } catch (error) {
    // Too long for a cookie once signed (or not text UTF-8 can carry): the client's fault.
    if (
      error instanceof SessionError &&
      (error.code === 'INVALID_COOKIE' || error.code === 'INVALID_VALUE')
    ) {
      return c.html('<h1>That value cannot be kept in a signed cookie: it is too long.</h1>', 400)
    }
    throw error
  }
  return c.html(
    html`<h1>Signed cookie set</h1><p>The cookie "signed" now holds ${value}, signed.</p>`,
  )
})

// GET /get-signed/[?max_age=N]: the value, or a 400 saying what is wrong with the cookie.
signed.get('/get-signed', async (c) => {
  const maxAgeParam = c.req.query('max_age')
  if (maxAgeParam !== undefined && !/^\d{1,10}$/.test(maxAgeParam)) {
    return c.html('<h1>max_age must be a whole number of seconds.</h1>', 400)
  }
  let value: string | undefined
  try {
    value = await getSignedCookie(c, SIGNED_COOKIE, {
      signer: demoSigner(c),
      salt: SALT,
      // A value signed with a secret being rotated out is re-signed with the current one.
      resign: true,
      ...(maxAgeParam === undefined ? {} : { maxAge: Number(maxAgeParam) }),
    })
  } catch (error) {
    if (error instanceof SignatureExpiredError) {
      return c.html(
        html`<h1>The signed cookie has expired</h1><p>It was signed ${error.age} seconds ago; max_age is ${error.maxAge}.</p>`,
        400,
      )
    }
    if (error instanceof BadSignatureError && error.reason === 'malformed') {
      return c.html(
        '<h1>The signed cookie is foreign</h1><p>It is not a value this site signs.</p>',
        400,
      )
    }
    if (error instanceof BadSignatureError) {
      return c.html(
        '<h1>The signed cookie was tampered with</h1><p>Its signature does not match: it was changed, or signed for another cookie, salt or secret.</p>',
        400,
      )
    }
    throw error
  }
  if (value === undefined) {
    return c.html(
      '<h1>The signed cookie is missing</h1><p>Visit /set-signed/?value=hello first.</p>',
      400,
    )
  }
  return c.html(html`${value}`)
})
