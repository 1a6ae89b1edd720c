/**
 * The hostile-input suite: requests an attacker (or a broken client) sends to the demo
 * worker. Every case asserts three things:
 * - a deliberate status, never a 500;
 * - no adoption of a foreign id: a session Set-Cookie, if any, deletes the cookie or
 *   carries a fresh id that appears nowhere in the request;
 * - no data lost for a legitimate session: its id keeps working with its data.
 */
import { SELF, env } from 'cloudflare:test'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createApp } from '../src/app'
import { generateSessionId, kvKeyFor } from '../src/session'
import { json, setCookie, setCookies, UNICODE_SPACES } from './helpers/http'
import { faultyKV, type KVFaults } from './helpers/kv'

const ORIGIN = 'http://example.com'
const ID = /^[A-Za-z0-9_-]{43}$/

afterEach(() => {
  vi.restoreAllMocks()
})

/** A request to the demo worker, as a browser on the same origin would send it. */
function send(path: string, init: RequestInit = {}, cookie?: string): Promise<Response> {
  const headers = new Headers(init.headers)
  if (cookie !== undefined) headers.set('Cookie', cookie)
  return SELF.fetch(`${ORIGIN}${path}`, { ...init, headers })
}

/** A POST of a JSON body (already a string, or serialised here). */
function post(path: string, body: unknown = {}, cookie?: string): Promise<Response> {
  return send(path, json('POST', body), cookie)
}

/** The session id a response hands out, or undefined. */
function issuedId(res: Response): string | undefined {
  const c = setCookie(res, 'sessionid')
  return c && c.value !== '' ? c.value : undefined
}

/** A new legitimate session: logged in as `username`, holding `extra`. */
async function legitimate(
  username: string,
  extra: Record<string, unknown> = { hits: 3 },
): Promise<string> {
  const login = await post('/login', { username })
  expect(login.status).toBe(200)
  const id = issuedId(login)
  expect(id).toMatch(ID)
  const res = await post('/session', extra, `sessionid=${id}`)
  expect(res.status).toBe(200)
  // Modifying an existing session keeps its id.
  expect(issuedId(res)).toBe(id)
  return id as string
}

/** The session's data as the demo reports it. */
async function dataOf(id: string): Promise<Record<string, unknown>> {
  const res = await send('/session', {}, `sessionid=${id}`)
  expect(res.status).toBe(200)
  return ((await res.json()) as { data: Record<string, unknown> }).data
}

/** Asserts the legitimate session still holds exactly `expected`. */
async function expectIntact(id: string, expected: Record<string, unknown>): Promise<void> {
  expect(await dataOf(id)).toEqual(expected)
}

/**
 * No foreign id adopted: every session Set-Cookie deletes the cookie, or carries a
 * well-formed id that is nowhere in the request's Cookie header (except `own`, the
 * caller's legitimate session, which may be refreshed).
 */
function expectNoAdoption(res: Response, cookieHeader: string, own?: string): void {
  for (const c of setCookies(res).filter((s) => s.name === 'sessionid')) {
    if (c.value === '') {
      expect(c.attrs['max-age']).toBe('0')
      continue
    }
    expect(c.value).toMatch(ID)
    if (c.value !== own) expect(cookieHeader).not.toContain(c.value)
  }
}

const HEX = 'a'.repeat(64)

