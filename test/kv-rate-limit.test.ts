/**
 * Workers KV's one-write-per-second-per-key limit (issue 17, item 5): a save KV refuses
 * with 429 is retried with a short bounded backoff inside the request; if every retry is
 * refused too, the request is a 503 `STORE_UNAVAILABLE` that keeps the client's cookie.
 * The refusals come from a wrapper around the real binding that answers as KV does.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { kvStore, SessionError, type KVStoreOptions } from '../src/session'
import { kvKeyFor } from '../src/session/stores/kv'
import { captureConsole } from './helpers/console'
import { harness } from './helpers/harness'
import { clearKV } from './helpers/kv'

/** The error the KV binding throws past the limit. */
const TOO_MANY = 'KV PUT failed: 429 Too Many Requests'

/** The real namespace; the next `refuse` puts are refused as KV does (with `message`), and every put is counted. */
function limitedKV(
  refuse: number,
  message = TOO_MANY,
): { namespace: KVNamespace; puts: string[]; refused: () => number } {
  let left = refuse
  let refused = 0
  const puts: string[] = []
  const namespace = new Proxy(env.SESSIONS, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown
      if (prop !== 'put' || typeof value !== 'function')
        return typeof value === 'function' ? value.bind(target) : value
      return async (...args: unknown[]) => {
        puts.push(String(args[0]))
        if (left > 0) {
          left--
          refused++
          throw new Error(message)
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return { namespace, puts, refused: () => refused }
}

const FAST: KVStoreOptions['rateLimitRetries'] = [5, 10, 20]

/**
 * A session `{ k: 1 }` saved in the real KV, then a client carrying its cookie through a
 * store whose next `refuse` puts are refused (retried after `FAST`).
 */
async function storedThenLimited(refuse: number): Promise<{
  token: string
  kv: ReturnType<typeof limitedKV>
  limited: ReturnType<typeof harness>
}> {
  const h = harness({ store: kvStore({ namespace: env.SESSIONS }) })
  await h.run(async (s) => s.set('k', 1))
  const token = h.cookies.get('sessionid')!
  const kv = limitedKV(refuse)
  const limited = harness({ store: kvStore({ namespace: kv.namespace, rateLimitRetries: FAST }) })
  limited.cookies.set('sessionid', token)
  return { token, kv, limited }
}

beforeEach(async () => {
  await clearKV(env.SESSIONS)
})

describe('kvStore(): a write KV refuses with 429', () => {
  it('is retried within the request and saved: 200, the cookie set', async () => {
    const kv = limitedKV(2)
    const h = harness({ store: kvStore({ namespace: kv.namespace, rateLimitRetries: FAST }) })
    const { res } = await h.run(async (s) => s.set('counter', 1))
    expect(res.status).toBe(200)
    const token = h.cookies.get('sessionid')!
    expect(kv.refused()).toBe(2)
    expect(kv.puts).toHaveLength(3)
    expect(JSON.parse((await env.SESSIONS.get(await kvKeyFor(token)))!).data).toEqual({
      counter: 1,
    })
  })

  it("is retried a bounded number of times, then a STORE_UNAVAILABLE that keeps the client's cookie and record", async () => {
    const { token, kv, limited } = await storedThenLimited(100)
    const warnings = captureConsole('error')
    const { res } = await limited.run(async (s) => s.set('k', 2))
    expect(res.status).toBe(503)
    expect(res.headers.get('Retry-After')).toBe('1')
    expect(res.headers.getSetCookie()).toEqual([])
    expect(kv.puts).toHaveLength(1 + FAST!.length)
    expect(JSON.parse((await env.SESSIONS.get(await kvKeyFor(token)))!).data).toEqual({ k: 1 })
    expect(warnings.length).toBeLessThanOrEqual(1)
  })

  it("reaches the app as SessionError STORE_UNAVAILABLE, its cause KV's own error", async () => {
    const kv = limitedKV(100)
    const h = harness({ store: kvStore({ namespace: kv.namespace, rateLimitRetries: [1] }) })
    let caught: unknown
    h.app.onError((err, c) => {
      caught = err
      return c.text('handled', 503)
    })
    await h.run(async (s) => s.set('k', 1))
    expect(caught).toBeInstanceOf(SessionError)
    expect((caught as SessionError).code).toBe('STORE_UNAVAILABLE')
    expect(String((caught as SessionError).cause)).toContain('429')
  })

  it('waits about the default backoff (200, 400, 800 ms) before giving up, no longer', async () => {
    const kv = limitedKV(100)
    const h = harness({ store: kvStore({ namespace: kv.namespace }) })
    captureConsole('error')
    const started = Date.now()
    const { res } = await h.run(async (s) => s.set('k', 1))
    const waited = Date.now() - started
    expect(res.status).toBe(503)
    expect(kv.puts).toHaveLength(4)
    expect(waited).toBeGreaterThanOrEqual(1_400)
    expect(waited).toBeLessThan(5_000)
  })

  it('does not retry other failures', async () => {
    const kv = limitedKV(1, 'KV PUT failed: 500 Internal Server Error')
    const h = harness({ store: kvStore({ namespace: kv.namespace, rateLimitRetries: FAST }) })
    captureConsole('error')
    const { res } = await h.run(async (s) => s.set('k', 1))
    expect(res.status).toBe(503)
    expect(kv.puts).toHaveLength(1)
  })

  it('retries the revocation marker of a logout too, so the logout still revokes', async () => {
    const { token, kv, limited } = await storedThenLimited(1)
    const { res } = await limited.run(async (s) => s.flush())
    expect(res.status).toBe(200)
    expect(kv.puts.filter((key) => key.startsWith('revoked:'))).toHaveLength(2)
    expect(await env.SESSIONS.get(await kvKeyFor(token))).toBeNull()
  })

  it.each([[[-1]], [[Number.NaN]], [[10_000]], [[1, 2, 3, 4, 5, 6]]])(
    'refuses rateLimitRetries %j with INVALID_OPTION naming it',
    (retries) => {
      expect(() => kvStore({ namespace: env.SESSIONS, rateLimitRetries: retries })).toThrow(
        /option "rateLimitRetries"/,
      )
    },
  )

  it('retries nothing with rateLimitRetries: []', async () => {
    const kv = limitedKV(1)
    const h = harness({ store: kvStore({ namespace: kv.namespace, rateLimitRetries: [] }) })
    captureConsole('error')
    expect((await h.run(async (s) => s.set('k', 1))).res.status).toBe(503)
    expect(kv.puts).toHaveLength(1)
  })
})
