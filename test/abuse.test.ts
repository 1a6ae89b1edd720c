/**
 * Abuse: floods that must cost no KV write and create no record (CVE-2015-5963 was
 * Django writing a session row per anonymous hit), the payload cap, values JSON cannot
 * carry, prototype pollution, and the cookie rules that keep a header unsplittable.
 */
import { env } from 'cloudflare:test'
import { Hono } from 'hono'
import { beforeEach, describe, expect, it } from 'vitest'
import {
  deleteCookie,
  session,
  setCookie,
  SessionError,
  type CookieOptions,
  type Session,
  type SessionOptions,
} from '../src/session'
import { generateSessionId } from '../src/session/store'
import { kvKeyFor } from '../src/session/stores/kv'
import { sessionApp } from './helpers/app'
import { harness } from './helpers/harness'
import { setCookie as responseCookie, setCookies } from './helpers/http'
import { clearKV, countingKV } from './helpers/kv'

const ORIGIN = 'http://example.com'

/** A request with `cookie` (a whole Cookie header) to a library app on session()'s defaults, over `kv`. */
const send = (
  kv: KVNamespace,
  path: string,
  init: RequestInit = {},
  cookie?: string,
): Promise<Response> => sessionApp().send(path, init, { cookie, env: { SESSIONS: kv } })

beforeEach(async () => {
  await clearKV(env.SESSIONS)
})

/** Every key in the namespace, sessions or not. */
async function allKeys(): Promise<string[]> {
  return (await env.SESSIONS.list()).keys.map((k) => k.name)
}

describe('a flood of anonymous and forged-id requests', () => {
  const routes: [method: string, path: string][] = [
    ['GET', '/test-cookie'],
    ['GET', '/test-cookie/check'],
    ['GET', '/session'],
    ['GET', '/whoami'],
    ['POST', '/logout'],
    ['POST', '/clear'],
  ]
  /** What a flooding client sends: nothing, a random well-formed id, the test cookie, both. */
  const cookieFor = (i: number): string | undefined =>
    [
      undefined,
      `sessionid=${generateSessionId()}`,
      'testcookie=worked',
      `testcookie=worked; sessionid=${generateSessionId()}`,
    ][i % 4]

  it.each(routes)(
    '%s %s, 200 times, writes nothing to KV and creates no record',
    async (method, path) => {
      const kv = countingKV(env.SESSIONS)
      for (let i = 0; i < 200; i++) {
        const res = await send(kv.namespace, path, { method }, cookieFor(i))
        expect(res.status).toBe(200)
        // No session id is ever handed out.
        for (const c of setCookies(res).filter((s) => s.name === 'sessionid'))
          expect(c.value).toBe('')
      }
      expect(kv.counts.writes).toBe(0)
      expect(await allKeys()).toEqual([])
    },
  )

  it.each(routes.filter(([method]) => method === 'GET'))(
    '%s %s, 200 times, deletes nothing either',
    async (method, path) => {
      const kv = countingKV(env.SESSIONS)
      for (let i = 0; i < 200; i++) await send(kv.namespace, path, { method }, cookieFor(i))
      expect(kv.counts.writes + kv.counts.deletes + kv.counts.lists).toBe(0)
    },
  )

  it.each([
    ['GET', '/test-cookie'],
    ['GET', '/test-cookie/check'],
  ])('%s %s costs no KV operation at all, reads included', async (method, path) => {
    const kv = countingKV(env.SESSIONS)
    for (const cookie of [undefined, 'testcookie=worked', `sessionid=${generateSessionId()}`])
      await send(kv.namespace, path, { method }, cookie)
    expect(kv.counts).toEqual({ reads: 0, writes: 0, deletes: 0, lists: 0 })
  })

  it('the test cookie round trip (setTestCookie(), then testCookieWorked()) needs no server state', async () => {
    const kv = countingKV(env.SESSIONS)
    const set = await send(kv.namespace, '/test-cookie')
    expect(responseCookie(set, 'testcookie')?.value).toBe('worked')
    expect(responseCookie(set, 'sessionid')).toBeUndefined()
    const check = await send(kv.namespace, '/test-cookie/check', {}, 'testcookie=worked')
    expect(await check.json()).toEqual({ worked: true })
    expect(responseCookie(check, 'testcookie')?.attrs['max-age']).toBe('0')
    expect(kv.counts).toEqual({ reads: 0, writes: 0, deletes: 0, lists: 0 })
    expect(await allKeys()).toEqual([])
  })

  it('a random well-formed id costs one read, and that read is of its hash', async () => {
    const kv = countingKV(env.SESSIONS)
    const id = generateSessionId()
    const res = await send(kv.namespace, '/whoami', {}, `sessionid=${id}`)
    expect(await res.json()).toEqual({ user: null })
    expect(kv.counts).toEqual({ reads: 1, writes: 0, deletes: 0, lists: 0 })
    expect(await env.SESSIONS.get(await kvKeyFor(id))).toBeNull()
  })

  it('a malformed id costs no KV operation', async () => {
    const kv = countingKV(env.SESSIONS)
    for (const value of ['..', '', 'A'.repeat(44), '%41'.repeat(43), 'session:abc']) {
      await send(kv.namespace, '/whoami', {}, `sessionid=${value}`)
      await send(kv.namespace, '/logout', { method: 'POST' }, `sessionid=${value}`)
    }
    expect(kv.counts).toEqual({ reads: 0, writes: 0, deletes: 0, lists: 0 })
  })
})

