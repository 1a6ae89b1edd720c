/**
 * The hostile-input suite of the library: requests an attacker (or a broken client) sends
 * to a small app of the library's own, with Cookie headers the test writes. Every case
 * asserts the three things of helpers/hostile.ts: a deliberate status, no adoption of a
 * foreign id, no data lost for a legitimate session.
 */
import { env } from 'cloudflare:test'
import { Hono } from 'hono'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { timestampSigner, getCookie, getSignedCookie, setSignedCookie } from '../src/session'
import { generateSessionId } from '../src/session/store'
import { kvKeyFor } from '../src/session/stores/kv'
import { sessionApp } from './helpers/app'
import { expectNoAdoption, ID, issuedId, target } from './helpers/hostile'
import { setCookie, UNICODE_SPACES } from './helpers/http'

afterEach(() => {
  vi.restoreAllMocks()
})

// session()'s defaults: the KV store bound as SESSIONS.
const app = sessionApp()
const { send, post, legitimate, dataOf, expectIntact } = target(
  (path, init, cookie) => app.send(path, init, { cookie }),
  { login: (username) => ({ user: username }), keepName: true },
)

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
    expect(await res.json()).toEqual({ user: expected })
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
    const cleanup = await send('/session/probe', { method: 'DELETE' }, `sessionid=${alice}`)
    expect(cleanup.status).toBe(200)
  })
})

