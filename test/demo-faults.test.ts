/**
 * The demo's answers to a failing KV store (a wrapper around the real binding fails on
 * command): a read that fails is a 503 on the routes that show the session, JSON or a
 * page; a write that fails (KV's 429 for a second write to one key within a second) is a
 * 503 that keeps the session.
 */
import { env } from 'cloudflare:test'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp } from '../src/app'
import { kvKeyFor } from '../src/session'
import { json, setCookie, setCookies } from './helpers/http'
import { clearKV, faultyKV } from './helpers/kv'

const ORIGIN = 'http://example.com'

/** KV's answer to more than one write per second to a key. */
const tooManyRequests = (): Error =>
  Object.assign(new Error('KV PUT failed: 429 Too Many Requests'), { status: 429 })

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

/** Names of every stored session record. */
async function storedKeys(): Promise<string[]> {
  return (await env.SESSIONS.list({ prefix: 'session:' })).keys.map((k) => k.name)
}

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
    expect(res.status).toBe(503)
    expect(res.headers.get('Retry-After')).toBe('1')
    expect(setCookies(res)).toEqual([])
    expect(await res.json()).toMatchObject({ code: 'STORE_UNAVAILABLE' })
    expect(await storedKeys()).toEqual([await kvKeyFor(id)])
    expect(await env.SESSIONS.get(await kvKeyFor(id))).toBe(before)
  })
})