/** Malformed or hostile Cookie headers that carry no usable session. */
const malformed: [label: string, header: () => string][] = [
  ['an empty header', () => ''],
  ['only separators', () => ';;; ; ;'],
  ['the name without "="', () => 'sessionid'],
  ['an empty value', () => 'sessionid='],
  ['empty names', () => '=abc; =; =='],
  ['an empty quoted value', () => 'sessionid=""'],
  ['a lone double quote', () => 'sessionid="'],
  ['a quoted unknown id', () => `sessionid="${generateSessionId()}"`],
  ['a half-quoted id', () => `sessionid="${generateSessionId()}`],
  ['"."', () => 'sessionid=.'],
  ['".."', () => 'sessionid=..'],
  ['a path traversal', () => 'sessionid=../../session:abc'],
  ['a KV key as the cookie', () => `sessionid=session:${HEX}`],
  ['a bare SHA-256 hex', () => `sessionid=${HEX}`],
  ['an over-long id (44 chars)', () => `sessionid=${'A'.repeat(44)}`],
  ['a short id (42 chars)', () => `sessionid=${'A'.repeat(42)}`],
  ['a percent-encoded id', () => `sessionid=${'A'.repeat(42)}%41`],
  ['an all-percent-encoded id', () => `sessionid=${'%41'.repeat(43)}`],
  ['bad percent-encoding', () => 'sessionid=%E0%A4%A'],
  ['an invalid escape', () => 'sessionid=%ZZ%'],
  ['Latin-1 characters', () => `sessionid=${'é'.repeat(43)}`],
  ['a control character', () => `sessionid=${'\x01'.repeat(43)}`],
  ['DEL characters', () => `sessionid=${'A'.repeat(42)}\x7f`],
  ['a space inside the id', () => `sessionid=${'A'.repeat(21)} ${'A'.repeat(21)}`],
  ['a comma-joined pair', () => `sessionid=${generateSessionId()}, other=1`],
  ['"null"', () => 'sessionid=null'],
  ['"__proto__" as value', () => 'sessionid=__proto__'],
  ['"__proto__" and "constructor" as names', () => '__proto__=1; constructor=2; prototype=3'],
  ['two malformed duplicates', () => 'sessionid=..; sessionid=.'],
  [
    'two unknown well-formed ids',
    () => `sessionid=${generateSessionId()}; sessionid=${generateSessionId()}`,
  ],
  ['a forged well-formed id', () => `sessionid=${generateSessionId()}`],
  ['a 64 KiB unrelated cookie', () => `x=${'a'.repeat(65536)}; sessionid=${generateSessionId()}`],
  ['a 200 KiB session cookie', () => `sessionid=${'A'.repeat(200_000)}`],
  [
    '10,000 pairs',
    () => `${Array.from({ length: 10_000 }, (_, i) => `k${i}=v${i}`).join('; ')}; sessionid=..`,
  ],
  [
    '10,000 session-named pairs',
    () => Array.from({ length: 10_000 }, () => `sessionid=${'A'.repeat(42)}`).join('; '),
  ],
]

describe('malformed Cookie headers', () => {
  let alice: string
  const aliceData = { username: 'alice', hits: 3 }

  beforeAll(async () => {
    alice = await legitimate('alice')
  })

  it.each(malformed)('GET /session with %s reads an empty session', async (_label, make) => {
    const header = make()
    const res = await send('/session', {}, header)
    expect(res.status).toBe(200)
    expect(((await res.json()) as { data: unknown }).data).toEqual({})
    expectNoAdoption(res, header)
    // Reading never hands out a session.
    expect(issuedId(res)).toBeUndefined()
    await expectIntact(alice, aliceData)
  })

  it.each(malformed)(
    'POST /session with %s starts a new session under a fresh id',
    async (_label, make) => {
      const header = make()
      const res = await post('/session', { probe: 1 }, header)
      expect(res.status).toBe(200)
      expect(((await res.json()) as { data: unknown }).data).toEqual({ probe: 1 })
      const id = issuedId(res)
      expect(id).toMatch(ID)
      expectNoAdoption(res, header)
      expect(await dataOf(id as string)).toEqual({ probe: 1 })
      await expectIntact(alice, aliceData)
    },
  )

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

describe('duplicate session cookies: the first one wins, never a fallback, never a merge', () => {
  let alice: string
  let bob: string
  const aliceData = { username: 'alice', hits: 3 }
  const bobData = { username: 'bob', hits: 3 }

  beforeAll(async () => {
    alice = await legitimate('alice')
    bob = await legitimate('bob')
  })

  it.each([
    [
      'the legitimate id first, a forged one second',
      () => `sessionid=${alice}; sessionid=${generateSessionId()}`,
      'alice',
    ],
    [
      'a forged id first, the legitimate one second',
      () => `sessionid=${generateSessionId()}; sessionid=${alice}`,
      null,
    ],
    [
      'a malformed first, the legitimate one second',
      () => `sessionid=..; sessionid=${alice}`,
      null,
    ],
    ['an empty first, the legitimate one second', () => `sessionid=; sessionid=${alice}`, null],
    ['alice first, bob second', () => `sessionid=${alice}; sessionid=${bob}`, 'alice'],
    ['bob first, alice second', () => `sessionid=${bob}; sessionid=${alice}`, 'bob'],
    ['the legitimate id under another case of the name', () => `SESSIONID=${alice}`, null],
    ['the legitimate id with spaces around it', () => ` sessionid = ${alice} `, 'alice'],
    ['the legitimate id in double quotes', () => `sessionid="${alice}"`, 'alice'],
  ])('GET /whoami with %s', async (_label, make, expected) => {
    const header = make()
    const res = await send('/whoami', {}, header)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ username: expected })
    expectNoAdoption(res, header)
    await expectIntact(alice, aliceData)
    await expectIntact(bob, bobData)
  })

  it('POST /session with a forged id before the legitimate one writes under a fresh id only', async () => {
    const header = `sessionid=${generateSessionId()}; sessionid=${alice}`
    const res = await post('/session', { probe: 1 }, header)
    expect(res.status).toBe(200)
    expect(((await res.json()) as { data: unknown }).data).toEqual({ probe: 1 })
    expect(issuedId(res)).toMatch(ID)
    expectNoAdoption(res, header)
    await expectIntact(alice, aliceData)
  })

  it('POST /session with alice then bob writes into alice only', async () => {
    const header = `sessionid=${alice}; sessionid=${bob}`
    const res = await post('/session', { probe: 2 }, header)
    expect(res.status).toBe(200)
    expectNoAdoption(res, header, alice)
    await expectIntact(alice, { ...aliceData, probe: 2 })
    await expectIntact(bob, bobData)
    const cleanup = await send('/session/data/probe', { method: 'DELETE' }, `sessionid=${alice}`)
    expect(cleanup.status).toBe(200)
  })
})

