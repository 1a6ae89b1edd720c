/**
 * The `rolling` option: sliding expiry that re-saves a read-only session only once a
 * share of its lifetime has passed, never more than once per `minInterval`. Expiry
 * decisions run on the session's injectable clock (KV's own clock cannot be faked);
 * what is sent to KV is recorded by a thin wrapper around the real binding.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { kvStore, type SessionOptions } from '../src/session'
import { harness, type Harness } from './helpers/harness'
import { setCookie } from './helpers/http'
import { clearKV, countingKV, type CountingKV } from './helpers/kv'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** One `put` as KV received it. */
interface Put {
  key: string
  value: string
  expirationTtl: number | undefined
}

/** A harness whose store writes through a counter and a recorder of `put` arguments, both forwarding to the real KV. */
function rollingHarness(options: SessionOptions): Harness & { counted: CountingKV; puts: Put[] } {
  const counted = countingKV(env.SESSIONS)
  const puts: Put[] = []
  const namespace = new Proxy(counted.namespace, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown
      if (prop !== 'put' || typeof value !== 'function') return value
      return (key: string, body: string, opts?: KVNamespacePutOptions) => {
        puts.push({ key, value: body, expirationTtl: opts?.expirationTtl })
        return (value as KVNamespace['put']).call(target, key, body, opts)
      }
    },
  })
  const h = harness({ store: kvStore({ namespace }), ...options })
  return Object.assign(h, { counted, puts })
}

const read = (h: Harness): ReturnType<Harness['run']> => h.run(async (s) => s.get('n'))

beforeEach(async () => {
  await clearKV(env.SESSIONS)
})

