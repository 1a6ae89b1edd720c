/**
 * @module
 * `edge-session/testing`: what an app's tests import. A test client with a cookie jar
 * (Django's test `Client`) whose `forceLogin()`, `session()`, `messages()` and `logout()`
 * go through the app's own session options, that follows redirects when asked and asserts
 * one (`assertRedirects()`), and `clearSessions()`, which empties the store those options
 * name between tests. Nothing here is in the app's middleware: it adds no test-only route
 * or header.
 *
 * @example
 * ```ts
 * import { clearSessions, testClient } from 'edge-session/testing'
 * ```
 */
export {
  testClient,
  TestClient,
  type TestClientOptions,
  type TestBody,
  type TestRequestInit,
  type TestResponse,
  type Redirect,
  type AssertRedirectsOptions,
  type AppLike,
  type FetcherLike,
} from './testing/client.js'
export { CookieJar } from './testing/jar.js'
export type { SessionStep } from './testing/session-access.js'
export {
  clearSessions,
  clearKvSessions,
  clearDurableObjectSessions,
  type ClearSessionsContext,
  type ClearedSessions,
  type KVListable,
  type DurableObjectTestHelpers,
} from './testing/clear.js'
export {
  storeConformance,
  type ConformanceCase,
  type ConformanceResult,
  type StoreCapabilities,
  type StoreFixture,
} from './testing/conformance.js'
