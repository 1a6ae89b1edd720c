/**
 * The demo's store from its bindings (`src/routes/store.ts`): `SESSION_STORE` and the
 * secrets the cookie store seals with, `MAX_SESSIONS_PER_USER` as the Durable Object
 * store's cap, and the switch from `SESSION_STORE=kv` to `do`, which moves KV sessions
 * over.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../src/app'
import { DEV_SECRET, sessionCap } from '../src/routes/store'
import { cookieStore } from '../src/session'
import { kvKeyFor } from '../src/session/stores/kv'
import type { SessionRecord, StoreContext } from '../src/session/store'
import { captureConsole } from './helpers/console'
import { device, deviceWith } from './helpers/demo'
import { clearObjects, namedStub, rowOf } from './helpers/do'
import { json, setCookie } from './helpers/http'
import { countingKV } from './helpers/kv'

const SECRET = 'edge-session test secret number one, 32+ bytes'
const SECRET_2 = 'edge-session test secret number two, 32+ bytes'

/** What the middleware tells a store about the request. */
const CTX: StoreContext = {
  now: Date.now(),
  request: new Request('http://example.com/'),
  cookieName: 'sessionid',
}

const plain = (record: SessionRecord | null): unknown =>
  record === null ? null : JSON.parse(JSON.stringify(record))

beforeEach(async () => {
  await clearObjects()
})

describe('MAX_SESSIONS_PER_USER (the demo)', () => {
  it.each([
    [undefined, null],
    ['', null],
    ['5', 5],
    [' 2 ', 2],
  ])('%j is the cap %j', (value, cap) => {
    expect(sessionCap(value)).toBe(cap)
  })

  it.each([['0'], ['-1'], ['two'], ['1.5']])(
    '%j is refused with INVALID_OPTION naming the variable',
    (value) => {
      expect(() => sessionCap(value)).toThrow(/MAX_SESSIONS_PER_USER/)
    },
  )

  it("caps the demo's Durable Object store: a third login of a user ends the first", async () => {
    const capped = { ...env, SESSION_STORE: 'do', MAX_SESSIONS_PER_USER: '2' }
    const user = `cap-${crypto.randomUUID().slice(0, 8)}`
    const clock = { now: Date.now() }
    const app = createApp({ now: () => clock.now })
    const [a, b, c] = [device(capped, { app }), device(capped, { app }), device(capped, { app })]
    for (const d of [a, b, c]) {
      await d.login(user)
      clock.now += 1_000
    }
    expect([await a.whoami(), await b.whoami(), await c.whoami()]).toEqual([null, user, user])
  })
})

describe('the demo switched from SESSION_STORE=kv to do', () => {
  it('keeps a logged-in user logged in, with the same data', async () => {
    const onKv = device({ ...env, SESSION_STORE: 'kv' })
    await onKv.login('raju')
    await onKv.call('/session', json('POST', { color: 'green' }))
    const onDo = deviceWith({ ...env, SESSION_STORE: 'do' }, onKv.token!)
    expect(await onDo.whoami()).toBe('raju')
    const { body } = await onDo.call<{ data: Record<string, unknown> }>('/session')
    expect(body.data).toEqual({ username: 'raju', color: 'green' })
    expect(onDo.token).not.toBe(onKv.token)
    expect((await rowOf(onDo.token!))?.user).toBe('raju')
    expect(await namedStub('user:raju').count()).toBe(1)
    expect(await env.SESSIONS.get(await kvKeyFor(onKv.token!))).toBeNull()
  })
})

