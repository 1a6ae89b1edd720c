/**
 * Requests to the Durable Objects per request, through a small app of the library's own
 * on the Durable Object store, with a counting wrapper around the real namespace: the DO
 * analogue of kv-ops.test.ts's table (issue 13, section 8: untouched and anonymous reads
 * cost none).
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { generateSessionId } from '../src/session/store'
import { durableObjectStore } from '../src/session/durable-object'
import type { Session } from '../src/session'
import type { TestClient } from '../src/session/testing'
import { logIn, sessionApp } from './helpers/app'
import { clearObjects, instrument, namedStub, stubOf, type ObjectMethod } from './helpers/do'
import { harness, type Step } from './helpers/harness'
import { expectSetCookies, type SetCookieExpectation } from './helpers/http'

const objects = instrument()
const app = sessionApp({ store: durableObjectStore({ namespace: objects.namespace }) })

/** What the client sends as its session cookie. */
type CookieKind = 'none' | 'anonymous' | 'logged in' | 'malformed' | 'foreign object' | 'unknown id'
/** What the response may carry. */

interface Row {
  scenario: string
  method: 'GET' | 'POST' | 'DELETE'
  /** `:other` is replaced by the handle of another session of the same user. */
  path: string
  body?: unknown
  cookie: CookieKind
  /** The RPC calls to objects, in order. */
  calls: ObjectMethod[]
  setCookie: SetCookieExpectation
}

const table: Row[] = [
  {
    scenario: 'no cookie, handler never touches the session',
    method: 'GET',
    path: '/untouched',
    cookie: 'none',
    calls: [],
    setCookie: 'none',
  },
  {
    scenario: 'valid cookie, handler never touches the session',
    method: 'GET',
    path: '/untouched',
    cookie: 'anonymous',
    calls: [],
    setCookie: 'none',
  },
  {
    scenario: 'no cookie, handler only reads',
    method: 'GET',
    path: '/whoami',
    cookie: 'none',
    calls: [],
    setCookie: 'none',
  },
  {
    scenario: 'valid cookie, handler reads',
    method: 'GET',
    path: '/whoami',
    cookie: 'anonymous',
    calls: ['load'],
    setCookie: 'none',
  },
  {
    scenario: 'valid cookie, GET /session (four reads of the session: data and expiry)',
    method: 'GET',
    path: '/session',
    cookie: 'logged in',
    calls: ['load'],
    setCookie: 'none',
  },
  {
    scenario: 'valid cookie, handler writes',
    method: 'GET',
    path: '/hit',
    cookie: 'anonymous',
    calls: ['load', 'update'],
    setCookie: 'one',
  },
  {
    scenario: 'no cookie, handler writes',
    method: 'GET',
    path: '/hit',
    cookie: 'none',
    calls: ['create'],
    setCookie: 'one',
  },
  {
    scenario: 'cycleKey()',
    method: 'POST',
    path: '/cycle',
    cookie: 'anonymous',
    calls: ['load', 'create'],
    setCookie: 'one',
  },
  {
    scenario: 'flush()',
    method: 'POST',
    path: '/logout',
    cookie: 'anonymous',
    calls: ['load', 'destroy'],
    setCookie: 'deletion',
  },
  {
    scenario: 'logout of a logged-in session',
    method: 'POST',
    path: '/logout',
    cookie: 'logged in',
    calls: ['load', 'destroy'],
    setCookie: 'deletion',
  },
  {
    scenario: 'login without a session',
    method: 'POST',
    path: '/login',
    body: { user: 'raju' },
    cookie: 'none',
    calls: ['create'],
    setCookie: 'one and the known-device cookie',
  },
  // The new session is in the user's object; the anonymous one it replaces is taken out of its shard (checked and removed at once).
  {
    scenario: 'login from an anonymous session',
    method: 'POST',
    path: '/login',
    body: { user: 'raju' },
    cookie: 'anonymous',
    calls: ['load', 'create', 'take'],
    setCookie: 'one and the known-device cookie',
  },
  // Same object: the replaced session is checked and moved inside create(), in one stretch.
  {
    scenario: 'login again as the same user',
    method: 'POST',
    path: '/login',
    body: { user: 'raju' },
    cookie: 'logged in',
    calls: ['load', 'create'],
    setCookie: 'one and the known-device cookie',
  },
  {
    scenario: 'listSessions()',
    method: 'GET',
    path: '/sessions',
    cookie: 'logged in',
    calls: ['load', 'list'],
    setCookie: 'none',
  },
  {
    scenario: 'revokeSession() of another device',
    method: 'DELETE',
    path: '/sessions/:other',
    cookie: 'logged in',
    calls: ['load', 'revoke'],
    setCookie: 'none',
  },
  {
    scenario: 'revokeOtherSessions()',
    method: 'POST',
    path: '/sessions/revoke-others',
    cookie: 'logged in',
    calls: ['load', 'revokeAll'],
    setCookie: 'none',
  },
  {
    scenario: 'revokeAllSessions()',
    method: 'POST',
    path: '/sessions/revoke-all',
    cookie: 'logged in',
    calls: ['load', 'revokeAll'],
    setCookie: 'deletion',
  },
  // Forged ids never reach an object: a malformed token fails the format check, a foreign object id idFromString().
  {
    scenario: 'malformed id, read',
    method: 'GET',
    path: '/whoami',
    cookie: 'malformed',
    calls: [],
    setCookie: 'at most the deletion',
  },
  {
    scenario: 'object id the namespace did not make, read',
    method: 'GET',
    path: '/whoami',
    cookie: 'foreign object',
    calls: [],
    setCookie: 'at most the deletion',
  },
  {
    scenario: 'unknown id in a real object, read',
    method: 'GET',
    path: '/whoami',
    cookie: 'unknown id',
    calls: ['load'],
    setCookie: 'at most the deletion',
  },
]