describe('rolling: sliding expiry', () => {
  it('does not write before a quarter of the lifetime has passed', async () => {
    const h = rollingHarness({ rolling: true, maxAge: 3600 })
    await h.run(async (s) => s.set('n', 1))
    h.counted.reset()

    h.clock.now += 0.25 * HOUR - 1000
    const { res, body } = await read(h)

    expect(body).toBe(1)
    expect(h.counted.counts).toMatchObject({ reads: 1, writes: 0, deletes: 0 })
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('writes once past the threshold, extending the KV TTL and the cookie Max-Age together', async () => {
    const h = rollingHarness({ rolling: true, maxAge: 3600 })
    await h.run(async (s) => s.set('n', 1))
    const id = h.cookies.get('sessionid')
    h.counted.reset()
    h.puts.length = 0

    h.clock.now += 0.25 * HOUR
    const { res } = await read(h)

    // The read, the write, and the revocation marker checked after it.
    expect(h.counted.counts).toMatchObject({ reads: 2, writes: 1, deletes: 0 })
    // The same id, the full lifetime again, in KV and in the cookie.
    const cookie = setCookie(res, 'sessionid')
    expect(cookie?.value).toBe(id)
    expect(cookie?.attrs['max-age']).toBe('3600')
    expect(h.puts).toHaveLength(1)
    expect(h.puts[0]!.expirationTtl).toBe(3600)
    expect(JSON.parse(h.puts[0]!.value)).toMatchObject({
      data: { n: 1 },
      expiresAt: h.clock.now + HOUR,
    })
    expect(res.headers.get('Cache-Control')).toContain('private')

    // Just extended: the next read costs no write.
    h.counted.reset()
    h.clock.now += MINUTE
    const next = await read(h)
    expect(h.counted.counts).toMatchObject({ reads: 1, writes: 0 })
    expect(next.res.headers.getSetCookie()).toEqual([])
  })

  it('honours a custom threshold', async () => {
    const h = rollingHarness({ rolling: { threshold: 0.5 }, maxAge: 3600 })
    await h.run(async (s) => s.set('n', 1))
    h.counted.reset()

    h.clock.now += 0.4 * HOUR
    await read(h)
    expect(h.counted.counts.writes).toBe(0)
    h.clock.now += 0.1 * HOUR
    await read(h)
    expect(h.counted.counts.writes).toBe(1)
  })

  it.each([
    { maxAge: 120, rolling: true as const, minInterval: 60 },
    { maxAge: 3600, rolling: { threshold: 0.01, minInterval: 600 }, minInterval: 600 },
  ])(
    'never writes more than once per minInterval ($minInterval s) when the threshold comes sooner',
    async ({ maxAge, rolling, minInterval }) => {
      const h = rollingHarness({ rolling, maxAge })
      await h.run(async (s) => s.set('n', 1))
      h.counted.reset()
      const start = h.clock.now
      const writes: number[] = []

      // A request every 10 s for 20 intervals.
      for (let t = 10_000; t <= 20 * minInterval * 1000; t += 10_000) {
        h.clock.now = start + t
        const before = h.counted.counts.writes
        const { body } = await read(h)
        expect(body).toBe(1)
        if (h.counted.counts.writes > before) writes.push(t)
      }

      expect(writes.length).toBeGreaterThan(0)
      let last = 0
      for (const t of writes) {
        expect(t - last).toBeGreaterThanOrEqual(minInterval * 1000)
        last = t
      }
      // Each interval is a write, and no more: 20 of them.
      expect(writes).toHaveLength(20)
    },
    60_000,
  ) // up to 1,200 requests: about 1 s alone, 7 s on a loaded 2-core machine

  it('keeps a session in use alive past maxAge, where without rolling it expires', async () => {
    for (const rolling of [true, false]) {
      const h = rollingHarness({ rolling, maxAge: 3600 })
      await h.run(async (s) => s.set('n', 1))
      // A request every five minutes for six hours.
      let last: unknown
      for (let i = 0; i < 72; i++) {
        h.clock.now += 5 * MINUTE
        last = (await read(h)).body
      }
      if (rolling) {
        expect(last).toBe(1)
        // One write per quarter hour, the rest reads.
        expect(h.counted.counts.writes).toBe(1 + 24)
      } else {
        expect(last).toBeNull()
      }
    }
  })

  it('costs nothing for requests that do not touch the session, however late', async () => {
    const h = rollingHarness({ rolling: true, maxAge: 3600 })
    await h.run(async (s) => s.set('n', 1))
    h.counted.reset()
    h.clock.now += 0.9 * HOUR
    const { res } = await h.run(() => 'untouched')
    expect(h.counted.counts).toEqual({ reads: 0, writes: 0, deletes: 0, lists: 0 })
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('does not extend a session that ends at a fixed instant (setExpiry(Date))', async () => {
    const h = rollingHarness({ rolling: true, maxAge: 3600 })
    await h.run(async (s) => {
      await s.set('n', 1)
      await s.setExpiry(new Date(h.clock.now + HOUR))
    })
    h.counted.reset()
    h.clock.now += 0.9 * HOUR
    await read(h)
    expect(h.counted.counts.writes).toBe(0)
  })

  it('follows a custom age set with setExpiry(seconds)', async () => {
    const h = rollingHarness({ rolling: true })
    await h.run(async (s) => {
      await s.set('n', 1)
      await s.setExpiry(600)
    })
    h.counted.reset()
    h.puts.length = 0
    h.clock.now += 150_000 // a quarter of 600 s
    const { res } = await read(h)
    expect(h.counted.counts.writes).toBe(1)
    expect(h.puts[0]!.expirationTtl).toBe(600)
    expect(setCookie(res, 'sessionid')?.attrs['max-age']).toBe('600')
  })
})

describe('rolling: a busy day', () => {
  /** One read a minute for 24 hours; returns the writes counted. */
  async function busyDay(options: SessionOptions): Promise<{ writes: number; alive: boolean }> {
    const h = rollingHarness(options)
    await h.run(async (s) => s.set('n', 1))
    h.counted.reset()
    let alive = true
    for (let minute = 1; minute <= 24 * 60; minute++) {
      h.clock.now += MINUTE
      if ((await read(h)).body !== 1) alive = false
    }
    // One read per request, and one more per save: the revocation marker it checks.
    expect(h.counted.counts.reads).toBe(24 * 60 + h.counted.counts.writes)
    return { writes: h.counted.counts.writes, alive }
  }

  it('costs a handful of writes a day for a session read every minute', async () => {
    // Two-week sessions (the default) are extended every 3.5 days: not once in a day.
    expect(await busyDay({ rolling: true })).toEqual({ writes: 0, alive: true })
    // One-day sessions are extended every six hours.
    expect(await busyDay({ rolling: true, maxAge: DAY / 1000 })).toEqual({ writes: 4, alive: true })
    // Against Django's SESSION_SAVE_EVERY_REQUEST: one write per request.
    expect(await busyDay({ saveEveryRequest: true, maxAge: DAY / 1000 })).toEqual({
      writes: 24 * 60,
      alive: true,
    })
  }, 60_000)
})
