import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp } from '../src/app'
import { cookieStore, type SessionOptions } from '../src/session'
import { MAX_COOKIE_AGE } from '../src/session/foundation/cookie-grammar'
import { receivedCookies } from '../src/routes/page'
import { type CookieJar, testClient } from '../src/session/testing'
import { MAX_BODY_BYTES } from '../src/routes/session-api'
import { json, setCookie, UNICODE_SPACES } from './helpers/http'
import { SERVER_STORES, type StoreUnderTest } from './helpers/stores'

const BASE = 'http://localhost:8787'

afterEach(() => {
  vi.restoreAllMocks()
})

describe('receivedCookies()', () => {
  it('keeps every pair as sent: order, duplicates, raw values, nameless pairs', () => {
    expect(receivedCookies('a=1; sessionid=abc; a=2;  b="%20x" ; lone')).toEqual([
      { name: 'a', value: '1' },
      { name: 'sessionid', value: 'abc' },
      { name: 'a', value: '2' },
      { name: 'b', value: '"%20x"' },
      { name: '', value: 'lone' },
    ])
    expect(receivedCookies(null)).toEqual([])
    expect(receivedCookies('')).toEqual([])
  })

  it.each(UNICODE_SPACES)(
    'shows %s around a name as part of the name: it is another cookie',
    (_label, ch) => {
      expect(receivedCookies(`${ch}sessionid=a; sessionid${ch}=b;\t sessionid =c`)).toEqual([
        { name: `${ch}sessionid`, value: 'a' },
        { name: `sessionid${ch}`, value: 'b' },
        { name: 'sessionid', value: 'c' },
      ])
    },
  )
})

/**
 * The page suite, on every server-side store the demo runs on (`SESSION_STORE`).
 */
