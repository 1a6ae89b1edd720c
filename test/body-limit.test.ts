/**
 * The demo's body limit: a chunked body over the limit is read to its end (up to a
 * bound) before the 413, so `wrangler dev`'s proxy keeps a usable connection (see
 * `src/routes/body-limit.ts`; the dev-server fault itself is reproduced by
 * `scripts/repro-dev-chunked.sh`, outside the pool, which does not show it).
 */
import { env } from 'cloudflare:test'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { createApp } from '../src/app'
import { bodyLimit } from '../src/routes/body-limit'
import { MAX_BODY_BYTES } from '../src/routes/session-api'

const LIMIT = 1024

/** A chunked body (no Content-Length) of `bytes` bytes in 256-byte chunks, pulled on demand. */
function chunked(
  bytes: number,
  chunk = 256,
): { body: ReadableStream<Uint8Array>; pulled: () => number; cancelled: () => boolean } {
  let sent = 0
  let cancelled = false
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (sent >= bytes) return controller.close()
        const n = Math.min(chunk, bytes - sent)
        controller.enqueue(new Uint8Array(n).fill(97))
        sent += n
      },
      cancel() {
        cancelled = true
      },
    },
    { highWaterMark: 0 },
  )
  return { body, pulled: () => sent, cancelled: () => cancelled }
}

function app(drainUpTo?: number): Hono {
  const a = new Hono()
  a.use(
    '*',
    bodyLimit({
      maxSize: LIMIT,
      onError: (c) => c.text('too big', 413),
      ...(drainUpTo === undefined ? {} : { drainUpTo }),
    }),
  )
  a.post('*', async (c) => c.text(`got ${(await c.req.text()).length}`))
  return a
}

/** A POST of `body` to `url` on `a` (the tiny app, or the demo), with the test's bindings. */
const post = (
  a: Hono | ReturnType<typeof createApp>,
  body: BodyInit,
  headers: Record<string, string> = {},
  url = 'http://x/',
): Promise<Response> =>
  Promise.resolve(
    a.request(url, { method: 'POST', body, headers, duplex: 'half' } as RequestInit, env),
  )

describe('bodyLimit()', () => {
  it('hands on a chunked body within the limit, whole', async () => {
    const res = await post(app(), chunked(LIMIT).body)
    expect([res.status, await res.text()]).toEqual([200, `got ${LIMIT}`])
  })

  it('refuses a chunked body over the limit only after reading it to its end', async () => {
    const s = chunked(50 * LIMIT)
    const res = await post(app(), s.body)
    expect(res.status).toBe(413)
    expect(s.pulled()).toBe(50 * LIMIT)
    expect(s.cancelled()).toBe(false)
  })

  it('stops draining at drainUpTo and cancels the rest', async () => {
    const s = chunked(1000 * LIMIT)
    const res = await post(app(10 * LIMIT), s.body)
    expect(res.status).toBe(413)
    expect(s.pulled()).toBeLessThanOrEqual(10 * LIMIT + 256)
    expect(s.cancelled()).toBe(true)
  })

  it('refuses a declared Content-Length over the limit without reading the body', async () => {
    const s = chunked(2 * LIMIT)
    const res = await post(app(), s.body, { 'Content-Length': String(2 * LIMIT) })
    expect(res.status).toBe(413)
    expect(s.pulled()).toBe(0)
  })

  it('passes a body with a Content-Length within the limit, and a request with none', async () => {
    const ok = await post(app(), 'a'.repeat(LIMIT))
    expect([ok.status, await ok.text()]).toEqual([200, `got ${LIMIT}`])
    expect(await (await app().request('http://x/', { method: 'POST' })).text()).toBe('got 0')
  })

  it('throws at construction for a bad maxSize or drainUpTo, naming the option', () => {
    const onError = (): Response => new Response(null, { status: 413 })
    expect(() => bodyLimit({ maxSize: Number.NaN, onError })).toThrow(/"maxSize"/)
    expect(() => bodyLimit({ maxSize: -1, onError })).toThrow(/"maxSize"/)
    expect(() => bodyLimit({ maxSize: 10, drainUpTo: 5, onError })).toThrow(/"drainUpTo"/)
  })
})

describe('the demo refuses an oversized chunked body after reading it whole', () => {
  it.each([
    ['POST /session (JSON)', '/session', 'application/json'],
    ['POST /login (JSON)', '/login', 'application/json'],
    ['POST /form/set (a form)', '/form/set', 'application/x-www-form-urlencoded'],
  ])('%s: 413, the whole body read, and the next request answered', async (_label, path, type) => {
    const demo = createApp()
    const s = chunked(MAX_BODY_BYTES + 64 * 1024, 16 * 1024)
    const res = await post(demo, s.body, { 'Content-Type': type }, `http://localhost:8787${path}`)
    expect(res.status).toBe(413)
    expect(s.pulled()).toBe(MAX_BODY_BYTES + 64 * 1024)
    expect(s.cancelled()).toBe(false)
    expect((await demo.request('http://localhost:8787/whoami', {}, env)).status).toBe(200)
  })
})
