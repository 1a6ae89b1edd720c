/**
 * @module
 * The demo's session middleware: `session()` as configured, with device binding (DBSC)
 * when the `DEVICE_BOUND` var is `1`, its bound cookie living `DEVICE_BOUND_SECONDS`
 * (default 600) and signed with the demo's `SESSION_SECRET`, its `SESSION_SECRET_FALLBACKS`
 * still verifying; and rotating session ids when `ROTATE_SECONDS` is set on the Durable
 * Object store. The vars are read per request (bindings live in `c.env`); one middleware
 * per combination is made once.
 */
import type { MiddlewareHandler } from 'hono'
import { deviceBound, session, SessionError, type SessionOptions } from '../session/index.js'
import type { DemoEnv } from './env.js'
import { rotationSetting } from './rotation.js'
import { demoSecrets, type DemoSecrets } from './store.js'

/** The signing secret, then those that still verify. */
const secretsOf = ({ secret, fallbacks }: DemoSecrets): string[] => [secret, ...fallbacks]

const MAX_AGE = 'deviceBound(): option "maxAge"'

/** The device binding of a `DEVICE_BOUND_SECONDS` value; the library's refusal of `maxAge` names the variable. */
function boundFor(seconds: string): NonNullable<SessionOptions['deviceBound']> {
  const maxAge = /^\d{1,5}$/.test(seconds) ? Number(seconds) : Number.NaN
  try {
    return deviceBound({ secret: (ctx) => secretsOf(demoSecrets(ctx)), maxAge })
  } catch (error) {
    if (!(error instanceof SessionError) || !error.message.startsWith(MAX_AGE)) throw error
    throw new SessionError(
      'INVALID_OPTION',
      `DEVICE_BOUND_SECONDS${error.message.slice(MAX_AGE.length)}, not ${JSON.stringify(seconds)}`,
      { cause: error },
    )
  }
}

/**
 * The demo's `session()` middleware, device-bound when `DEVICE_BOUND=1`, rotating ids when
 * `ROTATE_SECONDS` is set on `SESSION_STORE=do` (routes/rotation.ts). An invalid
 * `DEVICE_BOUND_SECONDS`, `ROTATE_SECONDS` or `ROTATE_GRACE_SECONDS` is a `SessionError`
 * `INVALID_OPTION` (a 500) naming it.
 *
 * @example
 * ```ts
 * app.use(demoSession({ authHash: demoAuthHash }))
 * ```
 */
export function demoSession(options: SessionOptions<DemoEnv>): MiddlewareHandler<DemoEnv> {
  const plain = session<DemoEnv>(options)
  const variants = new Map<string, MiddlewareHandler<DemoEnv>>()
  return function demoSessionMiddleware(c, next) {
    const seconds = c.env?.DEVICE_BOUND === '1' ? (c.env.DEVICE_BOUND_SECONDS ?? '600') : null
    const rotating = rotationSetting(c.env)
    const rotation = rotating.kind === 'on' ? rotating.rotation : null
    if (seconds === null && rotation === null) return plain(c, next)
    const key = `${seconds}|${rotation?.every}|${rotation?.grace}`
    let middleware = variants.get(key)
    if (middleware === undefined) {
      middleware = session<DemoEnv>({
        ...options,
        ...(seconds === null ? {} : { deviceBound: boundFor(seconds) }),
        ...(rotation === null ? {} : { rotation }),
      })
      variants.set(key, middleware)
    }
    return middleware(c, next)
  }
}
