/**
 * The `app.onError` pattern of docs/session-api.md (issue 20, item 7): a SessionError is
 * answered with its status, a server fault without its details; every other error goes
 * through unchanged, Hono's own HTTPException (hono/csrf's 403) first.
 */
import { env } from 'cloudflare:test'
import { Hono } from 'hono'
import { csrf } from 'hono/csrf'
import { HTTPException } from 'hono/http-exception'
import { describe, expect, it } from 'vitest'
import { session, SessionError, type SessionEnv } from '../src/session'
import { captureConsole } from './helpers/console'

/** The handler exactly as docs/session-api.md prints it. */
function documentedOnError(app: Hono<SessionEnv>): void {
  app.onError((err, c) => {
    if (err instanceof SessionError) {
      // A server fault (500) names internals: log it, answer a plain 500.
      if (err.status === 500) {
        console.error(err)
        return c.text('Internal Server Error', 500)
      }
      return err.getResponse() // its status (413, 409, 503 with Retry-After: 1, …)
    }
    if (err instanceof HTTPException) return err.getResponse() // hono/csrf's 403, yours
    console.error(err)
    return c.text('Internal Server Error', 500)
  })
}

function app(): Hono<SessionEnv> {
  const a = new Hono<SessionEnv>()
  a.use(csrf())
  a.use(session({ maxPayloadBytes: 100 }))
  a.post('/form', (c) => c.text('ok'))
  a.get('/big', async (c) => {
    await c.get('session').set('big', 'x'.repeat(200))
    return c.text('never')
  })
  a.get('/sessions', async (c) => c.json(await c.get('session').listSessions()))
  a.get('/teapot', () => {
    throw new HTTPException(418, { message: 'I am a teapot' })
  })
  a.get('/down', () => {
    throw new SessionError(
      'STORE_UNAVAILABLE',
      'The session store is unavailable; try again shortly.',
    )
  })
  a.get('/misconfigured', () => {
    throw new SessionError('MISSING_STORE', 'session(): no KV namespace is bound as "SESSIONZ"')
  })
  a.get('/bug', () => {
    throw new TypeError('undefined is not a function')
  })
  documentedOnError(a)
  return a
}

describe('the documented app.onError', () => {
  it("lets hono/csrf's 403 through unchanged", async () => {
    const res = await app().request(
      'http://example.com/form',
      {
        method: 'POST',
        headers: {
          Origin: 'https://evil.example',
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: 'a=1',
      },
      env,
    )
    expect(res.status).toBe(403)
    expect(await res.text()).toBe('Forbidden')
  })

  it('lets any other HTTPException through with its own status and message', async () => {
    const res = await app().request('http://example.com/teapot', {}, env)
    expect(res.status).toBe(418)
    expect(await res.text()).toBe('I am a teapot')
  })

  it.each([
    ['/big', 413, 'PAYLOAD_TOO_LARGE'],
    ['/sessions', 501, 'NOT_SUPPORTED'],
  ])('answers the SessionError of %s with its status %i', async (path, status) => {
    const res = await app().request(`http://example.com${path}`, {}, env)
    expect(res.status).toBe(status)
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('answers a store outage 503 with Retry-After: 1', async () => {
    const res = await app().request('http://example.com/down', {}, env)
    expect(res.status).toBe(503)
    expect(res.headers.get('Retry-After')).toBe('1')
  })

  it('answers a server-side SessionError and any other error with a plain, logged 500', async () => {
    const logged = captureConsole('error')
    for (const path of ['/misconfigured', '/bug']) {
      const res = await app().request(`http://example.com${path}`, {}, env)
      expect(res.status).toBe(500)
      expect(await res.text()).toBe('Internal Server Error')
    }
    expect(logged.map(([error]) => (error as Error).name)).toEqual(['SessionError', 'TypeError'])
  })
})
