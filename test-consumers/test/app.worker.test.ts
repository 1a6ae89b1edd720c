// The Worker in workerd, as `wrangler dev` would serve it: real requests through its
// fetch handler (SELF), the sessions in miniflare's local KV.
import { env, SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { sha256Hex } from 'edge-session/store'
import { modules } from '../src/exports.js'

const cookieOf = (res: Response, name: string): string => {
  const header = res.headers.getSetCookie().find((h) => h.startsWith(`${name}=`))
  if (header === undefined)
    throw new Error(`no ${name} cookie in ${JSON.stringify(res.headers.getSetCookie())}`)
  return header.split(';')[0] ?? ''
}

describe('every subpath of the package', () => {
  it.each(Object.entries(modules))('imports %s in workerd', (_, module) => {
    expect(Object.keys(module).length).toBeGreaterThan(0)
  })
})

describe('the README example (KV store)', () => {
  it('counts hits in one session and keeps it in KV', async () => {
    const first = await SELF.fetch('https://example.com/hits')
    expect(await first.text()).toBe('hits: 1')
    const cookie = cookieOf(first, 'sessionid')
    expect(first.headers.get('Set-Cookie')).toMatch(
      /^sessionid=[A-Za-z0-9_-]{43}; Max-Age=1209600; Path=\/; Expires=\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT; HttpOnly; Secure; SameSite=Lax$/,
    )

    const second = await SELF.fetch('https://example.com/hits', { headers: { Cookie: cookie } })
    expect(await second.text()).toBe('hits: 2')
    const stored = await env.SESSIONS.get(
      `session:${await sha256Hex(cookie.slice('sessionid='.length))}`,
      'json',
    )
    expect(stored).toMatchObject({ data: { hits: 2 } })
  })
})

describe('the portable app in workerd (cookie store, signer)', () => {
  it('keeps a cart in its sealed cookie, nothing in KV', async () => {
    const keys = (await env.SESSIONS.list()).keys
    const first = await SELF.fetch('https://example.com/portable/cart/apple', { method: 'POST' })
    expect(await first.json()).toEqual({ items: ['apple'] })
    const read = await SELF.fetch('https://example.com/portable/cart', {
      headers: { Cookie: cookieOf(first, 'cart') },
    })
    expect(await read.json()).toEqual({ items: ['apple'] })
    expect((await env.SESSIONS.list()).keys).toEqual(keys)
  })

  it('reads back a signed cookie it set', async () => {
    const set = await SELF.fetch('https://example.com/portable/theme/dark')
    const cookies = `${cookieOf(set, 'theme')}; ${cookieOf(set, 'user')}`
    const whoami = await SELF.fetch('https://example.com/portable/whoami', {
      headers: { Cookie: cookies },
    })
    expect(await whoami.json()).toEqual({ user: 'raju', theme: 'dark' })
  })
})
