/**
 * @module
 * Signed cookies: this library's `setSignedCookie`/`getSignedCookie` against
 * `hono/cookie`'s, which imports its HMAC key on every call. Each sample signs or
 * verifies {@link SIGN_BATCH} cookies. Signing writes a header, so each sign gets a
 * fresh `Context`; verifying only reads the request, so the verify samples share one
 * `Context` per sample (making one costs about as much as an HMAC, the same for both
 * sides, and would only blur the comparison).
 */
import { Context } from 'hono'
import { getSignedCookie as honoGetSigned, setSignedCookie as honoSetSigned } from 'hono/cookie'
import { bench, describe } from 'vitest'
import { getSignedCookie, setSignedCookie } from '../src/session/cookies/signed'
import { timestampSigner } from '../src/session/cookies/signing'
import { BENCH_SECRET } from './variants'

/** Operations per sample: 200 take about 2 ms, too close to workerd's 1 ms clock. */
export const SIGN_BATCH = 2000

const VALUE = 'user-42'
const url = 'http://bench.local/'

/** Registers the signed-cookie benches (called from `sessions.bench.ts`, so they run in the same file). */
export function signedCookieBenches(options: {
  time: number
  iterations: number
  warmupTime: number
  warmupIterations: number
}): void {
  // A signer is made once per isolate, as its docs show; the key import is cached.
  const signer = timestampSigner({ secret: BENCH_SECRET })
  let honoCookie = ''
  let ourCookie = ''

  /** The first Set-Cookie pair a setter produced. */
  const pairOf = (c: Context): string => (c.res.headers.get('Set-Cookie') ?? '').split(';')[0]!

  describe(`signed cookie: sign (${SIGN_BATCH} per sample)`, () => {
    bench(
      'hono/cookie setSignedCookie',
      async () => {
        for (let i = 0; i < SIGN_BATCH; i++) {
          const c = new Context(new Request(url))
          await honoSetSigned(c, 'prefs', VALUE, BENCH_SECRET)
          honoCookie = pairOf(c)
        }
      },
      options,
    )
    bench(
      'edge-session setSignedCookie',
      async () => {
        for (let i = 0; i < SIGN_BATCH; i++) {
          const c = new Context(new Request(url))
          await setSignedCookie(c, 'prefs', VALUE, { signer })
          ourCookie = pairOf(c)
        }
      },
      options,
    )
  })

  describe(`signed cookie: verify (${SIGN_BATCH} per sample)`, () => {
    const verified = (got: unknown): void => {
      if (got !== VALUE) throw new Error(`signed cookie did not verify: ${String(got)}`)
    }
    bench(
      'hono/cookie getSignedCookie',
      async () => {
        await ensure()
        const c = new Context(new Request(url, { headers: { Cookie: `a=1; ${honoCookie}; b=2` } }))
        for (let i = 0; i < SIGN_BATCH; i++) verified(await honoGetSigned(c, BENCH_SECRET, 'prefs'))
      },
      options,
    )
    bench(
      'edge-session getSignedCookie',
      async () => {
        await ensure()
        const c = new Context(new Request(url, { headers: { Cookie: `a=1; ${ourCookie}; b=2` } }))
        for (let i = 0; i < SIGN_BATCH; i++) verified(await getSignedCookie(c, 'prefs', { signer }))
      },
      options,
    )
  })

  /** Makes both cookies if the sign benches did not run (e.g. filtered out); `beforeAll` does not run in bench mode. */
  async function ensure(): Promise<void> {
    if (!honoCookie) {
      const c = new Context(new Request(url))
      await honoSetSigned(c, 'prefs', VALUE, BENCH_SECRET)
      honoCookie = pairOf(c)
    }
    if (!ourCookie) {
      const c = new Context(new Request(url))
      await setSignedCookie(c, 'prefs', VALUE, { signer })
      ourCookie = pairOf(c)
    }
  }
}
