/**
 * KV operations and Set-Cookie headers per request, through a small app of the library's
 * own in workerd, with a counting wrapper around the real KV binding: the floor of issue
 * 5's table.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { generateSessionId } from '../src/session/store'
import { sessionApp } from './helpers/app'
import { expectSetCookies, setCookies, type SetCookieExpectation } from './helpers/http'
import { clearKV, countingKV, type KVCounts } from './helpers/kv'
import { harness, type Step } from './helpers/harness'

// One wrapper for the whole file: the default store is made once per namespace object,
// exactly as it is for the real binding in production.
const kv = countingKV(env.SESSIONS)
// session()'s defaults: the KV store bound as SESSIONS, here the counting wrapper.
const app = sessionApp()
const bindings = { SESSIONS: kv.namespace }

/** A request of a browser sending `cookie` (a whole Cookie header), on the counted KV. */
const send = (path: string, init: RequestInit, cookie: string | undefined): Promise<Response> =>
  app.send(path, init, { cookie, env: bindings })

/** What the client sends as its session cookie. */
type CookieKind = 'none' | 'valid' | 'forged' | 'unknown'
/** What the response may carry. */

interface Row {
  scenario: string
  method: 'GET' | 'POST'
  path: string
  cookie: CookieKind
  /** reads / writes / deletes as the issue writes them: `N` exactly, `≤N` at most. */
  floor: string
  setCookie: SetCookieExpectation
}

/**
 * Issue 5's table, row by row, mapped onto the app's routes, with issue 13's price for
 * refusing to bring back a session a concurrent request destroyed: a save of a loaded
 * session reads its revocation marker after writing (one more read), and a destroy
 * writes the marker before deleting (one more write).
 */
const table: Row[] = [
  // /untouched never touches the session.
  {
    scenario: 'no cookie, handler never touches the session',
    method: 'GET',
    path: '/untouched',
    cookie: 'none',
    floor: '0 / 0 / 0',
    setCookie: 'none',
  },
  {
    scenario: 'valid cookie, handler never touches the session',
    method: 'GET',
    path: '/untouched',
    cookie: 'valid',
    floor: '0 / 0 / 0',
    setCookie: 'none',
  },
  // /whoami only reads the user.
  {
    scenario: 'no cookie, handler only reads',
    method: 'GET',
    path: '/whoami',
    cookie: 'none',
    floor: '0 / 0 / 0',
    setCookie: 'none',
  },
  {
    scenario: 'valid cookie, handler reads',
    method: 'GET',
    path: '/whoami',
    cookie: 'valid',
    floor: '1 / 0 / 0',
    setCookie: 'none',
  },
  // /hit reads `hits` and writes it back incremented.
  {
    scenario: 'valid cookie, handler writes',
    method: 'GET',
    path: '/hit',
    cookie: 'valid',
    floor: '2 / 1 / 0',
    setCookie: 'one',
  },
  {
    scenario: 'no cookie, handler writes',
    method: 'GET',
    path: '/hit',
    cookie: 'none',
    floor: '0 / 1 / 0',
    setCookie: 'one',
  },
  {
    scenario: 'cycleKey()',
    method: 'POST',
    path: '/cycle',
    cookie: 'valid',
    floor: '2 / 2 / 1',
    setCookie: 'one',
  },
  {
    scenario: 'flush()',
    method: 'POST',
    path: '/logout',
    cookie: 'valid',
    floor: '≤1 / 1 / 1',
    setCookie: 'deletion',
  },
  // "forged or unknown id": a malformed id never reaches KV; a well-formed unknown one costs the one read.
  {
    scenario: 'forged id, read',
    method: 'GET',
    path: '/whoami',
    cookie: 'forged',
    floor: '0 / 0 / 0',
    setCookie: 'at most the deletion',
  },
  {
    scenario: 'unknown id, read',
    method: 'GET',
    path: '/whoami',
    cookie: 'unknown',
    floor: '1 / 0 / 0',
    setCookie: 'at most the deletion',
  },
]

/** Checks one count against `N` (exactly) or `≤N` (at most). */
function expectCount(actual: number, bound: string, what: string): void {
  const n = Number(bound.replace('≤', ''))
  if (bound.startsWith('≤')) expect(actual, what).toBeLessThanOrEqual(n)
  else expect(actual, what).toBe(n)
}

/** Creates a stored session (outside the count) and returns its cookie pair. */
async function storedSession(): Promise<string> {
  const res = await send('/hit', {}, undefined)
  const cookie = setCookies(res).find((c) => c.name === 'sessionid')
  if (!cookie) throw new Error('no session cookie from /hit')
  return `sessionid=${cookie.value}`
}

async function cookieFor(kind: CookieKind): Promise<string | undefined> {
  switch (kind) {
    case 'none':
      return undefined
    case 'valid':
      return storedSession()
    case 'forged':
      return 'sessionid=../../forged%00value'
    case 'unknown':
      return `sessionid=${generateSessionId()}`
  }
}

