import { SELF, env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'

describe('smoke', () => {
  it('serves /test/', async () => {
    const res = await SELF.fetch('http://example.com/test/')
    expect(await res.text()).toBe('<h1>We are Testing Cookies..!! </h1>')
    expect(res.headers.get('Set-Cookie')).toContain('testcookie=worked')
  })
  it('counts session hits in KV', async () => {
    const r1 = await SELF.fetch('http://example.com/session-hit/')
    const cookie = r1.headers.get('Set-Cookie')!.split(';')[0]!
    const r2 = await SELF.fetch('http://example.com/session-hit/', { headers: { Cookie: cookie } })
    expect(await r2.text()).toContain('Visit number 2')
    const list = await env.SESSIONS.list()
    expect(list.keys.length).toBe(1)
  })
})
