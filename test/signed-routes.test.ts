import { env, SELF } from 'cloudflare:test'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createApp } from '../src/app'
import { timestampSigner } from '../src/session'
import { DEV_SECRET, isLocalhost, parseFallbacks } from '../src/routes/store'
import { captureConsole } from './helpers/console'
import { setCookie } from './helpers/http'

const LOCAL = 'http://localhost:8787'

afterEach(() => {
  vi.restoreAllMocks()
})
// Secrets as `openssl rand -base64 48` makes them (no commas: the list separator).
const OLD = 'b2xkIHNlY3JldCBvZiB0aGUgc2lnbmVkIHJvdXRlcyB0ZXN0cywgNDggYnl0ZXMgbG9uZw'
const NEW = 'bmV3IHNlY3JldCBvZiB0aGUgc2lnbmVkIHJvdXRlcyB0ZXN0cywgNDggYnl0ZXMgbG9uZw'

/** GET `path` on the demo worker (wrangler.toml's, through SELF) with `cookie` sent. */
async function get(
  path: string,
  cookie?: string,
  base = LOCAL,
): Promise<{ res: Response; body: string }> {
  const res = await SELF.fetch(base + path, {
    headers: cookie === undefined ? {} : { Cookie: cookie },
  })
  return { res, body: await res.text() }
}

/** GET `path` on a demo app built here, with extra bindings (secrets). */
async function getWith(
  bindings: Record<string, string>,
  path: string,
  cookie?: string,
  base = 'https://example.com',
) {
  const res = await createApp().request(
    base + path,
    { headers: cookie === undefined ? {} : { Cookie: cookie } },
    { ...env, ...bindings },
  )
  return { res, body: await res.text() }
}

/** The `signed=…` pair a /set-signed/ response sets. */
function pairOf(res: Response): string {
  const cookie = setCookie(res, 'signed')
  if (!cookie) throw new Error('no "signed" cookie set')
  return `signed=${cookie.value}`
}

/** A `signed` cookie made outside the demo, e.g. one signed long ago. */
async function forge(
  value: string,
  options: { secret?: string; purpose?: string; salt?: string; timestamp?: number } = {},
): Promise<string> {
  const signer = timestampSigner({ secret: options.secret ?? DEV_SECRET })
  const signed = await signer.sign(value, {
    purpose: options.purpose ?? 'cookie:signed',
    salt: options.salt ?? 'demo',
    ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
  })
  return `signed=${encodeURIComponent(signed)}`
}

describe.each([[''], ['/']])('GET /set-signed then /get-signed (trailing slash: %j)', (slash) => {
  it('sets the signed cookie and answers its value', async () => {
    const set = await get(`/set-signed${slash}?value=hello`)
    expect(set.res.status).toBe(200)
    expect(set.body).toContain('hello')
    const cookie = setCookie(set.res, 'signed')
    expect(decodeURIComponent(cookie?.value ?? '')).toMatch(
      /^hello:[0-9A-Za-z]+:[A-Za-z0-9_-]{43}$/,
    )
    expect(cookie?.attrs).toEqual({ path: '/', httponly: '', samesite: 'Lax' }) // temporary, like /set-cook/

    const read = await get(`/get-signed${slash}`, pairOf(set.res))
    expect(read.res.status).toBe(200)
    expect(read.res.headers.get('Content-Type')).toMatch(/^text\/html/)
    expect(read.body).toBe('hello')
  })
})