beforeEach(async () => {
  await clearKV(env.SESSIONS)
  kv.reset()
})

describe('KV operations per request (issues 5 and 13)', () => {
  it.each(table)('$scenario: $floor, Set-Cookie: $setCookie', async (row) => {
    const sent = await cookieFor(row.cookie)
    kv.reset()

    const res = await send(
      row.path,
      { method: row.method },
      [sent, 'user=Raju'].filter(Boolean).join('; '),
    )
    await res.arrayBuffer()

    expect(res.status).toBe(200)
    const counts: KVCounts = { ...kv.counts }
    const [reads = '', writes = '', deletes = ''] = row.floor.split(' / ')
    expectCount(counts.reads, reads, 'reads')
    expectCount(counts.writes, writes, 'writes')
    expectCount(counts.deletes, deletes, 'deletes')
    expect(counts.lists, 'lists').toBe(0)

    const issued = expectSetCookies(res, row.setCookie)
    if (issued !== undefined) {
      // The new cookie names a session that is really stored.
      const stored = await send('/session', {}, `sessionid=${issued}`)
      expect(await stored.json()).toMatchObject({ data: { hits: expect.any(Number) } })
    }
  })

  it('reads a session once however often the handler uses it', async () => {
    const h = harness()
    await h.run(async (s) => s.set('hits', 1))
    h.kv.reset()
    const { res, body } = await h.run(async (s) => [
      await s.toObject(),
      await s.getExpiryAge(),
      (await s.getExpiryDate()).getTime() > 0,
      await s.getExpireAtBrowserClose(),
      await s.get('hits'),
    ])
    expect(res.status).toBe(200)
    expect(body).toEqual([{ hits: 1 }, 1_209_600, true, false, 1])
    expect(h.kv.counts).toMatchObject({ reads: 1, writes: 0, deletes: 0 })
    expect(setCookies(res)).toEqual([])
  })

  it('costs two reads, two writes and one delete for a login (the old id: read, marker checked, marker written, deleted)', async () => {
    const sent = await storedSession()
    kv.reset()
    const res = await send(
      '/login',
      {
        method: 'POST',
        body: JSON.stringify({ user: 'raju' }),
        headers: { 'Content-Type': 'application/json' },
      },
      sent,
    )
    expect(res.status).toBe(200)
    expect(kv.counts).toMatchObject({ reads: 2, writes: 2, deletes: 1 })
    expect(setCookies(res).map((c) => c.name)).toEqual(['sessionid', 'sessionid_device'])
  })

  it('costs no KV operation for the test cookie', async () => {
    for (const path of ['/test-cookie', '/test-cookie/check']) {
      const res = await send(path, {}, 'testcookie=worked')
      expect(res.status).toBe(200)
    }
    expect(kv.counts).toEqual({ reads: 0, writes: 0, deletes: 0, lists: 0 })
  })
})

describe('never more than one Set-Cookie per cookie name', () => {
  /** Sequences of session calls in one request, each of which used to be a classic way to emit two headers. */
  const sequences: [string, Step][] = [
    [
      'set() twice',
      async (s) => {
        await s.set('a', 1)
        await s.set('b', 2)
      },
    ],
    [
      'cycleKey() then set() (login)',
      async (s) => {
        await s.cycleKey()
        await s.set('user', 'raju')
      },
    ],
    [
      'cycleKey() twice',
      async (s) => {
        await s.cycleKey()
        await s.cycleKey()
      },
    ],
    [
      'set() then flush()',
      async (s) => {
        await s.set('a', 1)
        await s.flush()
      },
    ],
    [
      'flush() then set()',
      async (s) => {
        await s.flush()
        await s.set('a', 1)
      },
    ],
    [
      'clear() then set()',
      async (s) => {
        await s.clear()
        await s.set('a', 1)
      },
    ],
    [
      'set(), setExpiry(), cycleKey(), set()',
      async (s) => {
        await s.set('a', 1)
        await s.setExpiry(600)
        await s.cycleKey()
        await s.set('b', 2)
      },
    ],
    [
      'setTestCookie(), deleteTestCookie(), setTestCookie() and a session write',
      async (s) => {
        s.setTestCookie()
        s.deleteTestCookie()
        s.setTestCookie()
        await s.set('a', 1)
      },
    ],
  ]

  it.each(sequences)(
    '%s: one header per name, with and without a prior session',
    async (_name, step) => {
      for (const prior of [false, true]) {
        const h = harness()
        if (prior) await h.run(async (s) => s.set('seed', true))
        const { res } = await h.run(step)
        expect(res.status).toBe(200)
        const names = setCookies(res).map((c) => c.name)
        expect(new Set(names).size, names.join(', ')).toBe(names.length)
      }
    },
  )
})