describe('Unicode whitespace around a cookie name: another cookie, never trimmed into ours', () => {
  // Cookie tossing: a sibling subdomain sets "\u2000sessionid" (or "\u2000__Host-…", to
  // which browsers apply no prefix rule) with a longer path, so browsers send it first.
  // RFC 6265 §5.2 trims only SP and HTAB; String.prototype.trim() strips these too.
  // The library's readers of a signed cookie (salt "hostile") and of a plain one.
  const signer = timestampSigner({ secret: 'edge-session hostile test secret, 32+ bytes long' })
  const readers = new Hono()
  readers.get('/signed/set', async (c) => {
    await setSignedCookie(c, 'signed', c.req.query('value') ?? '', { signer, salt: 'hostile' })
    return c.body(null, 204)
  })
  readers.get('/signed', async (c) =>
    c.text((await getSignedCookie(c, 'signed', { signer, salt: 'hostile' })) ?? 'missing'),
  )
  readers.get('/plain', (c) => c.text(getCookie(c, 'user') ?? 'missing'))
  const read = (path: string, cookie: string): Promise<Response> =>
    Promise.resolve(readers.request(path, { headers: { Cookie: cookie } }))

  let alice: string
  let mallory: string
  let aliceSigned: string
  let mallorySigned: string
  beforeAll(async () => {
    alice = await legitimate('alice')
    mallory = await legitimate('mallory')
    const signed = async (value: string): Promise<string> =>
      setCookie(await readers.request(`/signed/set?value=${value}`), 'signed')?.value as string
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
      expect(await whoami.json()).toEqual({ user: 'alice' })
      expectNoAdoption(whoami, header, alice)
      const signed = await read('/signed', header)
      expect([signed.status, await signed.text()]).toEqual([200, 'alice'])
      const plain = await read('/plain', header)
      expect([plain.status, await plain.text()]).toEqual([200, 'Raju'])
    },
  )

  describe('a __Host- session cookie', () => {
    const host = sessionApp({ cookieName: '__Host-sessionid' })
    const request = (path: string, init: RequestInit, cookie?: string): Promise<Response> =>
      host.send(`https://example.com${path}`, init, { cookie })
    const hostId = async (user: string): Promise<string> =>
      setCookie(
        await request('/login', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ user }),
        }),
        '__Host-sessionid',
      )?.value as string

    it.each(UNICODE_SPACES)(
      'with %s before or after its name is another cookie',
      async (_label, ch) => {
        const [victim, attacker] = [await hostId('victim'), await hostId('attacker')]
        const header = `${ch}__Host-sessionid=${attacker}; __Host-sessionid${ch}=${attacker}; __Host-sessionid=${victim}`
        const res = await request('/whoami', {}, header)
        expect(await res.json()).toEqual({ user: 'victim' })
        const alone = await request('/whoami', {}, `${ch}__Host-sessionid=${attacker}`)
        expect(await alone.json()).toEqual({ user: null })
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
      'an id replayed after POST /clear (clear() of a logged-in session)',
      async () => {
        const id = await legitimate('dave')
        expect((await send('/clear', { method: 'POST' }, `sessionid=${id}`)).status).toBe(200)
        return { header: `sessionid=${id}` }
      },
    ],
    [
      'the old id replayed after POST /cycle',
      async () => {
        const id = await legitimate('erin')
        const res = await post('/cycle', {}, `sessionid=${id}`)
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
        const res = await post('/login', { user: 'frank' }, `sessionid=${old}`)
        expect(res.status).toBe(200)
        const next = issuedId(res) as string
        expect(next).not.toBe(old)
        return {
          header: `sessionid=${old}`,
          survivor: { id: next, data: { cart: ['book'] } },
        }
      },
    ],
  ]

  it.each(scenarios)('GET /whoami with %s knows nobody', async (_label, setup) => {
    const { header, survivor } = await setup()
    const res = await send('/whoami', {}, header)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ user: null })
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
  const clocked = sessionApp({ now: () => clock.now, maxAge: 3600 })
  const request = (path: string, init: RequestInit, cookie?: string): Promise<Response> =>
    clocked.send(path, init, { cookie })
  const json = (body: unknown): RequestInit => ({
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })

  it.each([
    ['at the end of maxAge', {}, 3600],
    ['a day past maxAge', {}, 3600 + 86400],
    ['at the end of a setExpiry(120)', { seconds: 120 }, 120],
    ['at the end of a setExpiry(60)', { seconds: 60 }, 60],
  ])('an id %s is neither read nor adopted', async (_label, expiry, after) => {
    clock.now = T0
    const login = await request('/login', json({ user: 'grace' }))
    const id = issuedId(login) as string
    if ('seconds' in expiry)
      expect((await request('/expiry', json(expiry), `sessionid=${id}`)).status).toBe(200)
    clock.now = T0 + (Math.min(after, 3600) - 1) * 1000
    const before = await request('/whoami', {}, `sessionid=${id}`)
    expect(await before.json()).toEqual({ user: 'grace' })

    clock.now = T0 + after * 1000
    const read = await request('/whoami', {}, `sessionid=${id}`)
    expect(read.status).toBe(200)
    expect(await read.json()).toEqual({ user: null })
    expectNoAdoption(read, `sessionid=${id}`)

    const write = await request('/session', json({ probe: 1 }), `sessionid=${id}`)
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
      const res = await post('/login', { user: 'victim' }, header)
      expect(res.status).toBe(200)
      const id = issuedId(res)
      expect(id).toMatch(ID)
      expectNoAdoption(res, header)
      expect(await (await send('/whoami', {}, header)).json()).toEqual({ user: null })
      expect(await (await send('/whoami', {}, `sessionid=${id}`)).json()).toEqual({
        user: 'victim',
      })
      // The planted id's record, if it had one, is gone: it cannot be used to watch the victim.
      expect(await env.SESSIONS.get(await kvKeyFor(planted))).toBeNull()
    },
  )

  it("POST /login with a planted id before the victim's own issues an id that is neither", async () => {
    const own = await legitimate('victim2')
    const header = `sessionid=${generateSessionId()}; sessionid=${own}`
    const res = await post('/login', { user: 'victim2' }, header)
    expect(res.status).toBe(200)
    expect(issuedId(res)).toMatch(ID)
    expectNoAdoption(res, header)
    await expectIntact(own, { username: 'victim2', hits: 3 })
  })

  it('POST /login with a malformed planted id issues a fresh id', async () => {
    const header = 'sessionid=../../planted'
    const res = await post('/login', { user: 'victim3' }, header)
    expect(res.status).toBe(200)
    expect(issuedId(res)).toMatch(ID)
    expectNoAdoption(res, header)
  })
})

describe('"__proto__" and "constructor" keys sent as JSON', () => {
  it.each([
    ['"__proto__"', '{"__proto__":{"polluted":"yes"}}', '__proto__'],
    ['"constructor"', '{"constructor":{"prototype":{"polluted":"yes"}}}', 'constructor'],
    ['nested "__proto__"', '{"n":{"__proto__":{"polluted":"yes"}}}', 'n'],
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
      user: 'ivan',
    })
    const del = await send(
      `/session/${encodeURIComponent(key)}`,
      { method: 'DELETE' },
      `sessionid=${id}`,
    )
    expect(del.status).toBe(200)
    await expectIntact(id, { username: 'ivan', hits: 3 })
  })
})
