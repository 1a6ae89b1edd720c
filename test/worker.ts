/**
 * The pool's worker (vitest.config.ts `main`): the demo worker as deployed (its app is
 * `SELF`, its `SessionObject` the `SESSION_OBJECTS` of wrangler.toml), and the library
 * tests' own object class, bound as `TEST_SESSION_OBJECTS`.
 */
export { default, SessionObject } from '../src/index'
export { ProbeSessionObject } from './helpers/socket-object'