describe('GET /set-signed', () => {
  it('escapes the value it echoes, and the one /get-signed answers', async () => {
    const value = '<img src=x onerror=alert(1)>&"\''
    const set = await get(`/set-signed/?value=${encodeURIComponent(value)}`)
    expect(set.body).not.toContain('<img')
    expect(set.body).toContain('&lt;img src=x onerror=alert(1)&gt;&amp;&quot;&#39;')
    const read = await get('/get-signed/', pairOf(set.res))
    expect(read.body).toBe('&lt;img src=x onerror=alert(1)&gt;&amp;&quot;&#39;')
  })

  it.each(['', 'a:b:c', 'héllo ☃', 'a b;c=d'])('round-trips %j', async (value) => {
    const set = await get(`/set-signed/?value=${encodeURIComponent(value)}`)
    expect((await get('/get-signed/', pairOf(set.res))).body).toBe(value)
  })

  it('answers 400 without a value', async () => {
    const { res, body } = await get('/set-signed/')
    expect(res.status).toBe(400)
    expect(body).toContain('No value given')
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('answers 400 for a value too long for a cookie once signed, setting nothing', async () => {
    const { res, body } = await get(`/set-signed/?value=${'x'.repeat(4100)}`)
    expect(res.status).toBe(400)
    expect(body).toContain('too long')
    expect(res.headers.getSetCookie()).toEqual([])
  })
})

describe('GET /get-signed', () => {
  it('answers 400 saying the cookie is missing', async () => {
    for (const cookie of [undefined, 'user=Raju; signedx=1']) {
      const { res, body } = await get('/get-signed/', cookie)
      expect(res.status).toBe(400)
      expect(body).toContain('The signed cookie is missing')
    }
  })

  it.each([
    ['a changed value', async () => (await forge('hello')).replace('hello', 'jello'), 'tampered'],
    // Always another character (a fixed 'Q' left 1 signature in 64 unchanged: a flaky pass).
    [
      'a changed signature',
      async () =>
        (await forge('hello')).replace(
          /(.)(.{5})$/,
          (_m, ch: string, rest: string) => (ch === 'Q' ? 'R' : 'Q') + rest,
        ),
      'tampered',
    ],
    [
      'a value signed for another cookie',
      async () => forge('hello', { purpose: 'cookie:other' }),
      'tampered',
    ],
    ['a value signed with another salt', async () => forge('hello', { salt: 'other' }), 'tampered'],
    ['a value signed with another secret', async () => forge('hello', { secret: NEW }), 'tampered'],
    ['an unsigned value', async () => 'signed=hello', 'foreign'],
    [
      'a hono/cookie signed value',
      async () => 'signed=hello.kqJ5cBmv1rOoqa%2FoDY6aLEwd0GxhLfO0bB2B%2BX%2Bpzjo%3D',
      'foreign',
    ],
    ['a truncated value', async () => (await forge('hello')).slice(0, -1), 'foreign'],
  ])('answers 400 for %s, saying it is %s', async (_what, cookie, which) => {
    const { res, body } = await get('/get-signed/', await cookie())
    expect(res.status).toBe(400)
    expect(body).toContain(
      `The signed cookie ${which === 'tampered' ? 'was tampered with' : 'is foreign'}`,
    )
    expect(body).not.toContain('hello')
  })

  it.each([
    // Ages are fractional (now in ms, timestamps in whole seconds): no test sits on the boundary.
    [100, '3600', 200],
    [100, '101', 200],
    [100, '99', 400],
    [100, '0', 400],
    [0, '5', 200],
  ])('a value signed %d s ago with ?max_age=%s answers %d', async (age, maxAge, status) => {
    const cookie = await forge('hello', { timestamp: Math.floor(Date.now() / 1000) - age })
    const { res, body } = await get(`/get-signed/?max_age=${maxAge}`, cookie)
    expect(res.status).toBe(status)
    if (status === 200) expect(body).toBe('hello')
    else expect(body).toContain(`The signed cookie has expired`)
  })

  it('says how old an expired cookie is', async () => {
    const cookie = await forge('hello', { timestamp: Math.floor(Date.now() / 1000) - 3600 })
    expect((await get('/get-signed/?max_age=60', cookie)).body).toContain(
      'signed 3600 seconds ago; max_age is 60',
    )
  })

  it.each(['-1', 'abc', '1e3', '1.5', '99999999999'])(
    'answers 400 for ?max_age=%s',
    async (maxAge) => {
      const { res, body } = await get(`/get-signed/?max_age=${maxAge}`, await forge('hello'))
      expect(res.status).toBe(400)
      expect(body).toContain('max_age must be a whole number of seconds')
    },
  )
})

describe('the demo secrets', () => {
  it('refuse the development secret on a host other than localhost: 500, nothing signed', async () => {
    const errors = captureConsole('error')
    const set = await get('/set-signed/?value=hello', undefined, 'https://example.com')
    expect(set.res.status).toBe(500)
    expect(set.res.headers.getSetCookie()).toEqual([])
    expect(set.body).not.toContain('SESSION_SECRET') // configuration is logged, not told
    const read = await get('/get-signed/', await forge('hello'), 'https://example.com')
    expect(read.res.status).toBe(500)
    const unset = expect.objectContaining({
      code: 'INVALID_OPTION',
      message: expect.stringContaining('SESSION_SECRET is not set'),
    })
    expect(errors).toEqual([[unset], [unset]])
  })

  it.each([
    ['localhost', true],
    ['app.localhost', true],
    ['127.0.0.1', true],
    ['[::1]', true],
    ['example.com', false],
    ['localhost.example.com', false],
    ['127.0.0.1.nip.io', false],
  ])('treat %s as localhost: %s', (host, local) => {
    expect(isLocalhost(`http://${host}:8787/`)).toBe(local)
  })

  it('sign with SESSION_SECRET on any host', async () => {
    const set = await getWith({ SESSION_SECRET: NEW }, '/set-signed/?value=hello')
    expect(set.res.status).toBe(200)
    expect((await getWith({ SESSION_SECRET: NEW }, '/get-signed/', pairOf(set.res))).body).toBe(
      'hello',
    )
    // Not with the development secret.
    expect((await get('/get-signed/', pairOf(set.res))).body).toContain('was tampered with')
  })

  it('accept a cookie of a secret listed in SESSION_SECRET_FALLBACKS, and re-sign it with the current one', async () => {
    const old = pairOf((await getWith({ SESSION_SECRET: OLD }, '/set-signed/?value=hello')).res)
    const rotating = { SESSION_SECRET: NEW, SESSION_SECRET_FALLBACKS: OLD }
    const read = await getWith(rotating, '/get-signed/', old)
    expect(read.res.status).toBe(200)
    expect(read.body).toBe('hello')
    const fresh = pairOf(read.res)
    expect(fresh).not.toBe(old)
    // The re-signed cookie works with the new secret alone; the old one does not.
    expect((await getWith({ SESSION_SECRET: NEW }, '/get-signed/', fresh)).body).toBe('hello')
    const refused = await getWith({ SESSION_SECRET: NEW }, '/get-signed/', old)
    expect(refused.res.status).toBe(400)
    expect(refused.body).toContain('was tampered with')
  })

  describe('SESSION_SECRET_FALLBACKS', () => {
    // A secret is any string of 32 bytes or more: commas, spaces, quotes and all.
    const COMMA = 'an old secret, with commas, and "quotes", 48 bytes'

    it.each([
      ['a JSON array', JSON.stringify([COMMA])],
      [
        'a JSON array with another entry and whitespace around',
        ` [\n  ${JSON.stringify(OLD)},\n  ${JSON.stringify(COMMA)}\n] `,
      ],
    ])(
      'as %s, rotates a secret that holds commas: its cookie verifies and is re-signed',
      async (_label, fallbacks) => {
        const old = pairOf(
          (await getWith({ SESSION_SECRET: COMMA }, '/set-signed/?value=hello')).res,
        )
        const read = await getWith(
          { SESSION_SECRET: NEW, SESSION_SECRET_FALLBACKS: fallbacks },
          '/get-signed/',
          old,
        )
        expect([read.res.status, read.body]).toEqual([200, 'hello'])
        const fresh = pairOf(read.res)
        expect((await getWith({ SESSION_SECRET: NEW }, '/get-signed/', fresh)).body).toBe('hello')
      },
    )

    it.each([
      [undefined, []],
      ['', []],
      [' \n ', []],
      ['[]', []],
      ['a', ['a']],
      [' a secret with spaces\n', ['a secret with spaces']],
      [' ["a, b", " c "]\n', ['a, b', ' c ']],
    ])('parseFallbacks(%j) is %j', (value, expected) => {
      expect(parseFallbacks(value)).toEqual(expected)
    })

    it.each([' a , , b\n', 'old1,old2', COMMA])(
      'parseFallbacks(%j) refuses a comma outside a JSON array, naming the variable and the JSON form',
      (value) => {
        expect(() => parseFallbacks(value)).toThrow(
          /^SESSION_SECRET_FALLBACKS holds a comma but is not a JSON array.*\["<previous secret>", "<the one before>"\]/,
        )
      },
    )

    it('as one secret without a comma (not JSON), rotates it', async () => {
      const old = pairOf((await getWith({ SESSION_SECRET: OLD }, '/set-signed/?value=hello')).res)
      const read = await getWith(
        { SESSION_SECRET: NEW, SESSION_SECRET_FALLBACKS: ` ${OLD} ` },
        '/get-signed/',
        old,
      )
      expect([read.res.status, read.body]).toEqual([200, 'hello'])
    })

    it('with a comma outside a JSON array, refuses every request from the start (500), logging the variable and the JSON form', async () => {
      const errors = captureConsole('error')
      for (const path of ['/whoami', '/get-signed/', '/']) {
        const { res } = await getWith(
          { SESSION_SECRET: NEW, SESSION_SECRET_FALLBACKS: `${OLD},${NEW}` },
          path,
        )
        expect(res.status, path).toBe(500)
        expect(res.headers.getSetCookie()).toEqual([])
      }
      expect(errors).toHaveLength(3)
      for (const [error] of errors)
        expect(String(error)).toMatch(
          /SESSION_SECRET_FALLBACKS holds a comma but is not a JSON array.*\["<previous secret>", "<the one before>"\]/,
        )
    })

    it.each([
      [
        'a secret holding a comma, not in a JSON array',
        COMMA,
        /SESSION_SECRET_FALLBACKS holds a comma but is not a JSON array/,
      ],
      [
        'JSON that does not parse',
        '["unterminated',
        /SESSION_SECRET_FALLBACKS starts with "\[" but is not a JSON array of strings/,
      ],
      [
        'a JSON array holding a number',
        `[${JSON.stringify(OLD)}, 42]`,
        /SESSION_SECRET_FALLBACKS entry 1 must be a string/,
      ],
      [
        'a JSON array with a short entry',
        '["short"]',
        /SESSION_SECRET_FALLBACKS entry 0 must be at least 32 bytes \(it is 5\)/,
      ],
    ])(
      'refuses %s with a message naming the entry (500, nothing signed)',
      async (_label, fallbacks, message) => {
        const error = vi.spyOn(console, 'error').mockImplementation(() => undefined)
        const { res, body } = await getWith(
          { SESSION_SECRET: NEW, SESSION_SECRET_FALLBACKS: fallbacks },
          '/set-signed/?value=hello',
        )
        expect(res.status).toBe(500)
        expect(res.headers.getSetCookie()).toEqual([])
        expect(body).not.toContain('SESSION_SECRET') // configuration is logged, not told
        expect(error).toHaveBeenCalledTimes(1)
        expect(String(error.mock.calls[0]?.[0])).toMatch(message)
      },
    )
  })

  it('do not re-sign a cookie of the current secret', async () => {
    const current = pairOf((await getWith({ SESSION_SECRET: NEW }, '/set-signed/?value=hello')).res)
    const read = await getWith(
      { SESSION_SECRET: NEW, SESSION_SECRET_FALLBACKS: OLD },
      '/get-signed/',
      current,
    )
    expect(read.res.headers.getSetCookie()).toEqual([])
  })

  it.each([
    [
      { SESSION_SECRET: 'too short' },
      'timestampSigner(): SESSION_SECRET must be at least 32 bytes (it is 9)',
    ],
    [
      { SESSION_SECRET: NEW, SESSION_SECRET_FALLBACKS: 'too short' },
      'timestampSigner(): SESSION_SECRET_FALLBACKS entry 0 must be at least 32 bytes (it is 9); if a secret holds a comma, write SESSION_SECRET_FALLBACKS as a JSON array of strings: ["…", "…"]',
    ],
  ])('answer 500 for a secret under 32 bytes, and log why: %j', async (bindings, logged) => {
    const errors = captureConsole('error')
    const { res } = await getWith(bindings, '/set-signed/?value=hello')
    expect(res.status).toBe(500)
    expect(res.headers.getSetCookie()).toEqual([])
    expect(errors).toEqual([[expect.objectContaining({ code: 'INVALID_OPTION', message: logged })]])
  })
})