describe('the payload cap', () => {
  it('refuses a session over 64 KiB by default with 413 PAYLOAD_TOO_LARGE naming the limit, and writes nothing', async () => {
    const kv = countingKV(env.SESSIONS)
    const res = await sessionApp()
      .browser({ env: { SESSIONS: kv.namespace } })
      .post('/session', { json: { big: 'x'.repeat(70 * 1024) } })
    expect(res.status).toBe(413)
    const body = (await res.json()) as { error: string; code: string }
    expect(body.code).toBe('PAYLOAD_TOO_LARGE')
    expect(body.error).toMatch(/limit is 65536/)
    expect(setCookies(res)).toEqual([])
    expect(kv.counts.writes).toBe(0)
    expect(await allKeys()).toEqual([])
  })

  it.each([
    [512, 200],
    [2048, 413],
  ])('with maxPayloadBytes: 1024, a %i-byte value answers %i', async (size, status) => {
    const res = await sessionApp({ maxPayloadBytes: 1024 })
      .browser()
      .post('/session', { json: { v: 'x'.repeat(size) } })
    expect(res.status).toBe(status)
    expect((await allKeys()).length).toBe(status === 200 ? 1 : 0)
  })

  it('session.set() refuses an oversized value at once, with PAYLOAD_TOO_LARGE (413)', async () => {
    const h = harness({ maxPayloadBytes: 200 })
    await h.run((s) => s.set('small', 1))
    h.kv.reset()
    const { body } = await h.run(async (s) => {
      try {
        await s.set('big', 'x'.repeat(300))
        return 'accepted'
      } catch (error) {
        const e = error as SessionError
        return {
          isSessionError: e instanceof SessionError,
          code: e.code,
          status: e.status,
          has: await s.has('big'),
        }
      }
    })
    expect(body).toEqual({
      isSessionError: true,
      code: 'PAYLOAD_TOO_LARGE',
      status: 413,
      has: false,
    })
    expect(h.kv.counts.writes).toBe(0)
  })

  it('the cap is checked again on the whole record before the write', async () => {
    // 40 characters pass set()'s per-key estimate (47 bytes) but not the encoded record (~90).
    const h = harness({ maxPayloadBytes: 60 })
    const { res, body } = await h.run(async (s) => {
      await s.set('a', 'x'.repeat(40))
    })
    expect(res.status).toBe(413)
    expect(String(body)).toMatch(/limit is 60/)
    expect(setCookies(res)).toEqual([])
    expect(h.kv.counts.writes).toBe(0)
    expect(await allKeys()).toEqual([])
  })
})

