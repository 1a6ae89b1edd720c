/**
 * The demo's answers to a failing KV store (a wrapper around the real binding fails on
 * command): a read that fails is a 503 on the routes that show the session, JSON or a
 * page; a write that fails (KV's 429 for a second write to one key within a second) is a
 * 503 that keeps the session; each route answers its deliberate status, keeps the cookie
 * and loses nothing (the assertions of helpers/hostile.ts).
 */
import { env } from 'cloudflare:test'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp } from '../src/app'
import { kvKeyFor } from '../src/session/stores/kv'
import { demoTarget } from './helpers/demo'
import { expectNoAdoption } from './helpers/hostile'
import { json, setCookie, setCookies } from './helpers/http'
import { clearKV, expectWriteRefused, faultyKV, type KVFaults, tooManyRequests } from './helpers/kv'

const ORIGIN = 'http://example.com'

/** Silences console.warn (the library logs each failure) for the rest of the test. */
function warnings(): void {
  vi.spyOn(console, 'warn').mockImplementation(() => undefined)
}

beforeEach(async () => {
  await clearKV(env.SESSIONS)
})

afterEach(() => {
  vi.restoreAllMocks()
})

describe('a KV read that throws', () => {
  it.each([
    ['GET', '/session', 'application/json'],
    ['GET', '/whoami', 'application/json'],
    ['GET', '/session-hit/', 'text/html'],
  ])('the demo answers %s %s with 503, Retry-After and no stack', async (method, path, type) => {
    warnings()
    const faulty = faultyKV(env.SESSIONS)
    const app = createApp()
    const login = await app.request(`${ORIGIN}/login`, json('POST', { username: 'amy' }), env)
    const cookie = `sessionid=${setCookie(login, 'sessionid')?.value}`
    faulty.faults.read = true
    const res = await app.request(
      `${ORIGIN}${path}`,
      { method, headers: { Cookie: cookie } },
      { SESSIONS: faulty.namespace },
    )
    expect(res.status).toBe(503)
    expect(res.headers.get('Retry-After')).toBe('1')
    expect(res.headers.get('Content-Type')).toContain(type)
    expect(setCookies(res)).toEqual([])
    const text = await res.text()
    expect(text).not.toMatch(/simulated|KV get|\bat \S+ \(|Error:/)
    if (type === 'application/json')
      expect(JSON.parse(text)).toMatchObject({ code: 'STORE_UNAVAILABLE' })
  })
})

describe('a KV write that throws', () => {
  it.each([
    ['POST', '/session', { probe: 1 }],
    ['POST', '/login', { username: 'bea' }],
    ['POST', '/session/cycle', {}],
    ['POST', '/session/expiry', { seconds: 600 }],
  ])('the demo answers %s %s with 503 and keeps the session', async (method, path, body) => {
    const faulty = faultyKV(env.SESSIONS, { error: tooManyRequests })
    const app = createApp()
    const login = await app.request(`${ORIGIN}/login`, json('POST', { username: 'amy' }), env)
    const id = setCookie(login, 'sessionid')?.value as string
    const before = await env.SESSIONS.get(await kvKeyFor(id))
    faulty.faults.write = true
    const init = json(method, body)
    // The same deployment (its USERS binding included), with a faulty SESSIONS namespace.
    const res = await app.request(
      `${ORIGIN}${path}`,
      {
        ...init,
        headers: { ...(init.headers as Record<string, string>), Cookie: `sessionid=${id}` },
      },
      { ...env, SESSIONS: faulty.namespace },
    )
    await expectWriteRefused(res, id, before)
  })
})

/** The demo worker (SELF) on its real bindings: where the legitimate sessions are made. */
const { legitimate, expectIntact } = demoTarget()

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
