/**
 * KV operations and Set-Cookie headers on the demo's own routes, with a counting wrapper
 * around the real KV binding: its page looks for flash messages at no cost when none
 * wait, and none of its routes sends two Set-Cookie headers for one name.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../src/app'
import { json, setCookies } from './helpers/http'
import { clearKV, countingKV } from './helpers/kv'

const kv = countingKV(env.SESSIONS)
const app = createApp()
const bindings = { SESSIONS: kv.namespace }

/** Creates a stored session (outside the count) and returns its cookie pair. */
async function storedSession(): Promise<string> {
  const res = await app.request('http://example.com/session-hit/', {}, bindings)
  const cookie = setCookies(res).find((c) => c.name === 'sessionid')
  if (!cookie) throw new Error('no session cookie from /session-hit/')
  return `sessionid=${cookie.value}`
}

beforeEach(async () => {
  await clearKV(env.SESSIONS)
  kv.reset()
})

describe('GET / (the page)', () => {
  it('costs the page nothing to look for flash messages when none wait (issue 9)', async () => {
    const none = await app.request('http://example.com/', {}, bindings)
    expect(none.status).toBe(200)
    expect(kv.counts).toEqual({ reads: 0, writes: 0, deletes: 0, lists: 0 })
    const sent = await storedSession()
    kv.reset()
    const res = await app.request('http://example.com/', { headers: { Cookie: sent } }, bindings)
    expect(res.status).toBe(200)
    expect(kv.counts).toEqual({ reads: 1, writes: 0, deletes: 0, lists: 0 })
    expect(setCookies(res)).toEqual([])
  })
})

describe('never more than one Set-Cookie per cookie name', () => {
  it('holds on every route of the demo app, with and without a session', async () => {
    const routes: [string, string, unknown?][] = [
      ['GET', '/test/'],
      ['GET', '/check/'],
      ['GET', '/set-cook/'],
      ['GET', '/get-cook/'],
      ['GET', '/del-cook/'],
      ['GET', '/hit/'],
      ['GET', '/hit/persistent/'],
      ['GET', '/session-hit/'],
      ['GET', '/session'],
      ['POST', '/session', { a: 1, b: [2] }],
      ['POST', '/session/expiry', { seconds: 600 }],
      ['POST', '/session/cycle', {}],
      ['POST', '/session/flush', {}],
      ['POST', '/login', { username: 'raju' }],
      ['GET', '/whoami'],
      ['POST', '/logout', {}],
    ]
    for (const [method, path, body] of routes) {
      for (const session of [undefined, await storedSession()]) {
        const headers: Record<string, string> = {
          Cookie: [session, 'testcookie=worked; user=Raju; hit=3'].filter(Boolean).join('; '),
        }
        const init: RequestInit =
          body === undefined
            ? { method, headers }
            : { ...json(method, body), headers: { ...headers, 'Content-Type': 'application/json' } }
        const res = await app.request(`http://example.com${path}`, init, bindings)
        expect(res.status, `${method} ${path}`).toBeLessThan(500)
        const names = setCookies(res).map((c) => c.name)
        expect(new Set(names).size, `${method} ${path}: ${names.join(', ')}`).toBe(names.length)
      }
    }
  })
})
