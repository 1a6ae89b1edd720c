// Plain Node.js, no Workers runtime: the cookie store, the signer and the cookie
// helpers behind @hono/node-server, driven by real HTTP requests on 127.0.0.1.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import * as edgeSession from 'edge-session'
import { start } from '../src/node-server.js'

const SECRET = 'a node secret of at least thirty-two bytes'

describe('edge-session on plain Node', () => {
  let base = ''
  let close: () => void = () => {}
  before(async () => {
    const { url, server } = await start(SECRET)
    base = url
    close = () => server.close()
  })
  after(() => close())

  it('loads the package as ESM with its public API', () => {
    for (const name of [
      'session',
      'cookieStore',
      'timestampSigner',
      'setSignedCookie',
      'getSignedCookie',
      'kvStore',
    ]) {
      assert.equal(typeof (edgeSession as Record<string, unknown>)[name], 'function', name)
    }
  })

  it('keeps a session in its sealed cookie across requests', async () => {
    const first = await fetch(`${base}/cart/apple`, { method: 'POST' })
    assert.deepEqual(await first.json(), { items: ['apple'] })
    const sealed = first.headers.get('set-cookie') ?? ''
    assert.match(
      sealed,
      /^cart=[A-Za-z0-9_-]+; Max-Age=1209600; Path=\/; Expires=\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT; HttpOnly; SameSite=Lax$/,
    )
    const cookie = sealed.split(';')[0] ?? ''
    assert.doesNotMatch(cookie, /apple/)

    const second = await fetch(`${base}/cart/pear`, { method: 'POST', headers: { cookie } })
    assert.deepEqual(await second.json(), { items: ['apple', 'pear'] })
    const next = (second.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
    const read = await fetch(`${base}/cart`, { headers: { cookie: next } })
    assert.deepEqual(await read.json(), { items: ['apple', 'pear'] })
    const tampered = await fetch(`${base}/cart`, { headers: { cookie: `${next.slice(0, -2)}AA` } })
    assert.deepEqual(await tampered.json(), { items: [] })
  })

  it('sets plain and signed cookies, and reads back only an untampered signature', async () => {
    const set = await fetch(`${base}/theme/dark`)
    const cookies = set.headers.getSetCookie().map((header) => header.split(';')[0] ?? '')
    assert.equal(cookies.length, 2)
    assert.match(cookies[0] ?? '', /^theme=dark$/)
    assert.match(cookies[1] ?? '', /^user=raju(:|%3A)/)
    const whoami = await fetch(`${base}/whoami`, { headers: { cookie: cookies.join('; ') } })
    assert.deepEqual(await whoami.json(), { user: 'raju', theme: 'dark' })
    const forged = cookies[1]?.replace('raju', 'root') ?? ''
    const refused = await fetch(`${base}/whoami`, { headers: { cookie: forged } })
    assert.deepEqual(await refused.json(), { user: null, theme: null })
  })

  it('loads every subpath that needs no Workers runtime, and the test client keeps a jar over HTTP', async () => {
    // Written by scripts/check-consumers.mjs: edge-session, edge-session/testing, …
    const specifiers = JSON.parse(readFileSync('node-subpaths.json', 'utf8')) as string[]
    for (const specifier of specifiers) {
      assert.ok(Object.keys((await import(specifier)) as object).length > 0, specifier)
    }
    // Imported by name at run time: its declarations name Workers types (the clear helpers).
    type Client = { post(path: string): Promise<Response>; get(path: string): Promise<Response> }
    const testing = (await import(`${'edge-session'}/testing`)) as {
      testClient(target: { fetch(r: Request): Promise<Response> }, options: { url: string }): Client
    }
    const client = testing.testClient({ fetch: (request) => fetch(request) }, { url: base })
    await client.post('/cart/apple')
    await client.post('/cart/pear')
    assert.deepEqual(await (await client.get('/cart')).json(), { items: ['apple', 'pear'] })
  })

  it('signs and verifies tokens with timestampSigner', async () => {
    const token = await (await fetch(`${base}/token/reset-42`)).text()
    const ok = await fetch(`${base}/verify?token=${encodeURIComponent(token)}`)
    assert.deepEqual(await ok.json(), { value: 'reset-42', rotated: false })
    const bad = await fetch(
      `${base}/verify?token=${encodeURIComponent(token.replace('reset-42', 'reset-43'))}`,
    )
    assert.equal(bad.status, 400)
    assert.deepEqual(await bad.json(), { error: 'mismatch' })
  })
})