describe('the demo store selection (SESSION_STORE)', () => {
  const request = async (
    bindings: Record<string, unknown>,
    url = 'http://localhost:8787/session',
  ) => {
    const kv = countingKV(env.SESSIONS)
    const res = await createApp().request(url, json('POST', { a: 1 }), {
      ...env,
      SESSIONS: kv.namespace,
      ...bindings,
    })
    return { res, kv, cookie: setCookie(res, 'sessionid') }
  }

  it('uses KV for "kv" (wrangler.toml\'s default)', async () => {
    expect(env.SESSION_STORE).toBe('kv')
    const { res, kv, cookie } = await request({})
    expect(res.status).toBe(200)
    expect(kv.counts.writes).toBe(1)
    expect(cookie?.value).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('uses the cookie store for "cookie", sealed with the development secret on localhost', async () => {
    const { res, kv, cookie } = await request({ SESSION_STORE: 'cookie' })
    expect(res.status).toBe(200)
    expect(kv.counts).toEqual({ reads: 0, writes: 0, deletes: 0, lists: 0 })
    expect(
      plain(await cookieStore({ secret: DEV_SECRET }).load(cookie?.value ?? '', CTX)),
    ).toMatchObject({ data: { a: 1 } })
  })

  it('seals with SESSION_SECRET when it is set, and opens SESSION_SECRET_FALLBACKS', async () => {
    const OLD = 'dGhlIG9sZCBzZWNyZXQgb2YgdGhlIGRlbW8sIDQ4IGJ5dGVzIGxvbmcgZm9yIHRlc3Rz'
    const NEW = 'dGhlIG5ldyBzZWNyZXQgb2YgdGhlIGRlbW8sIDQ4IGJ5dGVzIGxvbmcgZm9yIHRlc3Rz'
    const { cookie } = await request(
      { SESSION_STORE: 'cookie', SESSION_SECRET: OLD },
      'https://example.com/session',
    )
    expect(await cookieStore({ secret: DEV_SECRET }).load(cookie?.value ?? '', CTX)).toBeNull()
    expect(plain(await cookieStore({ secret: OLD }).load(cookie?.value ?? '', CTX))).toMatchObject({
      data: { a: 1 },
    })

    const rotated = await createApp().request(
      'https://example.com/session',
      { headers: { Cookie: `sessionid=${cookie?.value}` } },
      {
        ...env,
        SESSION_STORE: 'cookie',
        SESSION_SECRET: NEW,
        SESSION_SECRET_FALLBACKS: JSON.stringify(['another-old-secret-of-at-least-32-bytes', OLD]),
      },
    )
    const text = await rotated.text()
    expect(rotated.status, text).toBe(200)
    expect((JSON.parse(text) as { data: unknown }).data).toEqual({ a: 1 })
  })

  it('opens sessions sealed with a fallback secret that holds commas, listed as a JSON array', async () => {
    const COMMA = 'an old secret, with commas, and "quotes", 48 bytes'
    const { cookie } = await request(
      { SESSION_STORE: 'cookie', SESSION_SECRET: COMMA },
      'https://example.com/session',
    )
    const rotated = await createApp().request(
      'https://example.com/session',
      { headers: { Cookie: `sessionid=${cookie?.value}` } },
      {
        ...env,
        SESSION_STORE: 'cookie',
        SESSION_SECRET: SECRET_2,
        SESSION_SECRET_FALLBACKS: JSON.stringify([COMMA]),
      },
    )
    const text = await rotated.text()
    expect(rotated.status, text).toBe(200)
    expect((JSON.parse(text) as { data: unknown }).data).toEqual({ a: 1 })
  })

  it.each([
    [
      'no SESSION_SECRET on a public host',
      { SESSION_STORE: 'cookie' },
      'SESSION_SECRET is not set; the development secret only serves localhost.',
    ],
    [
      'a short SESSION_SECRET',
      { SESSION_STORE: 'cookie', SESSION_SECRET: 'short' },
      'cookieStore(): SESSION_SECRET must be at least 32 bytes (it is 5)',
    ],
    [
      'a short fallback',
      { SESSION_STORE: 'cookie', SESSION_SECRET: SECRET, SESSION_SECRET_FALLBACKS: 'short' },
      'cookieStore(): SESSION_SECRET_FALLBACKS entry 0 must be at least 32 bytes (it is 5)',
    ],
    ['an unknown SESSION_STORE', { SESSION_STORE: 'redis' }, 'not "redis"'],
  ])(
    'fails closed with a 500 for %s, setting no cookie, and logs why',
    async (_what, bindings, logged) => {
      const errors = captureConsole('error')
      const { res, kv, cookie } = await request(bindings, 'https://example.com/session')
      expect(res.status).toBe(500)
      expect(cookie).toBeUndefined()
      expect(kv.counts.writes).toBe(0)
      expect(errors).toEqual([
        [
          expect.objectContaining({
            name: 'SessionError',
            code: 'INVALID_OPTION',
            message: expect.stringContaining(logged),
          }),
        ],
      ])
    },
  )
})