describe.each(SERVER_STORES)('on the $name store', (store: StoreUnderTest) => {
  beforeEach(async () => {
    await store.clear()
  })

  const sessionCount = (): Promise<number> => store.count()

  /**
   * A browser-like client of the demo app (same-origin form posts), with a clock the test
   * moves. The clock starts a minute ahead of the real one: a Durable Object's alarm deletes
   * rows that expired by the real clock, and must not race the expiries a test sets.
   */
  function browser(options: SessionOptions = {}): {
    cookies: CookieJar
    clock: { now: number }
    get(path: string, init?: RequestInit): Promise<Response>
    post(
      path: string,
      fields?: Record<string, string>,
      headers?: Record<string, string>,
    ): Promise<Response>
  } {
    const clock = { now: Math.ceil(Date.now() / 1000) * 1000 + 60_000 }
    const app = createApp({ now: () => clock.now, ...options })
    const client = testClient(app, { env: store.bindings, url: BASE })
    const send = (path: string, init: RequestInit): Promise<Response> => client.request(path, init)
    return {
      cookies: client.cookies,
      clock,
      get: (path, init = {}) => send(path, init),
      post: (path, fields = {}, headers = {}) =>
        send(path, {
          method: 'POST',
          // What a browser sends for a same-origin <form method="post">.
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            Origin: BASE,
            'Sec-Fetch-Site': 'same-origin',
            ...headers,
          },
          body: new URLSearchParams(fields).toString(),
        }),
    }
  }

  /** POSTs a form and checks the Post/Redirect/Get answer. */
  async function submit(
    b: ReturnType<typeof browser>,
    path: string,
    fields: Record<string, string> = {},
  ): Promise<Response> {
    const res = await b.post(path, fields)
    expect(res.status).toBe(303)
    expect(res.headers.get('Location')).toBe('/')
    return res
  }

  describe('GET /', () => {
    it('explains and links every tutorial step, for a new visitor, creating nothing', async () => {
      const b = browser()
      const start = b.clock.now
      const res = await b.get('/')
      expect(res.status).toBe(200)
      expect(res.headers.get('Content-Type')).toMatch(/^text\/html/)
      expect(res.headers.get('Cache-Control')).toBe('no-store')
      expect(res.headers.getSetCookie()).toEqual([])
      const body = await res.text()
      expect(body.startsWith('<!DOCTYPE html>')).toBe(true)
      for (const path of [
        '/test/',
        '/check/',
        '/set-cook/',
        '/get-cook/',
        '/del-cook/',
        '/hit/',
        '/hit/persistent/',
        '/session-hit/',
      ]) {
        expect(body).toContain(`href="${path}"`)
      }
      for (const action of [
        '/form/set',
        '/form/delete',
        '/form/expiry',
        '/form/cycle',
        '/form/flush',
        '/form/login',
        '/form/logout',
      ]) {
        expect(body).toContain(`<form method="post" action="${action}"`)
      }
      expect(body).toContain('The browser sent no cookies.')
      expect(body).toContain('The session is empty')
      expect(body).toContain('Nobody is logged in.')
      expect(body).toContain(`<td id="expiry-age">1209600 s (14 days)</td>`)
      expect(body).toContain(
        `<td id="expiry-date">${new Date(start + 1209600_000).toISOString()}</td>`,
      )
      expect(body).toContain('<td id="browser-close">no</td>')
      expect(await sessionCount()).toBe(0)
    })

    it('shows every cookie received, HttpOnly ones included, escaped', async () => {
      const b = browser()
      await b.get('/set-cook/') // user=Raju, HttpOnly
      b.cookies.set('evil', '<script>alert(1)</script>')
      b.cookies.set('q"uote', 'a&b')
      const body = await (await b.get('/')).text()
      expect(body).toMatch(/<code>user<\/code><\/td><td class="v">Raju<\/td>/)
      expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
      expect(body).not.toContain('<script>alert(1)')
      expect(body).toContain('<code>q&quot;uote</code>')
      expect(body).toContain('a&amp;b')
    })

    it('shows the session data as escaped JSON with its expiry and browser-close flag', async () => {
      const b = browser()
      await submit(b, '/form/set', { key: '<k>', value: '<b>"hi"</b>' })
      const body = await (await b.get('/')).text()
      expect(body).toContain('<code>&lt;k&gt;</code>')
      expect(body).toContain('&quot;&lt;b&gt;\\&quot;hi\\&quot;&lt;/b&gt;&quot;')
      expect(body).not.toContain('<b>"hi"</b>')
      // The session cookie's value is shown as received.
      expect(body).toContain(b.cookies.get('sessionid'))
      expect(body).toContain('<td id="browser-close">no</td>')
    })

    it('shows an empty session once the session has expired, and deletes the cookie', async () => {
      const b = browser()
      await submit(b, '/form/set', { key: 'k', value: 'v' })
      await submit(b, '/form/expiry', { seconds: '5' })
      // The page the 303 leads to, as a browser follows it: it shows (and so removes) the
      // flash messages, which saves the session again.
      await b.get('/')
      b.clock.now += 4_000
      expect(await (await b.get('/')).text()).toContain('<td class="v">&quot;v&quot;</td>')
      b.clock.now += 2_000
      const res = await b.get('/')
      expect(await res.text()).toContain('The session is empty')
      expect(setCookie(res, 'sessionid')?.attrs['max-age']).toBe('0')
    })

    it('answers 503 with a readable page when the store cannot be read', async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
      const b = browser({ store: store.faulty({ read: true }) })
      b.cookies.set('sessionid', store.unknownToken())
      const res = await b.get('/')
      expect(warn).toHaveBeenCalledExactlyOnceWith(
        expect.stringContaining('"event":"session.store_read_failed"'),
      )
      expect(res.status).toBe(503)
      expect(res.headers.get('Content-Type')).toMatch(/^text\/html/)
      expect(res.headers.get('Retry-After')).toBe('1')
      expect(res.headers.getSetCookie()).toEqual([])
      const body = await res.text()
      expect(body).toContain('<h1>Please try again in a moment</h1>')
      expect(body).toContain('your cookie is unchanged')
      expect(body).toContain('<a href="/">')
    })
  })

  describe("security headers (Django's SecurityMiddleware and XFrameOptionsMiddleware defaults)", () => {
    /** Every header Django's defaults send, and the ones they do not (HSTS is off by default). */
    const expectDjangoHeaders = (res: Response): void => {
      expect(res.headers.get('X-Frame-Options')).toBe('DENY')
      expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff')
      expect(res.headers.get('Referrer-Policy')).toBe('same-origin')
      expect(res.headers.get('Cross-Origin-Opener-Policy')).toBe('same-origin')
      for (const absent of [
        'Strict-Transport-Security',
        'X-XSS-Protection',
        'Cross-Origin-Resource-Policy',
        'Origin-Agent-Cluster',
        'X-DNS-Prefetch-Control',
        'X-Download-Options',
        'X-Permitted-Cross-Domain-Policies',
      ]) {
        expect(res.headers.get(absent), absent).toBeNull()
      }
    }

    it('sends them with the page, its redirects, its error pages and the JSON routes', async () => {
      const b = browser()
      expectDjangoHeaders(await b.get('/'))
      expectDjangoHeaders(await submit(b, '/form/set', { key: 'k', value: 'v' }))
      expectDjangoHeaders(await b.post('/form/set', { key: '' })) // 400 page
      expectDjangoHeaders(
        await b.post('/form/set', { key: 'k' }, { Origin: 'https://evil.example' }),
      ) // 403
      expectDjangoHeaders(await b.get('/nope')) // 404 page
      expectDjangoHeaders(await b.get('/session'))
    })

    it('sends them with the 503 page of a store that failed after the handler', async () => {
      const res = await browser({ store: store.faulty({ write: true }) }).post('/form/set', {
        key: 'k',
        value: 'v',
      })
      expect(res.status).toBe(503)
      expectDjangoHeaders(res)
    })
  })

  describe('GET / stylesheet', () => {
    it('is sent raw: a child combinator stays ">", not "&gt;", which no browser would match', async () => {
      const body = await (await browser().get('/')).text()
      const style = /<style>([\s\S]*?)<\/style>/.exec(body)?.[1] ?? ''
      expect(style).toContain('ol>li{margin-bottom:.6rem}')
      expect(style).not.toContain('&gt;')
    })
  })

  describe('POST /form/set and /form/delete', () => {
    it('stores a key as a string, redirects 303 to /, and deletes it', async () => {
      const b = browser()
      const set = await submit(b, '/form/set', { key: 'color', value: 'blue' })
      const cookie = setCookie(set, 'sessionid')
      expect(cookie?.attrs).toHaveProperty('httponly')
      // The flash message waits in the session until the page shows it.
      expect(await store.data(cookie!.value)).toEqual({
        color: 'blue',
        _messages: [{ level: 25, message: 'Key color set' }],
      })
      expect(await (await b.get('/')).text()).toMatch(
        /<code>color<\/code><\/td><td class="v">&quot;blue&quot;<\/td>/,
      )

      await submit(b, '/form/delete', { key: 'color' })
      // Only the flash message is left, so the session is kept until the page has shown it;
      // then it is empty, and its record and cookie go.
      expect(await sessionCount()).toBe(1)
      const shown = await b.get('/')
      const body = await shown.text()
      expect(body).toContain('<li class="success">Key color deleted</li>')
      expect(body).toContain('The session is empty')
      expect(setCookie(shown, 'sessionid')?.attrs['max-age']).toBe('0')
      expect(await sessionCount()).toBe(0)
    })

    it('keeps other keys when one is deleted', async () => {
      const b = browser()
      await submit(b, '/form/set', { key: 'a', value: '1' })
      await submit(b, '/form/set', { key: 'b', value: '2' })
      await submit(b, '/form/delete', { key: 'a' })
      const body = await (await b.get('/')).text()
      expect(body).not.toContain('<code>a</code>')
      expect(body).toContain('<code>b</code>')
    })

    it.each([
      ['/form/set', {}, 'The key must be 1 to 128 characters.'],
      ['/form/set', { key: '', value: 'x' }, 'The key must be 1 to 128 characters.'],
      ['/form/set', { key: 'k'.repeat(129), value: 'x' }, 'The key must be 1 to 128 characters.'],
      ['/form/delete', { key: '' }, 'Name the key to delete.'],
    ])(
      'answers 400 with the page and a message for bad input: %s %j',
      async (path, fields, message) => {
        const b = browser()
        const res = await b.post(path, fields)
        expect(res.status).toBe(400)
        expect(res.headers.get('Content-Type')).toMatch(/^text\/html/)
        const body = await res.text()
        expect(body).toContain(
          `<p class="alert" role="alert" id="error"><strong>That did not work:</strong> ${message}</p>`,
        )
        expect(body).toContain('<form method="post" action="/form/set"')
        expect(res.headers.getSetCookie()).toEqual([])
        expect(await sessionCount()).toBe(0)
      },
    )

    it('answers 413 with the page when the value would make the session too large', async () => {
      const b = browser()
      await submit(b, '/form/set', { key: 'keep', value: 'me' })
      const res = await b.post('/form/set', { key: 'big', value: 'x'.repeat(70_000) })
      expect(res.status).toBe(413)
      const body = await res.text()
      expect(body).toContain('role="alert"')
      expect(body).toContain('the limit is 65536')
      expect(body).toContain('<code>keep</code>') // the session is shown, unchanged
      expect(res.headers.getSetCookie()).toEqual([])
    })

    it('answers 413 with an error page for a form over the body limit', async () => {
      const b = browser()
      const res = await b.post('/form/set', { key: 'big', value: 'x'.repeat(MAX_BODY_BYTES + 1) })
      expect(res.status).toBe(413)
      expect(res.headers.get('Content-Type')).toMatch(/^text\/html/)
      expect(await res.text()).toContain(`The form is over ${MAX_BODY_BYTES} bytes.`)
      expect(await sessionCount()).toBe(0)
    })

    it('answers 503 with a readable page, and no cookie, when the store cannot be written', async () => {
      const b = browser({ store: store.faulty({ write: true }) })
      const res = await b.post('/form/set', { key: 'k', value: 'v' })
      expect(res.status).toBe(503)
      expect(res.headers.get('Content-Type')).toMatch(/^text\/html/)
      expect(res.headers.get('Retry-After')).toBe('1')
      expect(res.headers.getSetCookie()).toEqual([])
      const body = await res.text()
      expect(body).toContain('<h1>Please try again in a moment</h1>')
      expect(body).toContain('The session could not be saved; try again shortly.')
    })

    it('is refused (403) when posted from another site, storing nothing', async () => {
      const b = browser()
      const res = await b.post(
        '/form/set',
        { key: 'k', value: 'v' },
        { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' },
      )
      expect(res.status).toBe(403)
      expect(res.headers.getSetCookie()).toEqual([])
      expect(await sessionCount()).toBe(0)
    })
  })

  describe('POST /form/expiry', () => {
    it('sets seconds, browser close (0) and the default (empty)', async () => {
      const b = browser()
      const start = b.clock.now
      await submit(b, '/form/set', { key: 'k', value: 'v' })

      const short = await submit(b, '/form/expiry', { seconds: '90' })
      expect(setCookie(short, 'sessionid')?.attrs['max-age']).toBe('90')
      let body = await (await b.get('/')).text()
      expect(body).toContain('<td id="expiry-age">90 s (1 min 30 s)</td>')
      expect(body).toContain(`<td id="expiry-date">${new Date(start + 90_000).toISOString()}</td>`)

      const close = await submit(b, '/form/expiry', { seconds: '0' })
      expect(setCookie(close, 'sessionid')?.attrs).not.toHaveProperty('max-age')
      body = await (await b.get('/')).text()
      expect(body).toContain('<td id="browser-close">yes (the cookie has no Max-Age)</td>')

      const reset = await submit(b, '/form/expiry', { seconds: '' })
      expect(setCookie(reset, 'sessionid')?.attrs['max-age']).toBe('1209600')
      body = await (await b.get('/')).text()
      expect(body).toContain('<td id="expiry-age">1209600 s (14 days)</td>')
      expect(body).toContain('<td id="browser-close">no</td>')
    })

    it.each(['abc', '-1', '1.5', '1e3', String(MAX_COOKIE_AGE + 1), '9999999999'])(
      'answers 400 for seconds=%j',
      async (seconds) => {
        const b = browser()
        await submit(b, '/form/set', { key: 'k', value: 'v' })
        const res = await b.post('/form/expiry', { seconds })
        expect(res.status).toBe(400)
        expect(await res.text()).toContain(
          `The expiry must be a whole number of seconds from 0 to ${MAX_COOKIE_AGE}, or empty for the default.`,
        )
        expect(res.headers.getSetCookie()).toEqual([])
      },
    )
  })

  describe('POST /form/cycle and /form/flush', () => {
    it('cycle moves the data to a new key and retires the old record', async () => {
      const b = browser()
      await submit(b, '/form/set', { key: 'k', value: 'v' })
      const before = b.cookies.get('sessionid')!
      await submit(b, '/form/cycle')
      const after = b.cookies.get('sessionid')!
      expect(after).not.toBe(before)
      expect(await store.data(before)).toBeNull()
      // The data moved, with the flash messages waiting to be shown.
      expect(await store.data(after)).toEqual({
        k: 'v',
        _messages: [
          { level: 25, message: 'Key k set' },
          { level: 25, message: 'Session key cycled' },
        ],
      })
      expect(await (await b.get('/')).text()).toContain('<code>k</code>')
      expect(await store.data(after)).toEqual({ k: 'v' })
    })

    it('flush deletes the record at once and, once its message is shown, the cookie', async () => {
      const b = browser()
      await submit(b, '/form/set', { key: 'k', value: 'v' })
      await b.get('/')
      const flushed = b.cookies.get('sessionid')!
      const res = await submit(b, '/form/flush')
      // The flushed record is gone at once; the flash message travels in a new session
      // that holds nothing else, under a new id.
      expect(await store.data(flushed)).toBeNull()
      expect(setCookie(res, 'sessionid')?.value).not.toBe(flushed)
      const shown = await b.get('/')
      const body = await shown.text()
      expect(body).toContain('<li class="success">Session flushed</li>')
      expect(body).toContain('The session is empty')
      expect(setCookie(shown, 'sessionid')?.attrs['max-age']).toBe('0')
      expect(b.cookies.get('sessionid')).toBeUndefined()
      expect(await sessionCount()).toBe(0)
    })
  })

  describe('POST /form/login and /form/logout', () => {
    it('logs in with a new key, shows the name escaped, and logs out', async () => {
      const b = browser()
      await submit(b, '/form/set', { key: 'cart', value: '3 items' })
      const anonymous = b.cookies.get('sessionid')!
      await submit(b, '/form/login', { username: '<Raju & co>' })
      const loggedIn = b.cookies.get('sessionid')!
      expect(loggedIn).not.toBe(anonymous)
      expect(await store.data(anonymous)).toBeNull()
      let body = await (await b.get('/')).text()
      expect(body).toContain('Logged in as <strong id="whoami">&lt;Raju &amp; co&gt;</strong>.')
      expect(body).toContain('<code>cart</code>') // data survives login, as Django's cycle_key()

      const out = await submit(b, '/form/logout')
      // The logged-in record is gone at once; only the "Logged out" message remains, in a
      // new session, until the page shows it.
      expect(await store.data(loggedIn)).toBeNull()
      expect(setCookie(out, 'sessionid')?.value).not.toBe(loggedIn)
      const shown = await b.get('/')
      body = await shown.text()
      expect(body).toContain('<li class="success">Logged out</li>')
      expect(body).toContain('Nobody is logged in.')
      expect(body).toContain('The session is empty')
      expect(setCookie(shown, 'sessionid')?.attrs['max-age']).toBe('0')
      expect(await sessionCount()).toBe(0)
    })

    it.each<Record<string, string>>([
      {},
      { username: '' },
      { username: '   ' },
      { username: 'r'.repeat(151) },
    ])('answers 400 for %j', async (fields) => {
      const b = browser()
      const res = await b.post('/form/login', fields)
      expect(res.status).toBe(400)
      expect(await res.text()).toContain(
        'The name must be 1 to 150 characters, not all spaces, and well-formed Unicode.',
      )
      expect(res.headers.getSetCookie()).toEqual([])
      expect(await sessionCount()).toBe(0)
    })
  })

  describe("flash messages after each form (Django's messages framework)", () => {
    /** The page's flash messages as [class, text] pairs, or [] when it shows none. */
    const flashes = (html: string): [string, string][] =>
      [
        ...(/<ul class="messages"[^>]*>(.*?)<\/ul>/.exec(html)?.[1] ?? '').matchAll(
          /<li class="([^"]*)">(.*?)<\/li>/g,
        ),
      ].map((m) => [m[1] ?? '', m[2] ?? ''])

    it.each<[string, string, Record<string, string>, [string, string]]>([
      ['set', '/form/set', { key: 'color', value: 'blue' }, ['success', 'Key color set']],
      ['delete', '/form/delete', { key: 'k' }, ['success', 'Key k deleted']],
      [
        'delete of a missing key',
        '/form/delete',
        { key: 'nope' },
        ['info', 'There was no key nope'],
      ],
      [
        'expiry',
        '/form/expiry',
        { seconds: '30' },
        ['success', 'The session now expires after 30 s of inactivity'],
      ],
      [
        'expiry 0',
        '/form/expiry',
        { seconds: '0' },
        ['success', 'The session now ends when the browser closes'],
      ],
      [
        'default expiry',
        '/form/expiry',
        { seconds: '' },
        ['success', 'Expiry back to the default'],
      ],
      ['cycle', '/form/cycle', {}, ['success', 'Session key cycled']],
      ['flush', '/form/flush', {}, ['success', 'Session flushed']],
      ['login', '/form/login', { username: 'Raju' }, ['success', 'Logged in as Raju']],
      ['logout', '/form/logout', {}, ['success', 'Logged out']],
    ])(
      '%s: the page after the 303 says what happened, once; a reload no longer does',
      async (_form, path, fields, shown) => {
        const b = browser()
        await submit(b, '/form/set', { key: 'k', value: 'v' })
        await b.get('/') // shows "Key k set"
        await submit(b, path, fields)
        expect(flashes(await (await b.get('/')).text())).toEqual([shown])
        expect(flashes(await (await b.get('/')).text())).toEqual([])
      },
    )

    it('escapes the message and shows several in order', async () => {
      const b = browser()
      await submit(b, '/form/set', { key: '<b>', value: '1' })
      await submit(b, '/form/set', { key: 'a&b', value: '2' })
      expect(flashes(await (await b.get('/')).text())).toEqual([
        ['success', 'Key &lt;b&gt; set'],
        ['success', 'Key a&amp;b set'],
      ])
    })

    it('leaves pending messages to the next page when a form is refused, writing nothing', async () => {
      const b = browser()
      await submit(b, '/form/set', { key: 'keep', value: 'me' })
      const refused = await b.post('/form/set', { key: '' })
      expect(refused.status).toBe(400)
      expect(flashes(await refused.text())).toEqual([])
      expect(refused.headers.getSetCookie()).toEqual([])
      expect(flashes(await (await b.get('/')).text())).toEqual([['success', 'Key keep set']])
    })

    it('works on the cookie store too', async () => {
      const b = browser({
        store: cookieStore({ secret: 'edge-session test secret number one, 32+ bytes' }),
      })
      await submit(b, '/form/login', { username: 'Raju' })
      expect(flashes(await (await b.get('/')).text())).toEqual([['success', 'Logged in as Raju']])
      expect(flashes(await (await b.get('/')).text())).toEqual([])
      await submit(b, '/form/logout')
      const shown = await b.get('/')
      expect(flashes(await shown.text())).toEqual([['success', 'Logged out']])
      expect(b.cookies.get('sessionid')).toBeUndefined()
      expect(await sessionCount()).toBe(0)
    })
  })

  describe('errors outside the page', () => {
    it('renders unknown paths as an HTML page, and keeps the JSON routes JSON', async () => {
      const b = browser()
      const res = await b.get('/nope')
      expect(res.status).toBe(404)
      expect(res.headers.get('Content-Type')).toMatch(/^text\/html/)
      expect(await res.text()).toContain('There is no page here.')

      const api = await createApp({ store: store.faulty({ write: true }) }).request(
        `${BASE}/session`,
        json('POST', { k: 1 }),
        store.bindings,
      )
      expect(api.status).toBe(503)
      expect(await api.json()).toEqual({
        error: 'The session could not be saved; try again shortly.',
        code: 'STORE_UNAVAILABLE',
      })
    })
  })
})
