/**
 * @module
 * Cross-site request guard for the demo's state-changing routes.
 */
import type { MiddlewareHandler } from 'hono'

/**
 * Rejects (403) any POST/PUT/PATCH/DELETE that a browser marks as coming from another
 * site: an `Origin` other than the request's own, or `Sec-Fetch-Site` other than
 * `same-origin`/`none`. Hono's `csrf()` checks only form-like content types; this checks
 * every one. Requests with neither header (curl, server-to-server) carry no ambient
 * browser credentials of a victim, so they pass.
 */
export function sameOriginOnly(): MiddlewareHandler {
  return async function sameOriginGuard(c, next) {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && c.req.method !== 'OPTIONS') {
      const site = c.req.header('Sec-Fetch-Site')
      const origin = c.req.header('Origin')
      const foreignSite = site !== undefined && site !== 'same-origin' && site !== 'none'
      const foreignOrigin = origin !== undefined && origin !== new URL(c.req.url).origin
      if (foreignSite || foreignOrigin) {
        return c.json({ error: 'Cross-site requests are not allowed here.' }, 403)
      }
    }
    return next()
  }
}