describe('session.set() refuses values JSON cannot carry faithfully', () => {
  class Point {
    x = 1
  }
  const cyclic: Record<string, unknown> = { a: 1 }
  cyclic.self = cyclic
  const sparse = [1, undefined, 3] // a hole: JSON would turn it into null

  const unfaithful: [label: string, value: () => unknown][] = [
    ['a function', () => () => 1],
    ['a BigInt', () => 10n],
    ['a cycle', () => cyclic],
    ['undefined', () => undefined],
    ['a symbol', () => Symbol('s')],
    ['NaN', () => NaN],
    ['Infinity', () => Infinity],
    ['-Infinity', () => -Infinity],
    ['a Date', () => new Date(0)],
    ['a Map', () => new Map([['a', 1]])],
    ['a Set', () => new Set([1])],
    ['a class instance', () => new Point()],
    ['a RegExp', () => /x/],
    ['a Uint8Array', () => new Uint8Array(2)],
    ['a boxed string', () => Object('x') as unknown],
    ['a sparse array', () => sparse],
    ['undefined inside an object', () => ({ a: undefined })],
    ['a function inside an array', () => [1, () => 2]],
    ['a BigInt deep inside', () => ({ a: { b: [{ c: 1n }] } })],
  ]

  it.each(unfaithful)('%s: INVALID_VALUE, and nothing changes', async (_label, make) => {
    const h = harness()
    await h.run((s) => s.set('keep', 'me'))
    h.kv.reset()
    const { res, body } = await h.run(async (s) => {
      try {
        await s.set('v', make() as never)
        return 'accepted'
      } catch (error) {
        const e = error as SessionError
        return {
          isSessionError: e instanceof SessionError,
          code: e.code,
          names: e.message.includes('v'),
          modified: s.modified,
          keys: await s.keys(),
        }
      }
    })
    expect(body).toEqual({
      isSessionError: true,
      code: 'INVALID_VALUE',
      names: true,
      modified: false,
      keys: ['keep'],
    })
    expect(setCookies(res)).toEqual([])
    expect(h.kv.counts.writes).toBe(0)
  })

  it.each([
    ['null', null],
    ['booleans', [true, false]],
    ['numbers', [0, -1.5, 1e300, Number.MAX_SAFE_INTEGER]],
    ['strings', ['', 'ü', '😀', '"quoted";\r\n']],
    ['nested plain objects', { a: { b: { c: [1, { d: 'e' }] } } }],
    [
      'a null-prototype object',
      Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 }),
    ],
  ])('%s round-trip unchanged', async (_label, value) => {
    const h = harness()
    await h.run((s) => s.set('v', value as never))
    const { body } = await h.run(async (s) => s.get('v'))
    expect(body).toEqual(JSON.parse(JSON.stringify(value)))
  })
})

describe('"__proto__" and "constructor" cannot pollute anything', () => {
  it.each(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'])(
    'the key %s is plain data',
    async (key) => {
      const h = harness()
      await h.run((s) => s.set(key, { polluted: true }))
      const { body } = await h.run(async (s) => ({
        value: await s.get(key),
        keys: await s.keys(),
        polluted: (await s.get('polluted')) ?? null,
        global: ({} as Record<string, unknown>).polluted ?? null,
      }))
      expect(body).toEqual({ value: { polluted: true }, keys: [key], polluted: null, global: null })
    },
  )

  it('prototype member names are not session keys, loaded or new', async () => {
    const h = harness()
    const probe = async (s: Session): Promise<unknown> => ({
      has: await Promise.all(
        ['toString', 'constructor', '__proto__', 'valueOf', 'hasOwnProperty'].map((k) => s.has(k)),
      ),
      get: (await s.get('constructor')) ?? null,
    })
    const fresh = await h.run(probe)
    await h.run((s) => s.set('a', 1))
    const loaded = await h.run(probe)
    expect(fresh.body).toEqual({ has: [false, false, false, false, false], get: null })
    expect(loaded.body).toEqual(fresh.body)
  })

  it('a value parsed from hostile JSON comes back on a null prototype at every depth', async () => {
    const h = harness()
    await h.run((s) =>
      s.set(
        'profile',
        JSON.parse(
          '{"__proto__":{"admin":true},"nested":{"constructor":{"prototype":{"admin":true}}}}',
        ) as never,
      ),
    )
    const { body } = await h.run(async (s) => {
      const profile = (await s.get('profile')) as Record<string, Record<string, unknown>>
      const nested = profile.nested as Record<string, unknown>
      return {
        admin: profile.admin ?? null,
        keys: Object.keys(profile),
        nullProto: [
          Object.getPrototypeOf(profile),
          Object.getPrototypeOf(nested),
          Object.getPrototypeOf(nested.constructor),
        ],
        global: ({} as Record<string, unknown>).admin ?? null,
      }
    })
    expect(body).toEqual({
      admin: null,
      keys: ['__proto__', 'nested'],
      nullProto: [null, null, null],
      global: null,
    })
  })

  it('a record planted with "__proto__" and "constructor" keys reads them as data', async () => {
    const id = generateSessionId()
    const planted =
      '{"v":1,"data":{"__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}}},"expiry":null,"expiresAt":' +
      (Date.now() + 86400_000) +
      '}'
    await env.SESSIONS.put(await kvKeyFor(id), planted)
    const h = harness()
    h.clock.now = Date.now()
    h.cookies.set('sessionid', id)
    const { body } = await h.run(async (s) => ({
      keys: await s.keys(),
      admin: (await s.get('admin')) ?? null,
      global: ({} as Record<string, unknown>).admin ?? null,
    }))
    expect(body).toEqual({ keys: ['__proto__', 'constructor'], admin: null, global: null })
  })
})

