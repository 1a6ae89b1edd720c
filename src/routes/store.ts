/**
 * @module
 * The demo's store and secrets, from its bindings:
 * - `SESSION_STORE` (a `[vars]` entry in wrangler.toml): `kv` (default), `cookie` or `do`;
 * - `SESSION_SECRET` (production: `wrangler secret put SESSION_SECRET`) signs cookies
 *   and seals cookie-store sessions; `SESSION_SECRET_FALLBACKS` holds the previous
 *   secrets while they are rotated out, as a JSON array of strings (or one secret
 *   without a comma: see {@link parseFallbacks}). {@link checkSecretsAtStart} refuses
 *   every request while it is malformed.
 *
 * With no `SESSION_SECRET`, a development secret (public, in this file) lets
 * `npm run dev` work on a fresh clone; it is refused on any host but localhost, so a
 * deployment that forgot the secret fails closed instead of signing with a known key.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { durableObjectStore } from '../session/durable-object.js'
import {
  cookieStore,
  kvStore,
  SessionError,
  type Signer,
  timestampSigner,
} from '../session/index.js'
import type { SessionStore } from '../session/store.js'
import type { DemoEnv } from './env.js'
import { wholeNumberVar } from './vars.js'

/** The development secret: anyone can read it, so it only ever serves localhost. */
export const DEV_SECRET = 'edge-session development secret: localhost only, never deployed'

/** The demo's secrets: the one that signs, then the ones that still verify. */
export interface DemoSecrets {
  secret: string
  fallbacks: string[]
}

/** Whether a URL's host is this machine (the only place the development secret works). */
export function isLocalhost(url: string): boolean {
  const host = new URL(url).hostname
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127(\.\d{1,3}){3}$/.test(host)
  )
}

/**
 * The secrets for this request. Throws `SessionError` `INVALID_OPTION` (a 500) when
 * `SESSION_SECRET` is unset on a host other than localhost.
 */
export function demoSecrets(c: Context<DemoEnv>): DemoSecrets {
  const secret = c.env?.SESSION_SECRET
  const fallbacks = parseFallbacks(c.env?.SESSION_SECRET_FALLBACKS)
  if (secret !== undefined && secret !== '') return { secret, fallbacks }
  if (!isLocalhost(c.req.url)) {
    throw new SessionError(
      'INVALID_OPTION',
      'SESSION_SECRET is not set; the development secret only serves localhost. Run `wrangler secret put SESSION_SECRET`.',
    )
  }
  return { secret: DEV_SECRET, fallbacks }
}

/** Spaces, tabs and line breaks: what may surround the list and its entries. */
const AROUND = /^[ \t\r\n]+|[ \t\r\n]+$/g

/** Said when the value holds a comma outside a JSON array: what to write instead. */
const JSON_FORM =
  'SESSION_SECRET_FALLBACKS holds a comma but is not a JSON array; it is never split at commas (a secret may hold one). Write it as a JSON array of strings: ["<previous secret>", "<the one before>"]'

/**
 * The secrets in `SESSION_SECRET_FALLBACKS`, oldest last:
 * - a JSON array of strings, `["previous secret", "the one before"]`: each secret
 *   exactly as written, commas, spaces and quotes included;
 * - otherwise one secret, without the spaces, tabs and line breaks around it, as long as
 *   it holds no comma. The comma-separated list of earlier versions is refused, never
 *   split: it cut a secret holding a comma into two, silently.
 *
 * Throws `SessionError` `INVALID_OPTION` naming the variable and the JSON form for a
 * comma outside a JSON array, and naming the entry when the value starts with `[` but is
 * not a JSON array of strings. (Entries under 32 bytes are refused where every secret is
 * checked, by the signer and the cookie store.)
 *
 * @example
 * ```ts
 * parseFallbacks('["a, b and c, an old secret of 32+ bytes"]') // ['a, b and c, an old secret of 32+ bytes']
 * parseFallbacks('an old secret of 32+ bytes') // ['an old secret of 32+ bytes']
 * parseFallbacks('old1, old2') // throws INVALID_OPTION: write ["old1", "old2"]
 * ```
 */
export function parseFallbacks(value: string | undefined): string[] {
  const text = (value ?? '').replace(AROUND, '')
  if (!text.startsWith('[')) {
    if (text.includes(',')) throw new SessionError('INVALID_OPTION', JSON_FORM)
    return text === '' ? [] : [text]
  }
  let list: unknown
  try {
    list = JSON.parse(text)
  } catch {
    list = undefined
  }
  if (!Array.isArray(list)) {
    throw new SessionError(
      'INVALID_OPTION',
      'SESSION_SECRET_FALLBACKS starts with "[" but is not a JSON array of strings.',
    )
  }
  list.forEach((entry, i) => {
    if (typeof entry !== 'string')
      throw new SessionError(
        'INVALID_OPTION',
        `SESSION_SECRET_FALLBACKS entry ${i} must be a string.`,
      )
  })
  return list as string[]
}

/** Said with every refused fallback: how to write several. */
const LIST_HINT =
  '; if a secret holds a comma, write SESSION_SECRET_FALLBACKS as a JSON array of strings: ["…", "…"]'

let checkedFallbacks: string | undefined
/**
 * The demo's check of its configuration at start: every request is refused (a 500, the
 * reason logged) while `SESSION_SECRET_FALLBACKS` is malformed, whichever store and route
 * it would use, so a bad value is found at the first request, not when a cookie fails to
 * verify. A value once checked is not parsed again.
 */