/** A stored session of the wanted kind (made outside the count), and the other device of its user. */
async function cookieFor(
  kind: CookieKind,
): Promise<{ cookie: string | undefined; other?: TestClient }> {
  const d = app.browser()
  switch (kind) {
    case 'none':
      return { cookie: undefined }
    case 'anonymous':
      await d.get('/hit')
      return { cookie: d.sessionCookie }
    case 'logged in': {
      await logIn(d, 'raju')
      const other = app.browser()
      await logIn(other, 'raju')
      return { cookie: d.sessionCookie, other }
    }
    case 'malformed':
      return { cookie: '../../forged%00value' }
    case 'foreign object':
      return { cookie: `${generateSessionId()}.${'0'.repeat(64)}` }
    case 'unknown id':
      return {
        cookie: `${generateSessionId()}.${env.SESSION_OBJECTS.idFromName('anon:0').toString()}`,
      }
  }
}

beforeEach(async () => {
  await clearObjects()
  objects.reset()
})

describe('requests to Durable Objects per request (issue 13)', () => {
  it.each(table)('$scenario: $calls.length ($calls), Set-Cookie: $setCookie', async (row) => {
    const { cookie, other } = await cookieFor(row.cookie)
    let path = row.path
    if (path.includes(':other')) {
      const listed = await other!.withSession((s) => s.listSessions())
      path = path.replace(':other', listed.find((s) => s.current)!.handle)
    }
    const init: RequestInit =
      row.body === undefined
        ? { method: row.method }
        : {
            method: row.method,
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify(row.body),
          }
    objects.reset()

    const res = await app.send(path, init, {
      cookie: [cookie === undefined ? undefined : `sessionid=${cookie}`, 'user=Raju']
        .filter(Boolean)
        .join('; '),
    })
    await res.arrayBuffer()

    expect(res.status).toBe(200)
    expect(objects.calls.log.map((c) => c.split('@')[0])).toEqual(row.calls)
    if (row.calls.length === 0)
      expect(objects.calls.namespace).toEqual(
        row.cookie === 'foreign object' ? { idFromString: 1 } : {},
      )

    const issued = expectSetCookies(res, row.setCookie)
    if (issued !== undefined) {
      // The new cookie names a session that is really stored.
      expect(
        Object.keys(await app.browserWith(issued).session()).length +
          ((await app.browserWith(issued).user()) === null ? 0 : 1),
      ).toBeGreaterThan(0)
    }
  })

  it('costs no object call for the test cookie', async () => {
    for (const path of ['/test-cookie', '/test-cookie/check']) {
      const res = await app.send(path, {}, { cookie: 'testcookie=worked' })
      expect(res.status).toBe(200)
    }
    expect(objects.calls.log).toEqual([])
    expect(objects.calls.namespace).toEqual({})
  })
})