describe('cookie helpers keep headers unsplittable', () => {
  /** Runs setCookie/deleteCookie in a request; answers the Set-Cookie headers or the error code. */
  async function attempt(
    write: (c: Parameters<typeof setCookie>[0]) => void,
    url = `${ORIGIN}/`,
  ): Promise<{ code?: string; headers: string[] }> {
    const app = new Hono()
    app.get('*', (c) => {
      try {
        write(c)
      } catch (error) {
        return c.json({
          code: error instanceof SessionError ? error.code : `not a SessionError: ${String(error)}`,
        })
      }
      return c.json({})
    })
    const res = await app.request(url)
    const body = (await res.json()) as { code?: string }
    return { ...body, headers: res.headers.getSetCookie() }
  }

  it.each(['a;b', 'a\r\nb', 'a\nb', 'a\rb', 'a b', 'a=b', '', 'a,b', 'a"b', 'ä', 'a\tb'])(
    'refuses the name %j',
    async (name) => {
      const result = await attempt((c) => setCookie(c, name, 'v'))
      expect(result).toEqual({ code: 'INVALID_COOKIE', headers: [] })
    },
  )

  it.each(['a;b', 'a\r\nSet-Cookie: evil=1', 'a\nb', 'a b', 'a,b', '"a"', 'ä'])(
    'encodes the value %j',
    async (value) => {
      const result = await attempt((c) => setCookie(c, 'n', value))
      expect(result.code).toBeUndefined()
      const [header] = result.headers
      const pair = (header ?? '').split(';')[0] as string
      expect(pair).toMatch(/^n=[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/)
      expect(decodeURIComponent(pair.slice(2))).toBe(value)
    },
  )

  it.each<[string, CookieOptions]>([
    ['a path with ";"', { path: '/a;Domain=evil.example' }],
    ['a path with CR LF', { path: '/a\r\nSet-Cookie: evil=1' }],
    ['a path with LF', { path: '/a\nb' }],
    ['a domain with ";"', { domain: 'example.com; Secure' }],
    ['a domain with CR', { domain: 'example.com\rx' }],
    ['an unknown sameSite', { sameSite: 'Lax; Secure' as 'Lax' }],
    ['maxAge and expires together', { maxAge: 1, expires: new Date() }],
    ['an infinite maxAge', { maxAge: Infinity }],
    ['an invalid Date', { expires: new Date(NaN) }],
  ])('refuses %s', async (_label, options) => {
    expect(await attempt((c) => setCookie(c, 'n', 'v', options))).toEqual({
      code: 'INVALID_COOKIE',
      headers: [],
    })
  })

  it.each<[string, Omit<CookieOptions, 'maxAge' | 'expires'>]>([
    ['a path with ";"', { path: '/a;Domain=evil.example' }],
    ['a path with CR LF', { path: '/a\r\nSet-Cookie: evil=1' }],
    ['a domain with ";"', { domain: 'example.com; Secure' }],
  ])('deleteCookie() refuses %s too', async (_label, options) => {
    expect(await attempt((c) => deleteCookie(c, 'n', options))).toEqual({
      code: 'INVALID_COOKIE',
      headers: [],
    })
  })

  it.each<[string, CookieOptions, string]>([
    ['__Host-a', { path: '/x' }, 'a path other than "/"'],
    ['__Host-a', { domain: 'example.com' }, 'a domain'],
    ['__host-a', { path: '/x' }, 'a path, whatever the case of the prefix'],
  ])('refuses %s with %j (%s)', async (name, options) => {
    expect(await attempt((c) => setCookie(c, name, 'v', options))).toEqual({
      code: 'INVALID_COOKIE',
      headers: [],
    })
  })

  it.each<[string, CookieOptions]>([
    ['__Host-a', {}],
    ['__Host-a', { secure: false }],
    ['__Secure-a', {}],
    ['__secure-a', { secure: false }],
  ])('%s with %j is Secure even over http', async (name, options) => {
    const { code, headers } = await attempt(
      (c) => setCookie(c, name, 'v', options),
      'http://example.com/',
    )
    expect(code).toBeUndefined()
    expect(headers).toHaveLength(1)
    expect(headers[0]).toMatch(/; Secure(;|$)/)
    if (/^__host-/i.test(name)) {
      expect(headers[0]).toMatch(/; Path=\/(;|$)/)
      expect(headers[0]).not.toMatch(/Domain=/i)
    }
  })
})

describe('session() cookie options are validated at construction', () => {
  it.each<[SessionOptions, string]>([
    [{ cookieName: '__Host-sid', path: '/app' }, 'path'],
    [{ cookieName: '__Host-sid', domain: 'example.com' }, 'domain'],
    [{ cookieName: '__Host-sid', secure: false }, 'secure'],
    [{ cookieName: '__host-sid', path: '/app' }, 'path'],
    [{ cookieName: '__Secure-sid', secure: false }, 'secure'],
    [{ cookieName: 'a;b' }, 'cookieName'],
    [{ cookieName: 'a\r\nb' }, 'cookieName'],
    [{ cookieName: '' }, 'cookieName'],
    [{ cookieName: 'a b' }, 'cookieName'],
    [{ testCookieName: 'x;y' }, 'testCookieName'],
    [{ path: 'app' }, 'path'],
    [{ path: '/a;Domain=evil.example' }, 'path'],
    [{ path: '/a\r\nb' }, 'path'],
    [{ domain: 'example.com; Secure' }, 'domain'],
    [{ domain: 'example.com\nb' }, 'domain'],
    [{ sameSite: 'None', secure: false }, 'sameSite'],
  ])('session(%j) throws INVALID_OPTION naming "%s"', (options, option) => {
    let thrown: unknown
    try {
      session(options)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(SessionError)
    expect((thrown as SessionError).code).toBe('INVALID_OPTION')
    expect((thrown as SessionError).message).toContain(`"${option}"`)
  })
})

describe('a __Host- session cookie', () => {
  it.each(['http', 'https'])(
    'cookieName "__Host-sessionid" over %s: Secure, Path=/, no Domain, and only that name is read',
    async (scheme) => {
      const app = sessionApp({ cookieName: '__Host-sessionid' })
      const origin = `${scheme}://example.com`
      const login = await app.send(`${origin}/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ user: 'hana' }),
      })
      expect(login.status).toBe(200)
      const cookie = responseCookie(login, '__Host-sessionid')
      expect(cookie?.value).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(cookie?.attrs).toMatchObject({ path: '/', secure: '', httponly: '' })
      expect(cookie?.attrs.domain).toBeUndefined()
      expect(responseCookie(login, 'sessionid')).toBeUndefined()

      const id = cookie?.value as string
      const whoami = async (header: string): Promise<unknown> =>
        (await app.send(`${origin}/whoami`, {}, { cookie: header })).json()
      expect(await whoami(`__Host-sessionid=${id}`)).toEqual({ user: 'hana' })
      expect(await whoami(`sessionid=${id}`)).toEqual({ user: null })
      expect(await whoami(`__host-sessionid=${id}`)).toEqual({ user: null })
    },
  )
})
