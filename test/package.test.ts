import { env } from 'cloudflare:test'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
// The package's own name: resolved through package.json "exports" to the built
// dist/ (`npm test` builds first), as another project that depends on edge-session
// would import it. The packed tarball itself is checked by `npm run check:consumers`.
import * as pkg from 'edge-session'
import { session, type SessionEnv } from 'edge-session'
import * as direct from '../src/session'

describe('package exports', () => {
  it('resolves "edge-session" to the built entry, with every export of the sources', () => {
    expect(session).not.toBe(direct.session)
    expect(Object.keys(pkg).sort()).toEqual(Object.keys(direct).sort())
  })

  it('runs a session on the built entry', async () => {
    const app = new Hono<SessionEnv<{ hits: number }>>()
    app.use(session())
    app.get('/', async (c) => {
      const s = c.get('session')
      await s.set('hits', ((await s.get('hits')) ?? 0) + 1)
      return c.text(String(await s.get('hits')))
    })
    const res = await app.request('http://example.com/', {}, env)
    expect(await res.text()).toBe('1')
    expect(res.headers.get('Set-Cookie')).toMatch(
      /^sessionid=[A-Za-z0-9_-]{43}; Max-Age=1209600; Path=\/; Expires=\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT; HttpOnly; SameSite=Lax$/,
    )
  })
})