describe('Unicode whitespace around a cookie name: another cookie, never trimmed into ours', () => {
  // Cookie tossing: a sibling subdomain sets "\u2000sessionid" (or "\u2000__Host-…", to
  // which browsers apply no prefix rule) with a longer path, so browsers send it first.
  // RFC 6265 §5.2 trims only SP and HTAB; String.prototype.trim() strips these too.
  const LOCALHOST = 'http://localhost:8787'
  let alice: string
  let mallory: string
  let aliceSigned: string
  let mallorySigned: string
  beforeAll(async () => {
    alice = await legitimate('alice')
    mallory = await legitimate('mallory')
    const signed = async (value: string): Promise<string> =>
      setCookie(await SELF.fetch(`${LOCALHOST}/set-signed/?value=${value}`), 'signed')
        ?.value as string
    aliceSigned = await signed('alice')
    mallorySigned = await signed('mallory')
  })

  it.each(UNICODE_SPACES)(
    'with %s, the session, signed and plain cookies are the ones named exactly',
    async (_label, ch) => {
      const header = [
        `${ch}sessionid=${mallory}`,
        `sessionid${ch}=${mallory}`,
        `${ch}signed=${mallorySigned}`,
        `signed${ch}=${mallorySigned}`,
        `${ch}user=Mallory`,
        `sessionid=${alice}`,
        `signed=${aliceSigned}`,
        'user=Raju',
      ].join('; ')
      const whoami = await send('/whoami', {}, header)
      expect(whoami.status).toBe(200)
      expect(await whoami.json()).toEqual({ username: 'alice' })
      expectNoAdoption(whoami, header, alice)
      // On localhost, where the demo signs with its development secret.
      const signed = await SELF.fetch(`${LOCALHOST}/get-signed/`, { headers: { Cookie: header } })
      expect([signed.status, await signed.text()]).toEqual([200, 'alice'])
      const plain = await send('/get-cook/', {}, header)
      expect([plain.status, await plain.text()]).toEqual([200, 'Raju Hey Get Cookie Success'])
    },
  )

  describe('a __Host- session cookie', () => {
    const app = createApp({ cookieName: '__Host-sessionid' })
    const request = async (path: string, init: RequestInit, cookie?: string): Promise<Response> => {
      const headers = new Headers(init.headers)
      if (cookie !== undefined) headers.set('Cookie', cookie)
      return app.request(`https://example.com${path}`, { ...init, headers }, env)
    }
    const hostId = async (username: string): Promise<string> =>
      setCookie(await request('/login', json('POST', { username })), '__Host-sessionid')
        ?.value as string

    it.each(UNICODE_SPACES)(
      'with %s before or after its name is another cookie',
      async (_label, ch) => {
        const [victim, attacker] = [await hostId('victim'), await hostId('attacker')]
        const header = `${ch}__Host-sessionid=${attacker}; __Host-sessionid${ch}=${attacker}; __Host-sessionid=${victim}`
        const res = await request('/whoami', {}, header)
        expect(await res.json()).toEqual({ username: 'victim' })
        const alone = await request('/whoami', {}, `${ch}__Host-sessionid=${attacker}`)
        expect(await alone.json()).toEqual({ username: null })
        expect(alone.headers.getSetCookie()).toEqual([])
      },
    )
  })
})

