/**
 * Session ids and storage keys: 256 random bits in base64url, checked by exact format
 * before any KV call, and stored only as `session:` + hex SHA-256, so a KV listing
 * holds no usable session and no client-chosen string ever becomes a key.
 */
import { env } from 'cloudflare:test'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { generateSessionId, isSessionId } from '../src/session/store'
import { KV_KEY_PREFIX, KV_MIN_TTL, kvKeyFor, kvRevokedKeyFor } from '../src/session/stores/kv'
import { fromBase64Url } from '../src/session/foundation/bytes'
import { sha256Hex } from '../src/session/foundation/id'
import { logIn, sessionApp } from './helpers/app'
import { clearKV } from './helpers/kv'

// session()'s defaults: the KV store bound as SESSIONS.
const app = sessionApp()
const KEY = /^(session|revoked):[0-9a-f]{64}$/

beforeEach(async () => {
  await clearKV(env.SESSIONS)
})

afterEach(() => {
  vi.restoreAllMocks()
})

/** Independent SHA-256 hex, straight from Web Crypto. */
async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

/** The real binding, with every key it is asked for recorded (not a mock: calls go through). */
function recordingKV(namespace: KVNamespace): { namespace: KVNamespace; keys: string[] } {
  const keys: string[] = []
  const wrapped = new Proxy(namespace, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        if (prop === 'get' || prop === 'getWithMetadata' || prop === 'put' || prop === 'delete')
          keys.push(String(args[0]))
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return { namespace: wrapped, keys }
}

describe('generateSessionId()', () => {
  const ids = Array.from({ length: 10_000 }, () => generateSessionId())

  it('is 43 base64url characters without padding, decoding to 32 bytes', () => {
    for (const id of ids.slice(0, 1000)) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(isSessionId(id)).toBe(true)
      expect(fromBase64Url(id)?.byteLength).toBe(32)
    }
  })

  it('ends in a character that carries 4 bits, as 256 bits in 43 characters must', () => {
    // 43 × 6 = 258 bits: the last character's 2 low bits are padding, always zero.
    for (const id of ids) expect(id.at(-1)).toMatch(/^[AEIMQUYcgkosw048]$/)
  })

  it('decodes only the canonical base64url: unused low bits of the last character must be zero', () => {
    expect([...(fromBase64Url('AA') as Uint8Array)]).toEqual([0])
    expect(fromBase64Url('AB')).toBeNull() // the same byte, with a padding bit set
    expect([...(fromBase64Url('AAA') as Uint8Array)]).toEqual([0, 0])
    expect(fromBase64Url('AAB')).toBeNull()
    expect([...(fromBase64Url('AAAB') as Uint8Array)]).toEqual([0, 0, 1]) // no padding bits
    const id = ids[0] as string
    expect(fromBase64Url(`${id.slice(0, -1)}B`)).toBeNull()
  })

  it('never repeats in 10,000 ids', () => {
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('sets each of its 256 bits about half the time', () => {
    const ones = new Array<number>(256).fill(0)
    const sample = ids.slice(0, 2000)
    for (const id of sample) {
      const bytes = fromBase64Url(id) as Uint8Array
      for (let bit = 0; bit < 256; bit++)
        if ((bytes[bit >> 3] as number) & (0x80 >> (bit & 7))) ones[bit] = (ones[bit] as number) + 1
    }
    // 2000 samples: σ ≈ 22, so 800..1200 is ±9σ; a stuck or biased bit falls far outside.
    for (const count of ones) {
      expect(count).toBeGreaterThan(800)
      expect(count).toBeLessThan(1200)
    }
  })

  it('uses every base64url character', () => {
    const seen = new Set(ids.join(''))
    expect(seen.size).toBe(64)
  })

  it('draws its bytes from crypto.getRandomValues', () => {
    const spy = vi.spyOn(crypto, 'getRandomValues')
    generateSessionId()
    expect(spy).toHaveBeenCalledTimes(1)
    const [array] = spy.mock.calls[0] as [ArrayBufferView]
    expect(array.byteLength).toBe(32)
  })
})

describe('isSessionId()', () => {
  it.each([
    ['an empty string', ''],
    ['"."', '.'],
    ['".."', '..'],
    ['42 characters', 'A'.repeat(42)],
    ['44 characters', 'A'.repeat(44)],
    ['padding', `${'A'.repeat(42)}=`],
    ['standard base64 "+"', `${'A'.repeat(42)}+`],
    ['standard base64 "/"', `${'A'.repeat(42)}/`],
    ['a percent-encoded character', `${'A'.repeat(40)}%41`],
    ['a space', `${'A'.repeat(21)} ${'A'.repeat(21)}`],
    ['a trailing newline', `${'A'.repeat(43)}\n`],
    ['a non-ASCII letter', `${'A'.repeat(42)}é`],
    ['a full-width letter', `${'A'.repeat(42)}Ａ`],
    ['a KV key', `session:${'a'.repeat(64)}`],
    ['a path', `../${'A'.repeat(40)}`],
  ])('refuses %s', (_label, value) => {
    expect(isSessionId(value)).toBe(false)
  })

  it.each([
    ['letters', 'A'.repeat(43)],
    ['"-" and "_"', `${'-_'.repeat(21)}A`],
  ])('accepts %s', (_label, value) => {
    expect(isSessionId(value)).toBe(true)
  })
})

describe('kvKeyFor()', () => {
  it('is "session:" and the hex SHA-256 of the id (FIPS 180-2 vector "abc")', async () => {
    expect(await sha256Hex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    )
    expect(await kvKeyFor('abc')).toBe(
      'session:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    )
  })

  it('matches an independent SHA-256 and never holds the id', async () => {
    expect(KV_KEY_PREFIX).toBe('session:')
    for (let i = 0; i < 50; i++) {
      const id = generateSessionId()
      const key = await kvKeyFor(id)
      expect(key).toMatch(KEY)
      expect(key).toBe(`session:${await sha256(id)}`)
      expect(key).not.toContain(id)
    }
  })
})

describe('what KV holds', () => {
  it('a listing holds only hashes: no key, value or metadata contains a session id', async () => {
    const ids: string[] = []
    for (const user of ['ann', 'ben', 'cat', 'dan', 'eve']) {
      const client = app.browser()
      await logIn(client, user)
      expect((await client.post('/session', { json: { username: user } })).status).toBe(200)
      ids.push(client.sessionCookie!)
    }
    const list = await env.SESSIONS.list()
    const names = list.keys.map((k) => k.name).sort()
    expect(names).toEqual((await Promise.all(ids.map((id) => kvKeyFor(id)))).sort())
    const dump =
      JSON.stringify(list) + (await Promise.all(names.map((n) => env.SESSIONS.get(n)))).join('\n')
    for (const id of ids) expect(dump).not.toContain(id)
    for (const k of list.keys) expect(k.metadata).toBeUndefined()
  })

  it('stores the documented schema: {"v":1,"data","expiry","expiresAt","createdAt","auth"} with a TTL of the session\'s life', async () => {
    const before = Date.now()
    const client = app.browser()
    const id = await logIn(client, 'fay')
    expect((await client.post('/session', { json: { username: 'fay' } })).status).toBe(200)
    const key = await kvKeyFor(id)
    const record = JSON.parse((await env.SESSIONS.get(key)) as string) as Record<string, unknown>
    expect(Object.keys(record)).toEqual(['v', 'data', 'expiry', 'expiresAt', 'createdAt', 'auth'])
    expect(record.createdAt).toBeGreaterThanOrEqual(before)
    expect(record.createdAt).toBeLessThanOrEqual(Date.now())
    expect(record).toMatchObject({
      v: 1,
      data: { username: 'fay' },
      expiry: null,
      auth: { user: 'fay', hash: null },
    })
    expect(record.expiresAt).toBeGreaterThanOrEqual(before + 1209600_000)
    expect(record.expiresAt).toBeLessThanOrEqual(Date.now() + 1209600_000)
    const [entry] = (await env.SESSIONS.list({ prefix: key })).keys
    expect(entry?.expiration).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 1209600 - 1)
    expect(entry?.expiration).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 1209600 + 1)
  })

  it(`floors the TTL at ${KV_MIN_TTL} s, KV's minimum, for a shorter session`, async () => {
    const client = app.browser()
    const id = await logIn(client, 'gus')
    const before = Math.floor(Date.now() / 1000)
    const res = await client.post('/expiry', { json: { seconds: 5 } })
    expect(res.status).toBe(200)
    const [entry] = (await env.SESSIONS.list({ prefix: await kvKeyFor(id) })).keys
    expect(entry?.expiration).toBeGreaterThanOrEqual(before + KV_MIN_TTL - 1)
    expect(entry?.expiration).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + KV_MIN_TTL + 1)
  })

  it("every KV call of a session's life (login, read, write, cycle, logout) names a hash, never the id", async () => {
    const kv = recordingKV(env.SESSIONS)
    const client = app.browser({ env: { SESSIONS: kv.namespace } })
    const first = await logIn(client, 'ida')
    await client.get('/whoami')
    await client.post('/session', { json: { n: 1 } })
    await client.post('/cycle')
    const second = client.sessionCookie!
    expect(second).not.toBe(first)
    await client.post('/logout')
    expect(client.sessionCookie).toBeUndefined()

    expect(kv.keys.length).toBeGreaterThanOrEqual(6)
    for (const key of kv.keys) {
      expect(key).toMatch(KEY)
      expect(key).not.toContain(first)
      expect(key).not.toContain(second)
    }
    expect(new Set(kv.keys)).toEqual(
      new Set([
        await kvKeyFor(first),
        await kvKeyFor(second),
        await kvRevokedKeyFor(first),
        await kvRevokedKeyFor(second),
      ]),
    )
  })

  it.each([
    ['".."', '..'],
    ['a KV key', `session:${'a'.repeat(64)}`],
    ['a percent-encoded id', '%41'.repeat(43)],
    ['an over-long id', 'A'.repeat(44)],
    ['a non-ASCII id', 'é'.repeat(43)],
    ['an empty value', ''],
  ])('a cookie holding %s never reaches KV', async (_label, value) => {
    const kv = recordingKV(env.SESSIONS)
    const sent = { cookie: `sessionid=${value}`, env: { SESSIONS: kv.namespace } }
    await app.send('/whoami', {}, sent)
    await app.send('/session', {}, sent)
    await app.send('/logout', { method: 'POST' }, sent)
    await app.send('/cycle', { method: 'POST' }, sent)
    expect(kv.keys).toEqual([])
  })
})