describe('login throttling: no call beyond the table above (issue 24)', () => {
  /** `POST /login` of a new browser (with `cookie` as its session cookie) as `user`. */
  const attempt = (user: string, password: 'wrong' | 'right', cookie?: string) =>
    app.send(
      '/login',
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ user, password }),
      },
      { cookie: cookie === undefined ? undefined : `sessionid=${cookie}` },
    )

  it("a failed password check is one call, to the user's object: 1 (loginFailed)", async () => {
    objects.reset()
    expect((await attempt('thrott-a', 'wrong')).status).toBe(401)
    expect(objects.calls.log.map((c) => c.split('@')[0])).toEqual(['loginFailed'])
  })

  it.each([
    ['no cookie', 'none', ['create']],
    ['an anonymous session', 'anonymous', ['load', 'create']],
    ['a session of the user', 'logged in', ['load', 'create']],
  ] as const)(
    'a login refused by a lock, from %s, is refused inside its create call: %j',
    async (_what, kind, calls) => {
      const { cookie } = await cookieFor(kind)
      for (let i = 0; i < 5; i++) await attempt('raju', 'wrong')
      objects.reset()
      const res = await attempt('raju', 'right', cookie)
      expect(res.status).toBe(429)
      expect(objects.calls.log.map((c) => c.split('@')[0])).toEqual(calls)
    },
  )
})

describe('SQLite rows written per request (what Durable Object storage bills)', () => {
  it('one row for a new session and a save, two for a logout (the row, its trail event); none for a read within lastSeenInterval; two in the shard for a login from anonymous', async () => {
    const store = durableObjectStore({ namespace: env.SESSION_OBJECTS })
    const h = harness({ store }, { start: Date.now() })
    /** Rows the object of the jar's session writes during `step`. */
    const written = async (
      step: Step,
      token = h.cookies.get('sessionid') as string,
    ): Promise<number> => {
      const stub = stubOf(token)
      const before = (await stub.usage()).rowsWritten
      await h.run(step)
      return (await stub.usage()).rowsWritten - before
    }

    await h.run(async (s) => s.set('n', 1))
    const anonymous = h.cookies.get('sessionid') as string
    expect(await written(async (s) => s.get('n'))).toBe(0) // read: last seen is fresh
    expect(await written(async (s) => s.set('n', 2))).toBe(1) // save: the one row (no index)
    h.clock.now += 301_000
    expect(await written(async (s) => s.get('n'))).toBe(1) // read after lastSeenInterval: last seen moves
    // Login: the new row in the user's object, the anonymous one taken from its shard.
    const shardBefore = (await stubOf(anonymous).usage()).rowsWritten
    await h.run(async (s) => s.login('rows'))
    const user = h.cookies.get('sessionid') as string
    expect((await stubOf(anonymous).usage()).rowsWritten - shardBefore).toBe(2) // the row deleted, a forward left
    expect((await stubOf(user).usage()).rowsWritten).toBeGreaterThanOrEqual(1)
    expect(await written(async (s) => s.flush(), user)).toBe(2) // logout: the row, and the logout in the trail
  })

  it("three rows for a cycleKey() (the new row, the old key's forward, the old row) and three for a logout after it (the row, the forward, the trail event)", async () => {
    const store = durableObjectStore({ namespace: env.SESSION_OBJECTS })
    const h = harness({ store }, { start: Date.now() })
    await h.run(async (s) => s.login('rows-cycle'))
    const stub = stubOf(h.cookies.get('sessionid') as string)
    const written = async (step: Step): Promise<number> => {
      const before = (await stub.usage()).rowsWritten
      await h.run(step)
      return (await stub.usage()).rowsWritten - before
    }
    expect(await written(async (s) => s.cycleKey())).toBe(3)
    expect(await written(async (s) => s.flush())).toBe(3)
  })

  it('two rows for a failed login (its count, its trail event), three for the one that locks, none for one refused by the lock', async () => {
    const store = durableObjectStore({ namespace: env.SESSION_OBJECTS })
    const h = harness({ store }, { start: Date.now() })
    const stub = namedStub('user:rows-throttle')
    const written = async (step: Step): Promise<number> => {
      const before = (await stub.usage()).rowsWritten
      await h.run(step)
      return (await stub.usage()).rowsWritten - before
    }
    const fail = async (s: Session) => s.loginFailed('rows-throttle').catch(() => null)
    await h.run(fail) // the first also notes the trail's retention in the object's settings
    for (let i = 0; i < 3; i++) expect(await written(fail)).toBe(2)
    expect(await written(fail)).toBe(3) // the count, login-failed, login-throttled
    expect(await written(fail)).toBe(0)
    expect(await written(async (s) => s.login('rows-throttle'))).toBe(0)
  })
})