describe('forged and replayed ids', () => {
  /** Each scenario returns the Cookie header to replay and the session that must survive it. */
  const scenarios: [
    label: string,
    setup: () => Promise<{
      header: string
      survivor?: { id: string; data: Record<string, unknown> }
    }>,
  ][] = [
    ['a forged well-formed id', async () => ({ header: `sessionid=${generateSessionId()}` })],
    [
      'a legitimate id with one character changed',
      async () => {
        const id = await legitimate('carol')
        const flipped = (id[0] === 'A' ? 'B' : 'A') + id.slice(1)
        return {
          header: `sessionid=${flipped}`,
          survivor: { id, data: { username: 'carol', hits: 3 } },
        }
      },
    ],
    [
      'a legitimate id with its case swapped',
      async () => {
        const id = await legitimate('carol')
        const swapped = [...id]
          .map((ch) => (ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase()))
          .join('')
        return {
          header: `sessionid=${swapped}`,
          survivor: { id, data: { username: 'carol', hits: 3 } },
        }
      },
    ],
    [
      "a legitimate id's KV key",
      async () => {
        const id = await legitimate('carol')
        return {
          header: `sessionid=${await kvKeyFor(id)}`,
          survivor: { id, data: { username: 'carol', hits: 3 } },
        }
      },
    ],
    [
      'an id replayed after POST /logout',
      async () => {
        const id = await legitimate('dave')
        expect((await post('/logout', {}, `sessionid=${id}`)).status).toBe(200)
        return { header: `sessionid=${id}` }
      },
    ],
    [
      'an id replayed after POST /session/flush',
      async () => {
        const id = await legitimate('dave')
        expect((await post('/session/flush', {}, `sessionid=${id}`)).status).toBe(200)
        return { header: `sessionid=${id}` }
      },
    ],
    [
      'the old id replayed after POST /session/cycle',
      async () => {
        const id = await legitimate('erin')
        const res = await post('/session/cycle', {}, `sessionid=${id}`)
        expect(res.status).toBe(200)
        const next = issuedId(res)
        expect(next).toMatch(ID)
        expect(next).not.toBe(id)
        return {
          header: `sessionid=${id}`,
          survivor: { id: next as string, data: { username: 'erin', hits: 3 } },
        }
      },
    ],
    [
      'the pre-login id replayed after POST /login',
      async () => {
        const before = await post('/session', { cart: ['book'] })
        const old = issuedId(before) as string
        const res = await post('/login', { username: 'frank' }, `sessionid=${old}`)
        expect(res.status).toBe(200)
        const next = issuedId(res) as string
        expect(next).not.toBe(old)
        return {
          header: `sessionid=${old}`,
          survivor: { id: next, data: { cart: ['book'], username: 'frank' } },
        }
      },
    ],
  ]

  it.each(scenarios)('GET /whoami with %s knows nobody', async (_label, setup) => {
    const { header, survivor } = await setup()
    const res = await send('/whoami', {}, header)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ username: null })
    expectNoAdoption(res, header)
    expect(issuedId(res)).toBeUndefined()
    if (survivor) await expectIntact(survivor.id, survivor.data)
  })

  it.each(scenarios)('POST /session with %s gets a fresh id', async (_label, setup) => {
    const { header, survivor } = await setup()
    const res = await post('/session', { probe: 1 }, header)
    expect(res.status).toBe(200)
    expect(((await res.json()) as { data: unknown }).data).toEqual({ probe: 1 })
    expect(issuedId(res)).toMatch(ID)
    expectNoAdoption(res, header)
    if (survivor) await expectIntact(survivor.id, survivor.data)
  })
})

