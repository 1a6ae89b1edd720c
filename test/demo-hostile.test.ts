/**
 * The hostile-input suite of the demo: requests an attacker (or a broken client) sends
 * to the demo worker's own routes (its tutorial's cookies, its JSON playground's bodies,
 * its forms, its same-origin guard). Every case asserts the three things of
 * helpers/hostile.ts: a deliberate status, no adoption of a foreign id, no data lost for
 * a legitimate session.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { demoTarget } from './helpers/demo'
import { expectNoAdoption, ID, issuedId } from './helpers/hostile'
import { setCookie } from './helpers/http'

const ORIGIN = 'http://example.com'

afterEach(() => {
  vi.restoreAllMocks()
})

/** The demo worker (SELF), as a browser on the same origin would reach it. */
const { send, legitimate, dataOf, expectIntact } = demoTarget()

describe("the tutorial's plain cookies", () => {
  it.each([
    ['a non-numeric hit cookie', 'hit=abc'],
    ['a negative hit cookie', 'hit=-3'],
    ['an exponent', 'hit=1e3'],
    ['a 20-digit number', `hit=${'9'.repeat(20)}`],
    ['a percent-encoded NUL', 'hit=%00'],
  ])('GET /hit/ with %s counts from 1', async (_label, header) => {
    const res = await send('/hit/', {}, header)
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('Visit number 1')
    expect(setCookie(res, 'hit')?.value).toBe('1')
  })

  it.each([
    ['bad percent-encoding', 200, 'user=%E0%A4%A'],
    ['a control character', 400, 'user=a\x01b'],
    ['markup', 200, 'user=%3Cscript%3Ealert(1)%3C%2Fscript%3E'],
  ])(
    'GET /get-cook/ with %s answers %i and escapes what it echoes',
    async (_label, status, header) => {
      const res = await send('/get-cook/', {}, header)
      expect(res.status).toBe(status)
      expect(await res.text()).not.toContain('<script>')
    },
  )
})

