/**
 * @module
 * The security headers Django sends by default, through Hono's own `secureHeaders`
 * middleware: exactly Django's defaults, nothing more (`SecurityMiddleware` and
 * `XFrameOptionsMiddleware`, both in `startproject`'s MIDDLEWARE).
 */
import type { MiddlewareHandler } from 'hono'
import { secureHeaders } from 'hono/secure-headers'

/**
 * Django's default security headers, one per setting:
 *
 * | header | value | Django setting (default) |
 * |---|---|---|
 * | `X-Frame-Options` | `DENY` | `X_FRAME_OPTIONS = 'DENY'` (`XFrameOptionsMiddleware`) |
 * | `X-Content-Type-Options` | `nosniff` | `SECURE_CONTENT_TYPE_NOSNIFF = True` |
 * | `Referrer-Policy` | `same-origin` | `SECURE_REFERRER_POLICY = 'same-origin'` |
 * | `Cross-Origin-Opener-Policy` | `same-origin` | `SECURE_CROSS_ORIGIN_OPENER_POLICY = 'same-origin'` |
 *
 * No `Strict-Transport-Security` (`SECURE_HSTS_SECONDS = 0`: HSTS is a deployment
 * decision, and pinned on `localhost` it would break every plain-http dev server), and
 * none of the headers Hono adds by default that Django does not send. A header the
 * handler set itself is kept, as Django's `setdefault()` does.
 *
 * @example
 * ```ts
 * app.use(djangoSecurityHeaders())
 * ```
 */
export function djangoSecurityHeaders(): MiddlewareHandler {
  return secureHeaders({
    xFrameOptions: 'DENY',
    xContentTypeOptions: true,
    referrerPolicy: 'same-origin',
    crossOriginOpenerPolicy: 'same-origin',
    strictTransportSecurity: false,
    crossOriginResourcePolicy: false,
    crossOriginEmbedderPolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
    overwrite: false,
  })
}