describe('expired ids', () => {
  const T0 = Date.parse('2026-01-01T00:00:00Z')
  const clock = { now: T0 }
  const app = createApp({ now: () => clock.now, maxAge: 3600 })
  const request = (path: string, init: RequestInit, cookie?: string): Promise<Response> => {
    const headers = new Headers(init.headers)
    if (cookie) headers.set('Cookie', cookie)
    return Promise.resolve(app.request(`${ORIGIN}${path}`, { ...init, headers }, env))
  }

  it.each([
    ['at the end of maxAge', {}, 3600],
    ['a day past maxAge', {}, 3600 + 86400],
    ['at the end of a setExpiry(120)', { seconds: 120 }, 120],
    ['at the end of a setExpiry(60)', { seconds: 60 }, 60],
  ])('an id %s is neither read nor adopted', async (_label, expiry, after) => {
    clock.now = T0
    const login = await request('/login', json('POST', { username: 'grace' }))
    const id = issuedId(login) as string
    if ('seconds' in expiry)
      expect(
        (await request('/session/expiry', json('POST', expiry), `sessionid=${id}`)).status,
      ).toBe(200)
    clock.now = T0 + (Math.min(after, 3600) - 1) * 1000
    const before = await request('/whoami', {}, `sessionid=${id}`)
    expect(await before.json()).toEqual({ username: 'grace' })

    clock.now = T0 + after * 1000
    const read = await request('/whoami', {}, `sessionid=${id}`)
    expect(read.status).toBe(200)
    expect(await read.json()).toEqual({ username: null })
    expectNoAdoption(read, `sessionid=${id}`)

    const write = await request('/session', json('POST', { probe: 1 }), `sessionid=${id}`)
    expect(write.status).toBe(200)
    expect(((await write.json()) as { data: unknown }).data).toEqual({ probe: 1 })
    expect(issuedId(write)).toMatch(ID)
    expectNoAdoption(write, `sessionid=${id}`)
  })
})

