/**
 * The `request.cf` a device's requests carry. The pool gives a request none unless it is
 * built with one, and the shipped test client has no option for it: this wraps an app so
 * that every request the client sends it carries `cf`.
 */
import type { AppLike } from '../../src/session/testing'

/** Where a request comes from, as Cloudflare tells the worker (`request.cf`). */
export interface Location {
  country?: string
  colo?: string
}

/** `app`, receiving every request with `cf` as its `request.cf` (unchanged without one). */
export function withCf(app: AppLike, cf: Location | undefined): AppLike {
  if (cf === undefined) return app
  return {
    request: (input, init, env, executionCtx) =>
      app.request(new Request(input, { ...init, cf } as RequestInit), undefined, env, executionCtx),
  }
}