describe('oversized and malicious JSON bodies', () => {
  const nested = (depth: number): string => `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`
  const nestedObjects = (depth: number): string =>
    `{"a":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`
  const manyKeys = (n: number): string =>
    `{${Array.from({ length: n }, (_, i) => `"k${String(i).padStart(5, '0')}":"${'x'.repeat(10)}"`).join(',')}}`

  /** [label, method, path, body, status]: each runs against a fresh legitimate session. */
  const bodies: [
    label: string,
    method: string,
    path: string,
    body: string | Uint8Array,
    status: number,
  ][] = [
    ['text that is not JSON', 'POST', '/session', 'abc', 400],
    ['an empty body', 'POST', '/session', '', 400],
    ['a JSON array', 'POST', '/session', '[1,2]', 400],
    ['a JSON string', 'POST', '/session', '"x"', 400],
    ['JSON null', 'POST', '/session', 'null', 400],
    ['truncated JSON', 'POST', '/session', '{"a":', 400],
    ['a number JSON cannot hold (1e400)', 'POST', '/session', '{"a":1e400}', 400],
    ['a nested -1e400', 'POST', '/session', '{"a":{"b":[-1e400]}}', 400],
    ['a body over 128 KiB', 'POST', '/session', JSON.stringify({ a: 'x'.repeat(140 * 1024) }), 413],
    [
      'a value over the 64 KiB session cap',
      'POST',
      '/session',
      JSON.stringify({ a: 'x'.repeat(100 * 1024) }),
      413,
    ],
    ['6,000 small keys over the cap', 'POST', '/session', manyKeys(6000), 413],
    ['moderately nested arrays (depth 50)', 'POST', '/session', nested(50), 200],
    // The limit: at most 100 arrays or objects around any part of a value.
    [
      '101 empty arrays (100 around the innermost: at the limit)',
      'POST',
      '/session',
      nested(101),
      200,
    ],
    ['100 objects around a number (at the limit)', 'POST', '/session', nestedObjects(100), 200],
    ['102 empty arrays (one past the limit)', 'POST', '/session', nested(102), 400],
    [
      '101 objects around a number (one past the limit)',
      'POST',
      '/session',
      nestedObjects(101),
      400,
    ],
    ['duplicate keys', 'POST', '/session', '{"d":1,"d":2}', 200],
    [
      'invalid UTF-8 bytes',
      'POST',
      '/session',
      new Uint8Array([0x7b, 0x22, 0x75, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      200,
    ],
    ['a lone surrogate', 'POST', '/session', '{"s":"\\ud800"}', 200],
    ['a login without a username', 'POST', '/login', '{}', 400],
    ['a numeric username', 'POST', '/login', '{"username":12}', 400],
    ['an object username', 'POST', '/login', '{"username":{"toString":"x"}}', 400],
    ['a blank username', 'POST', '/login', '{"username":"   "}', 400],
    [
      'a 151-character username',
      'POST',
      '/login',
      JSON.stringify({ username: 'u'.repeat(151) }),
      400,
    ],
    ['a string expiry', 'POST', '/session/expiry', '{"seconds":"60"}', 400],
    ['a negative expiry', 'POST', '/session/expiry', '{"seconds":-1}', 400],
    ['an infinite expiry (1e400)', 'POST', '/session/expiry', '{"seconds":1e400}', 400],
    ['an expiry past the year 275760 (1e15 s)', 'POST', '/session/expiry', '{"seconds":1e15}', 400],
    ['an expiry past 400 days', 'POST', '/session/expiry', `{"seconds":${400 * 86400 + 1}}`, 400],
    ['an expiry without seconds', 'POST', '/session/expiry', '{}', 400],
  ]

  it.each(bodies)(
    '%s to %s %s answers its deliberate status',
    async (_label, method, path, body, status) => {
      const id = await legitimate('heidi')
      const header = `sessionid=${id}`
      const res = await send(
        path,
        { method, headers: { 'Content-Type': 'application/json' }, body },
        header,
      )
      expect(res.status).toBe(status)
      const text = await res.text()
      expect(text).not.toMatch(/\bat \S+ \(|RangeError|TypeError/)
      expectNoAdoption(res, header, id)
      if (status >= 400) {
        // A refused request writes nothing: no cookie, the session exactly as it was.
        expect(setCookie(res, 'sessionid')).toBeUndefined()
        await expectIntact(id, { username: 'heidi', hits: 3 })
      } else {
        expect(await dataOf(id)).toMatchObject({ username: 'heidi', hits: 3 })
      }
    },
  )
})

describe('malformed multipart/form-data on the form routes', () => {
  const part = (name: string, value: string): string =>
    `--XB\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`
  /** [label, Content-Type, body]: what a broken client or an attacker sends. */
  const bodies: [label: string, contentType: string, body: (field: string) => string][] = [
    ['no boundary', 'multipart/form-data', (f) => `${part(f, 'x')}--XB--\r\n`],
    ['an empty boundary', 'multipart/form-data; boundary=', (f) => `${part(f, 'x')}--XB--\r\n`],
    [
      'an empty quoted boundary',
      'multipart/form-data; boundary=""',
      (f) => `${part(f, 'x')}--XB--\r\n`,
    ],
    ['a urlencoded body', 'multipart/form-data; boundary=XB', (f) => `${f}=x`],
    ['an empty body', 'multipart/form-data; boundary=XB', () => ''],
    ['a truncated body', 'multipart/form-data; boundary=XB', (f) => part(f, 'x').slice(0, -6)],
    ['no closing boundary', 'multipart/form-data; boundary=XB', (f) => part(f, 'x')],
    [
      'a part without headers',
      'multipart/form-data; boundary=XB',
      () => '--XB\r\n\r\nx\r\n--XB--\r\n',
    ],
  ]
  const routes: [path: string, field: string][] = [
    ['/form/set', 'key'],
    ['/form/delete', 'key'],
    ['/form/expiry', 'seconds'],
    ['/form/login', 'username'],
  ]
  const cases = routes.flatMap(([path, field]) =>
    bodies.map(([label, type, body]) => [path, label, type, body(field)] as const),
  )

  let victim: string
  beforeAll(async () => {
    victim = await legitimate('mia')
  })

  it.each(cases)(
    'POST %s with %s re-renders the page with 400 and changes nothing',
    async (path, _label, contentType, body) => {
      const header = `sessionid=${victim}`
      const res = await send(
        path,
        { method: 'POST', headers: { 'Content-Type': contentType }, body },
        header,
      )
      expect(res.status).toBe(400)
      expect(res.headers.get('Content-Type')).toMatch(/^text\/html/)
      const text = await res.text()
      expect(text).toContain('<strong>That did not work:</strong> The form could not be read')
      expect(text).toContain('<form method="post" action="/form/set"')
      expect(text).not.toMatch(/TypeError|\bat \S+ \(/)
      expect(setCookie(res, 'sessionid')).toBeUndefined()
      await expectIntact(victim, { username: 'mia', hits: 3 })
    },
  )

  it('a well-formed multipart form still works (303)', async () => {
    const res = await send('/form/set', {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/form-data; boundary=XB' },
      body: `${part('key', 'k')}${part('value', 'v')}--XB--\r\n`,
      redirect: 'manual',
    })
    expect(res.status).toBe(303)
    // The key, and the flash message saying so, waiting for the page.
    expect(await dataOf(issuedId(res) as string)).toEqual({
      k: 'v',
      _messages: [{ level: 25, message: 'Key k set' }],
    })
  })
})

describe('cross-site POST and DELETE', () => {
  const routes: [method: string, path: string][] = [
    ['POST', '/session'],
    ['POST', '/login'],
    ['POST', '/logout'],
    ['POST', '/session/flush'],
    ['POST', '/session/cycle'],
    ['POST', '/session/expiry'],
    ['DELETE', '/session/data/hits'],
  ]
  const attackers: [label: string, headers: Record<string, string>][] = [
    ['a foreign Origin', { Origin: 'https://evil.example' }],
    ['Origin "null"', { Origin: 'null' }],
    ['a look-alike Origin', { Origin: 'http://example.com.evil.example' }],
    ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site', { 'Sec-Fetch-Site': 'same-site' }],
  ]
  const cases = routes.flatMap(([method, path]) =>
    attackers.map(([label, headers]) => [method, path, label, headers] as const),
  )

  let victim: string
  beforeAll(async () => {
    victim = await legitimate('judy')
  })

  it.each(cases)(
    '%s %s with %s is refused (403) and changes nothing',
    async (method, path, _label, headers) => {
      const body =
        path === '/login'
          ? { username: 'mallory' }
          : path === '/session/expiry'
            ? { seconds: 1 }
            : { hits: 999 }
      const res = await send(
        path,
        {
          method,
          headers: { 'Content-Type': 'application/json', ...headers },
          body: JSON.stringify(body),
        },
        `sessionid=${victim}`,
      )
      expect(res.status).toBe(403)
      expect(setCookie(res, 'sessionid')).toBeUndefined()
      await expectIntact(victim, { username: 'judy', hits: 3 })
    },
  )

  it('a same-origin POST with Origin and Sec-Fetch-Site passes', async () => {
    const res = await send('/session', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Origin: ORIGIN,
        'Sec-Fetch-Site': 'same-origin',
      },
      body: '{"ok":1}',
    })
    expect(res.status).toBe(200)
    expect(issuedId(res)).toMatch(ID)
  })
})
