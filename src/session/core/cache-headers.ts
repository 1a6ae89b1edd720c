/**
 * @module
 * The caching headers a session response needs: `Vary: Cookie` on a response that used
 * the session, and `Cache-Control: private` on one that hands out a session cookie, set
 * without copying the response (what an anonymous read costs is mostly headers).
 */
import type { Context } from 'hono'

/** Adds `Vary: Cookie`, unless the response already varies on it (or on everything). */
export function vary(c: Context): void {
  const current = c.res.headers.get('Vary')
  if (current === null) setHeader(c, 'Vary', 'Cookie')
  else if (!/(^|,)\s*(cookie|\*)\s*(,|$)/i.test(current)) setHeader(c, 'Vary', `${current}, Cookie`)
}

/** A response that hands out a session must never be stored by a shared cache. */
export function privateCache(c: Context): void {
  const cacheControl = c.res.headers.get('Cache-Control')
  if (cacheControl === null) setHeader(c, 'Cache-Control', 'private')
  else if (!/\b(private|no-store)\b/i.test(cacheControl)) {
    setHeader(
      c,
      'Cache-Control',
      [
        'private',
        ...cacheControl
          .split(',')
          .map((d) => d.trim())
          .filter((d) => d && !/^public$/i.test(d)),
      ].join(', '),
    )
  }
}

/**
 * Sets a header on the handler's response in place (`c.res.headers.set()`, as Hono's own
 * `cors` and `secureHeaders` do), not with `c.header()`, which copies a finalized response
 * whole for every header it sets: that copy was most of what an anonymous read cost. A
 * response with immutable headers (a `fetch()` passed through) is copied by `c.header()`.
 * Only for `Vary` and `Cache-Control`, which are harmless on a response object an app
 * reuses across requests; `Set-Cookie` always goes through `c.header()`.
 */
function setHeader(c: Context, name: string, value: string): void {
  if (c.finalized) {
    try {
      c.res.headers.set(name, value)
      return
    } catch {
      // Immutable headers: fall through to a copy.
    }
  }
  c.header(name, value)
}