describe('session fixation: an id planted before login is worthless after it', () => {
  it.each([
    ['a forged well-formed id', async () => generateSessionId()],
    [
      "the attacker's own live session",
      async () => {
        const res = await post('/session', { planted: true })
        return issuedId(res) as string
      },
    ],
  ])(
    'POST /login with %s issues a new id, and the planted one stays anonymous',
    async (_label, plant) => {
      const planted = await plant()
      const header = `sessionid=${planted}`
      const res = await post('/login', { username: 'victim' }, header)
      expect(res.status).toBe(200)
      const id = issuedId(res)
      expect(id).toMatch(ID)
      expectNoAdoption(res, header)
      expect(await (await send('/whoami', {}, header)).json()).toEqual({ username: null })
      expect(await (await send('/whoami', {}, `sessionid=${id}`)).json()).toEqual({
        username: 'victim',
      })
      // The planted id's record, if it had one, is gone: it cannot be used to watch the victim.
      expect(await env.SESSIONS.get(await kvKeyFor(planted))).toBeNull()
    },
  )

  it("POST /login with a planted id before the victim's own issues an id that is neither", async () => {
    const own = await legitimate('victim2')
    const header = `sessionid=${generateSessionId()}; sessionid=${own}`
    const res = await post('/login', { username: 'victim2' }, header)
    expect(res.status).toBe(200)
    expect(issuedId(res)).toMatch(ID)
    expectNoAdoption(res, header)
    await expectIntact(own, { username: 'victim2', hits: 3 })
  })

  it('POST /login with a malformed planted id issues a fresh id', async () => {
    const header = 'sessionid=../../planted'
    const res = await post('/login', { username: 'victim3' }, header)
    expect(res.status).toBe(200)
    expect(issuedId(res)).toMatch(ID)
    expectNoAdoption(res, header)
  })
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

  it.each([
    ['"__proto__"', '{"__proto__":{"polluted":"yes"}}', '__proto__'],
    ['"constructor"', '{"constructor":{"prototype":{"polluted":"yes"}}}', 'constructor'],
    ['a nested "__proto__"', '{"n":{"__proto__":{"polluted":"yes"}}}', 'n'],
  ])('a %s key is stored as plain data and pollutes nothing', async (_label, body, key) => {
    const id = await legitimate('ivan')
    const res = await send(
      '/session',
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body },
      `sessionid=${id}`,
    )
    expect(res.status).toBe(200)
    const data = await dataOf(id)
    expect(Object.hasOwn(data, key)).toBe(true)
    expect(data.username).toBe('ivan')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined()
    // Nothing became an accessor of the session: other keys still read normally.
    expect(await (await send('/whoami', {}, `sessionid=${id}`)).json()).toEqual({
      username: 'ivan',
    })
    const del = await send(
      `/session/data/${encodeURIComponent(key)}`,
      { method: 'DELETE' },
      `sessionid=${id}`,
    )
    expect(del.status).toBe(200)
    await expectIntact(id, { username: 'ivan', hits: 3 })
  })
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

describe('KV faults seen over HTTP', () => {
  const app = createApp()
  const faulty = faultyKV(env.SESSIONS)
  const request = (path: string, init: RequestInit, cookie: string): Promise<Response> => {
    const headers = new Headers(init.headers)
    headers.set('Cookie', cookie)
    // The same deployment (its USERS binding included), with a faulty SESSIONS namespace.
    return Promise.resolve(
      app.request(`${ORIGIN}${path}`, { ...init, headers }, { ...env, SESSIONS: faulty.namespace }),
    )
  }
  const tooMany = (): Error => new Error('KV PUT failed: 429 Too Many Requests')

  const cases: [
    label: string,
    faults: KVFaults,
    method: string,
    path: string,
    body: unknown,
    status: number,
  ][] = [
    ['a failed read', { read: true }, 'GET', '/session', undefined, 503],
    ['a failed read', { read: true }, 'GET', '/whoami', undefined, 503],
    ['a failed read', { read: true }, 'GET', '/session-hit/', undefined, 503],
    ['a failed read', { read: true }, 'POST', '/login', { username: 'x' }, 503],
    ['a failed read', { read: true }, 'POST', '/session', { probe: 1 }, 503],
    ['a failed read', { read: true }, 'GET', '/test/', undefined, 200],
    ['a failed read', { read: true }, 'GET', '/check/', undefined, 200],
    ['a failed write', { write: true }, 'POST', '/session', { probe: 1 }, 503],
    ['a 429 on write', { write: true, error: tooMany }, 'POST', '/session', { probe: 1 }, 503],
    ['a 429 on write', { write: true, error: tooMany }, 'GET', '/session-hit/', undefined, 503],
    ['a failed write', { write: true }, 'POST', '/login', { username: 'x' }, 503],
    ['a failed write', { write: true }, 'POST', '/session/cycle', {}, 503],
    ['a failed write', { write: true }, 'POST', '/session/expiry', { seconds: 600 }, 503],
  ]

  it.each(cases)(
    '%s (%o) on %s %s answers its deliberate status, keeps the cookie and loses nothing',
    async (_label, faults, method, path, body, status) => {
      vi.spyOn(console, 'warn').mockImplementation(() => undefined)
      const id = await legitimate('kim')
      const header = `sessionid=${id}`
      Object.assign(
        faulty.faults,
        { read: false, write: false, delete: false, error: undefined },
        faults,
      )
      let res: Response
      try {
        res = await request(path, body === undefined ? { method } : json(method, body), header)
      } finally {
        Object.assign(faulty.faults, { read: false, write: false, delete: false, error: undefined })
      }
      expect(res.status).toBe(status)
      const text = await res.text()
      expect(text).not.toMatch(/simulated|429|Too Many|\bat \S+ \(|Error:/)
      if (status === 503) {
        expect(res.headers.get('Retry-After')).toBe('1')
        expect(setCookie(res, 'sessionid')).toBeUndefined()
      }
      expectNoAdoption(res, header, id)
      await expectIntact(id, { username: 'kim', hits: 3 })
    },
  )

  it('a failed delete on POST /logout still clears the cookie', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const id = await legitimate('kim')
    faulty.faults.delete = true
    let res: Response
    try {
      res = await request('/logout', { method: 'POST' }, `sessionid=${id}`)
    } finally {
      faulty.faults.delete = false
    }
    expect(res.status).toBe(200)
    const cleared = setCookie(res, 'sessionid')
    expect(cleared?.value).toBe('')
    expect(cleared?.attrs['max-age']).toBe('0')
  })
})