export function checkSecretsAtStart(): MiddlewareHandler<DemoEnv> {
  return async function secretsCheck(c, next) {
    const value = c.env?.SESSION_SECRET_FALLBACKS
    if (value !== undefined && value !== checkedFallbacks) {
      parseFallbacks(value)
      checkedFallbacks = value
    }
    await next()
  }
}

// One signer per secret set, for the isolate's life: keys are imported once. (Cookie
// stores need no such map: cookieStore() memoises per configuration itself.)
const signers = new Map<string, Signer>()

/** Renames the library's option names to the bindings they come from. */
function fromBindings<T>(make: () => T): T {
  try {
    return make()
  } catch (error) {
    if (error instanceof SessionError && error.code === 'INVALID_OPTION') {
      const fallback = /option "fallbacks\[(\d+)\]"/
      const message = error.message
        .replace(/option "secret"/, 'SESSION_SECRET')
        .replace(fallback, 'SESSION_SECRET_FALLBACKS entry $1')
      throw new SessionError(
        'INVALID_OPTION',
        fallback.test(error.message) ? message + LIST_HINT : message,
        { cause: error },
      )
    }
    throw error
  }
}

/** The demo's signer for this request (see {@link demoSecrets}). */
export function demoSigner(c: Context<DemoEnv>): Signer {
  const secrets = demoSecrets(c)
  const key = JSON.stringify([secrets.secret, secrets.fallbacks])
  let signer = signers.get(key)
  if (signer === undefined) {
    signer = fromBindings(() => timestampSigner(secrets))
    signers.set(key, signer)
  }
  return signer
}

/** `MAX_SESSIONS_PER_USER` as the store's cap: unset or empty = none; else a whole number from 1. */
export function sessionCap(value: string | undefined): number | null {
  return wholeNumberVar('MAX_SESSIONS_PER_USER', value, 1, 999_999) ?? null
}

/** The Durable Object store's `loginThrottle`, as the vars set it. */
type LoginThrottle = { failures?: number; window?: number } | false

/** One object per pair of values: the store is memoised on its options, objects by identity. */
const throttles = new Map<string, LoginThrottle>()

/**
 * `LOGIN_FAILURES` and `LOGIN_FAILURE_WINDOW_SECONDS` as the store's `loginThrottle`: unset
 * or empty = the library's default (5 failures within 900 s); `LOGIN_FAILURES=0` = no lock
 * (failures are still recorded). Anything but whole numbers in the library's ranges is a
 * `SessionError` `INVALID_OPTION` naming the variable.
 */
export function loginThrottle(failures?: string, windowSeconds?: string): LoginThrottle {
  const key = `${failures ?? ''}|${windowSeconds ?? ''}`
  let throttle = throttles.get(key)
  if (throttle !== undefined) return throttle
  const count = wholeNumberVar('LOGIN_FAILURES', failures, 0, 1000)
  const window = wholeNumberVar('LOGIN_FAILURE_WINDOW_SECONDS', windowSeconds, 1, 604_800)
  throttle =
    count === 0
      ? false
      : {
          ...(count === undefined ? {} : { failures: count }),
          ...(window === undefined ? {} : { window }),
        }
  throttles.set(key, throttle)
  return throttle
}

/** Options of {@link selectStore}: those of `session()` the choice depends on. */
export interface SelectStoreOptions {
  /** @default 'SESSIONS' */
  kvBinding?: string
}

/**
 * The demo's store, per request: the cookie store when `SESSION_STORE` is `cookie`, the
 * Durable Object store (binding `SESSION_OBJECTS`, locations recorded when
 * `RECORD_LOCATION=1`, logins throttled as `LOGIN_FAILURES` and
 * `LOGIN_FAILURE_WINDOW_SECONDS` say, sessions still in `SESSIONS` moved over on first
 * use) when it is `do`, the KV store (exactly `session()`'s default) when it is
 * `kv` or unset. Any other value is a `SessionError` `INVALID_OPTION` (a 500), never a
 * silent fallback.
 */
export function selectStore(
  options: SelectStoreOptions = {},
): (c: Context<DemoEnv>) => SessionStore {
  const binding = options.kvBinding ?? 'SESSIONS'
  const kv = (c: Context<DemoEnv>): SessionStore => {
    const namespace = (c.env as Record<string, unknown> | undefined)?.[binding]
    if (namespace === undefined) {
      throw new SessionError('MISSING_STORE', `no KV namespace is bound as "${binding}"`)
    }
    return kvStore({ namespace: namespace as KVNamespace })
  }
  return function demoStore(c) {
    const choice = c.env?.SESSION_STORE ?? 'kv'
    if (choice === 'kv' || choice === '') return kv(c)
    // Sessions still in KV (from before the switch to "do") move over on first use.
    if (choice === 'do') {
      return durableObjectStore({
        namespace: c.env.SESSION_OBJECTS,
        recordLocation: c.env.RECORD_LOCATION === '1',
        migrateFromKV: c.env.SESSIONS,
        maxSessionsPerUser: sessionCap(c.env.MAX_SESSIONS_PER_USER),
        loginThrottle: loginThrottle(c.env.LOGIN_FAILURES, c.env.LOGIN_FAILURE_WINDOW_SECONDS),
      })
    }
    if (choice !== 'cookie')
      throw new SessionError(
        'INVALID_OPTION',
        `SESSION_STORE must be "kv", "cookie" or "do", not ${JSON.stringify(choice)}`,
      )
    const secrets = demoSecrets(c)
    return fromBindings(() => cookieStore(secrets))
  }
}
