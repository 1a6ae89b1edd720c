import { SELF } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../src/app'
import { type CookieJar, testClient } from '../src/session/testing'
import { json, setCookie } from './helpers/http'
import { SERVER_STORES, type StoreUnderTest } from './helpers/stores'

const BASE = 'http://localhost:8787'

// The demo app with SESSION_STORE=do: the deployed worker (SELF) is configured for KV.
const app = createApp()

/**
 * How requests reach the demo on a store: on KV through SELF (wrangler.toml's worker, as
 * deployed); on Durable Objects through the same app with `SESSION_STORE: 'do'`.
 */
function sender(store: StoreUnderTest): (url: string, init?: RequestInit) => Promise<Response> {
  if (store.name === 'kv') return (url, init) => SELF.fetch(url, init)
  return async (url, init) => app.request(url, init, store.bindings)
}

describe.each(SERVER_STORES)('on the $name store', (store) => {
  const send = sender(store)

  beforeEach(async () => {
    await store.clear()
  })

  /** A simulated browser against the demo worker. */
  function browser(): {
    cookies: CookieJar
    send(path: string, init?: RequestInit): Promise<Response>
  } {
    const client =
      store.name === 'kv'
        ? testClient(SELF, { url: BASE })
        : testClient(app, { env: store.bindings, url: BASE })
    return { cookies: client.cookies, send: (path, init = {}) => client.request(path, init) }
  }

  const sessionCount = (): Promise<number> => store.count()

  describe.each([[''], ['/']])('tutorial routes (trailing slash: %j)', (slash) => {
    it('GET /test then /check: the test cookie works and is deleted', async () => {
      const b = browser()
      const test = await b.send(`/test${slash}`)
      expect(test.status).toBe(200)
      expect(test.headers.get('Content-Type')).toMatch(/^text\/html/)
      expect(await test.text()).toBe('<h1>We are Testing Cookies..!! </h1>')
      expect(setCookie(test, 'testcookie')?.value).toBe('worked')

      const check = await b.send(`/check${slash}`)
      expect(check.status).toBe(200)
      expect(await check.text()).toBe('<h1>Cookies are Deleted...!!</h1>')
      expect(setCookie(check, 'testcookie')?.attrs['max-age']).toBe('0')
      expect(await sessionCount()).toBe(0)
    })

    it('GET /check without the test cookie asks to enable cookies', async () => {
      const res = await send(`${BASE}/check${slash}`)
      expect(res.status).toBe(200)
      expect(await res.text()).toContain('Please enable cookies and try again.')
      expect(res.headers.getSetCookie()).toEqual([])
    })

    it('GET /set-cook, /get-cook, /del-cook', async () => {
      const b = browser()
      const set = await b.send(`/set-cook${slash}`)
      expect(await set.text()).toBe('<h1>Say Hey Cookie Set..!!</h1>')
      const cookie = setCookie(set, 'user')
      expect(cookie?.value).toBe('Raju')
      expect(cookie?.attrs).not.toHaveProperty('max-age') // temporary

      const get = await b.send(`/get-cook${slash}`)
      expect(get.status).toBe(200)
      expect(await get.text()).toBe('Raju Hey Get Cookie Success')

      const del = await b.send(`/del-cook${slash}`)
      expect(await del.text()).toBe('<h1>Say Hey Cookie Deleted..!!</h1>')
      expect(setCookie(del, 'user')?.attrs).toMatchObject({ 'max-age': '0', path: '/' })

      const after = await b.send(`/get-cook${slash}`)
      expect(after.status).toBe(400)
      expect(await after.text()).toContain('No "user" cookie')
    })

    it('GET /hit counts in a temporary cookie', async () => {
      const b = browser()
      for (const n of [1, 2, 3]) {
        const res = await b.send(`/hit${slash}`)
        expect(await res.text()).toContain(`Visit number ${n}`)
        const cookie = setCookie(res, 'hit')
        expect(cookie?.value).toBe(String(n))
        expect(cookie?.attrs).not.toHaveProperty('max-age')
      }
    })

    it('GET /hit/persistent counts in a cookie with Max-Age=120', async () => {
      const b = browser()
      await b.send(`/hit${slash}`)
      const res = await b.send(`/hit/persistent${slash}`)
      expect(await res.text()).toContain('Visit number 2')
      expect(setCookie(res, 'hit')?.attrs['max-age']).toBe('120')
    })

    it('GET /session-hit counts in the session, kept in the store', async () => {
      const b = browser()
      for (const n of [1, 2, 3]) {
        const res = await b.send(`/session-hit${slash}`)
        expect(await res.text()).toContain(`Visit number ${n}`)
      }
      const id = b.cookies.get('sessionid')
      expect(id).toBeDefined()
      expect(await store.data(id ?? '')).toEqual({ hits: 3 })
      expect(await sessionCount()).toBe(1)
    })
  })

  describe('GET /hit with a bad counter', () => {
    it.each([['abc'], ['-3'], ['1e3'], ['']])('counts %j as 0', async (value) => {
      const res = await send(`${BASE}/hit/`, { headers: { Cookie: `hit=${value}` } })
      expect(await res.text()).toContain('Visit number 1')
    })
  })

  describe('GET /get-cook', () => {
    it('escapes the cookie value in the HTML', async () => {
      const res = await send(`${BASE}/get-cook/`, {
        headers: { Cookie: `user=${encodeURIComponent('<script>x</script>')}` },
      })
      expect(await res.text()).toBe('&lt;script&gt;x&lt;/script&gt; Hey Get Cookie Success')
    })
  })

  describe('JSON playground', () => {
    it('GET /session describes an empty session without creating one', async () => {
      const res = await send(`${BASE}/session`)
      expect(res.status).toBe(200)
      const body = (await res.json()) as Record<string, unknown>
      expect(body).toMatchObject({ data: {}, expiryAge: 1209600, expireAtBrowserClose: false })
      expect(Date.parse(body.expiryDate as string)).toBeGreaterThan(Date.now() + 1209590_000)
      expect(res.headers.getSetCookie()).toEqual([])
      expect(res.headers.get('Vary')).toBe('Cookie')
      expect(await sessionCount()).toBe(0)
    })

    it('POST /session sets keys, DELETE /session/data/:name deletes one', async () => {
      const b = browser()
      const set = await b.send('/session', json('POST', { a: 1, b: { nested: [true, null] } }))
      expect(set.status).toBe(200)
      expect(((await set.json()) as { data: unknown }).data).toEqual({
        a: 1,
        b: { nested: [true, null] },
      })
      const del = await b.send('/session/data/a', { method: 'DELETE' })
      expect(((await del.json()) as { data: unknown }).data).toEqual({
        b: { nested: [true, null] },
      })
      const get = await b.send('/session')
      expect(((await get.json()) as { data: unknown }).data).toEqual({
        b: { nested: [true, null] },
      })
    })

    it.each([
      ['malformed JSON', '{"a":', 'valid JSON'],
      ['an array', '[1,2]', 'JSON object'],
      ['null', 'null', 'JSON object'],
      ['a string', '"x"', 'JSON object'],
      ['an empty body', '', 'valid JSON'],
      [
        'arrays nested 10,000 deep',
        `{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
        'nested more than 100 levels',
      ],
    ])('POST /session with %s is a 400 with a message', async (_label, body, message) => {
      const res = await send(`${BASE}/session`, json('POST', body))
      expect(res.status).toBe(400)
      expect(((await res.json()) as { error: string }).error).toContain(message)
    })

    it('POST /session/expiry sets and resets the expiry', async () => {
      const b = browser()
      await b.send('/session', json('POST', { a: 1 }))
      const short = await b.send('/session/expiry', json('POST', { seconds: 30 }))
      expect(await short.json()).toMatchObject({ expiryAge: 30, expireAtBrowserClose: false })
      expect(setCookie(short, 'sessionid')?.attrs['max-age']).toBe('30')
      const close = await b.send('/session/expiry', json('POST', { seconds: 0 }))
      expect(await close.json()).toMatchObject({ expireAtBrowserClose: true })
      expect(setCookie(close, 'sessionid')?.attrs).not.toHaveProperty('max-age')
      const reset = await b.send('/session/expiry', json('POST', { seconds: null }))
      expect(await reset.json()).toMatchObject({ expiryAge: 1209600, expireAtBrowserClose: false })
    })

    it.each([[{ seconds: -1 }], [{ seconds: '5' }], [{}], [{ seconds: true }]])(
      'POST /session/expiry refuses %j with 400',
      async (body) => {
        const res = await send(`${BASE}/session/expiry`, json('POST', body))
        expect(res.status).toBe(400)
      },
    )

    it('POST /session/cycle moves the data to a new key', async () => {
      const b = browser()
      await b.send('/session', json('POST', { a: 1 }))
      const old = b.cookies.get('sessionid')
      const res = await b.send('/session/cycle', { method: 'POST' })
      expect(((await res.json()) as { data: unknown }).data).toEqual({ a: 1 })
      expect(b.cookies.get('sessionid')).not.toBe(old)
      const replay = await send(`${BASE}/session`, { headers: { Cookie: `sessionid=${old}` } })
      expect(((await replay.json()) as { data: unknown }).data).toEqual({})
    })

    it('POST /session/flush answers the new empty session and removes the record', async () => {
      const b = browser()
      await b.send('/session', json('POST', { a: 1 }))
      expect(await sessionCount()).toBe(1)
      const res = await b.send('/session/flush', { method: 'POST' })
      expect(await res.json()).toMatchObject({ data: {}, expiryAge: 1209600 })
      expect(setCookie(res, 'sessionid')?.attrs['max-age']).toBe('0')
      expect(await sessionCount()).toBe(0)
    })
  })

  describe('JSON playground: numbers are stored as sent, or refused', () => {
    it.each([
      ['an integer above 2^53', '{"a":12345678901234567890}', 'would become 12345678901234567000'],
      ['2^53 + 1', '{"a":9007199254740993}', 'would become 9007199254740992'],
      [
        'a nested negative one',
        '{"a":[1,{"b":-123456789012345678901234}]}',
        'would become -1.2345678901234569e+23',
      ],
      ['more digits than a double holds', '{"a":0.1000000000000000000001}', 'would become 0.1'],
      ['an underflow to 0', '{"a":1e-400}', 'would become 0'],
      ['an overflow to Infinity', '{"a":1e400}', 'it is out of range'],
      ['a lossy expiry', '{"seconds":12345678901234567890}', 'would become 12345678901234567000'],
    ])('POST /session refuses %s with 400, storing nothing', async (_label, body, message) => {
      const path = body.includes('seconds') ? '/session/expiry' : '/session'
      const res = await send(`${BASE}${path}`, json('POST', body))
      expect(res.status).toBe(400)
      expect(((await res.json()) as { error: string }).error).toContain(message)
      expect(res.headers.getSetCookie()).toEqual([])
      expect(await sessionCount()).toBe(0)
    })

    it('keeps every number a double holds exactly as written, and digits inside strings', async () => {
      const b = browser()
      const body =
        '{"max":9007199254740992,"min":-9007199254740992,"one":1.0,"hundred":1E2,"tenth":0.1,"zero":-0,' +
        '"small":1.5e-7,"tiny":5e-324,"huge":1.7976931348623157e308,"text":"12345678901234567890","quoted":"a\\"1e400"}'
      const res = await b.send('/session', json('POST', body))
      expect(res.status).toBe(200)
      const { data } = (await (await b.send('/session')).json()) as {
        data: Record<string, unknown>
      }
      expect(data).toEqual({
        max: 9007199254740992,
        min: -9007199254740992,
        one: 1,
        hundred: 100,
        tenth: 0.1,
        zero: 0,
        small: 1.5e-7,
        tiny: 5e-324,
        huge: 1.7976931348623157e308,
        text: '12345678901234567890',
        quoted: 'a"1e400',
      })
    })
  })

  describe('login, whoami, logout', () => {
    it('logs in with a new key, remembers the user, and logs out', async () => {
      const b = browser()
      await b.send('/session', json('POST', { cart: ['book'] }))
      const before = b.cookies.get('sessionid')

      const login = await b.send('/login', json('POST', { username: 'raju' }))
      expect(login.status).toBe(200)
      expect(((await login.json()) as { data: unknown }).data).toEqual({
        cart: ['book'],
        username: 'raju',
      })
      expect(b.cookies.get('sessionid')).not.toBe(before)

      expect(await (await b.send('/whoami')).json()).toEqual({ username: 'raju' })
      // The pre-login id (planted or not) is dead.
      const planted = await send(`${BASE}/whoami`, { headers: { Cookie: `sessionid=${before}` } })
      expect(await planted.json()).toEqual({ username: null })

      const logout = await b.send('/logout', { method: 'POST' })
      expect(await logout.json()).toMatchObject({ data: {} })
      expect(await (await b.send('/whoami')).json()).toEqual({ username: null })
      expect(await sessionCount()).toBe(0)
    })

    it.each([[{}], [{ username: '' }], [{ username: 7 }], [{ username: 'x'.repeat(151) }]])(
      'refuses %j with 400',
      async (body) => {
        const res = await send(`${BASE}/login`, json('POST', body))
        expect(res.status).toBe(400)
        expect(await sessionCount()).toBe(0)
      },
    )

    it('GET /whoami for an anonymous visitor creates nothing', async () => {
      const res = await send(`${BASE}/whoami`)
      expect(await res.json()).toEqual({ username: null })
      expect(res.headers.getSetCookie()).toEqual([])
    })
  })

  describe('unknown routes', () => {
    it('answers 404 as HTML, or JSON under the JSON routes', async () => {
      const page = await send(`${BASE}/nope`)
      expect(page.status).toBe(404)
      expect(page.headers.get('Content-Type')).toMatch(/^text\/html/)
      const api = await send(`${BASE}/session/nope`)
      expect(api.status).toBe(404)
      expect(await api.json()).toEqual({ error: 'Not Found' })
    })
  })
})
