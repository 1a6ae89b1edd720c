/**
 * The proofs a device binding accepts, and every one it refuses: wrong key, wrong, expired
 * or replayed `jti`, `alg` `none` and HS256, malformed and oversized JWTs and headers
 * (a 4xx, never a 500), and the record's `device` field.
 */
import { describe, expect, it } from 'vitest'
import { decodeRecord, encodeRecord, mergeDevice } from '../src/session/stores/record'
import type { SessionDevice, SessionRecord } from '../src/session/store'
import {
  bindSession,
  BOUND,
  boundHarness,
  logIn,
  refresh,
  refreshFully,
  register,
} from './helpers/bound'
import { deviceKey, part, proof, refreshChallenge, registrationChallenge } from './helpers/dbsc'

const isBound = async (h: ReturnType<typeof boundHarness>): Promise<unknown> =>
  (await h.run((s) => s.isDeviceBound())).body

/** An HS256 JWT over `jti` (a symmetric "proof" a binding must never accept). */
async function hs256(jti: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode('k'.repeat(32)),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  const signed = `${part({ alg: 'HS256', typ: 'dbsc+jwt' })}.${part({ jti })}`
  const mac = new Uint8Array(
    await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(signed)),
  )
  return `${signed}.${btoa(String.fromCharCode(...mac))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')}`
}

describe('POST registrationPath', () => {
  it('accepts the JWT bare, as Chromium 156 sends it', async () => {
    const h = boundHarness()
    const key = await deviceKey('ES256')
    expect(
      (await register(h, await proof(key, await logIn(h), { withJwk: true }), true)).res.status,
    ).toBe(200)
    expect(await isBound(h)).toBe(true)
  })

  it('refuses a JWT signed by another key than its jwk, offers registration again, and stays unbound', async () => {
    const h = boundHarness()
    const [key, other] = [await deviceKey('ES256'), await deviceKey('ES256')]
    const { res } = await register(
      h,
      await proof(key, await logIn(h), { withJwk: true, signWith: other }),
    )
    expect(res.status).toBe(403)
    const fresh = registrationChallenge(res)
    expect(await isBound(h)).toBe(false)
    // The fresh offer works.
    expect((await register(h, await proof(key, fresh, { withJwk: true }))).res.status).toBe(200)
    expect(await isBound(h)).toBe(true)
  })

  it.each([
    [
      'alg none',
      async (jti: string) => `${part({ alg: 'none', typ: 'dbsc+jwt' })}.${part({ jti })}.`,
    ],
    [
      'alg none with a signature',
      async (jti: string) => `${part({ alg: 'none', typ: 'dbsc+jwt' })}.${part({ jti })}.AAAA`,
    ],
    ['HS256', hs256],
    [
      'typ JWT',
      async (jti: string) =>
        proof(await deviceKey('ES256'), jti, { withJwk: true, header: { typ: 'JWT' } }),
    ],
    [
      'an EC key under RS256',
      async (jti: string) =>
        proof(await deviceKey('ES256'), jti, { withJwk: true, header: { alg: 'RS256' } }),
    ],
    ['no jwk', async (jti: string) => proof(await deviceKey('ES256'), jti)],
    [
      'a jwk with a private part',
      async (jti: string) =>
        proof(await deviceKey('ES256'), jti, {
          withJwk: true,
          header: { jwk: { kty: 'oct', k: 'AAAA' } },
        }),
    ],
  ])('refuses %s with a 403 and leaves the session unbound', async (_label, make) => {
    const h = boundHarness()
    const { res } = await register(h, await make(await logIn(h)))
    expect(res.status).toBe(403)
    expect(res.headers.get('Secure-Session-Registration')).not.toBeNull()
    expect(await isBound(h)).toBe(false)
  })

  it('refuses a jti it never issued, one issued for another session, and one older than challengeMaxAge', async () => {
    const h = boundHarness()
    const other = boundHarness()
    const key = await deviceKey('ES256')
    const challenge = await logIn(h)
    const foreign = await logIn(other)
    for (const jti of ['made-up', foreign, challenge.slice(0, -2)]) {
      expect((await register(h, await proof(key, jti, { withJwk: true }))).res.status).toBe(403)
    }
    h.clock.now += 301_000
    expect((await register(h, await proof(key, challenge, { withJwk: true }))).res.status).toBe(403)
    expect(await isBound(h)).toBe(false)
  })

  it('refuses a session not logged in, and one bound already, without offering registration', async () => {
    const h = boundHarness()
    const key = await deviceKey('ES256')
    await h.run((s) => s.set('anonymous', true))
    const anonymous = await register(h, await proof(key, 'x', { withJwk: true }))
    expect(anonymous.res.status).toBe(403)
    expect(anonymous.res.headers.get('Secure-Session-Registration')).toBeNull()
    await bindSession(h)
    const again = await register(h, await proof(key, 'x', { withJwk: true }))
    expect(again.res.status).toBe(403)
    expect(again.res.headers.get('Secure-Session-Registration')).toBeNull()
  })

  it("refuses a copied session cookie without the login's bound cookie, offering nothing; the owner still registers", async () => {
    const h = boundHarness()
    const [thief, owner] = [await deviceKey('ES256'), await deviceKey('ES256')]
    const challenge = await logIn(h)
    const bound = h.cookies.get(BOUND) as string
    h.cookies.clear(BOUND)
    const stolen = await register(h, await proof(thief, challenge, { withJwk: true }))
    expect(stolen.res.status).toBe(403)
    expect(stolen.res.headers.get('Secure-Session-Registration')).toBeNull()
    h.cookies.set(BOUND, bound)
    expect((await register(h, await proof(owner, challenge, { withJwk: true }))).res.status).toBe(
      200,
    )
  })

  it.each([
    ['empty', ''],
    ['garbage', 'garbage'],
    ['three dots', 'a.b.c'],
    ['an unterminated string', '"abc'],
    ['four parts', 'a.b.c.d'],
    ['JSON that is an array', `${part([1])}.${part({ jti: 'x' })}.AAAA`],
    ['a header that is not JSON', `${part('{')}.${part({ jti: 'x' })}.AAAA`],
    ['oversized', `${'a'.repeat(20_000)}.b.c`],
    ['oversized quoted', `"${'a'.repeat(9000)}"`],
  ])(
    'answers a 4xx, never a 500, to a Secure-Session-Response that is %s',
    async (_label, value) => {
      const h = boundHarness()
      await logIn(h)
      const { res } = await register(h, value, true)
      expect(res.status).toBe(403)
      expect(await isBound(h)).toBe(false)
    },
  )
})

describe('POST refreshPath', () => {
  it('accepts Sec-Secure-Session-Id and the JWT bare, as Chromium 156 sends them', async () => {
    const h = boundHarness()
    const { key, id } = await bindSession(h, 'RS256')
    h.clock.now += 1000
    expect((await refreshFully(h, key, id, true)).res.status).toBe(200)
  })

  it('refuses a proof signed by another key with a new challenge', async () => {
    const h = boundHarness()
    const { id } = await bindSession(h)
    h.clock.now += 1000
    const first = await refresh(h, id)
    const { res } = await refresh(
      h,
      id,
      await proof(await deviceKey('ES256'), refreshChallenge(first.res).challenge),
    )
    expect(res.status).toBe(403)
    expect(refreshChallenge(res).id).toBe(id)
  })

  it('refuses a replayed proof, the registration challenge, and a challenge older than challengeMaxAge', async () => {
    const h = boundHarness()
    const key = await deviceKey('ES256')
    const registration = await logIn(h)
    const { body } = await register(h, await proof(key, registration, { withJwk: true }))
    const id = (body as { session_identifier: string }).session_identifier
    h.clock.now += 1000
    const first = await refresh(h, id)
    const jwt = await proof(key, refreshChallenge(first.res).challenge)
    expect((await refresh(h, id, jwt)).res.status).toBe(200)
    expect((await refresh(h, id, jwt)).res.status).toBe(403)
    expect((await refresh(h, id, await proof(key, registration))).res.status).toBe(403)
    const late = await refresh(h, id)
    h.clock.now += 301_000
    expect(
      (await refresh(h, id, await proof(key, refreshChallenge(late.res).challenge))).res.status,
    ).toBe(403)
  })

  it('refuses alg none and HS256 proofs', async () => {
    const h = boundHarness()
    const { id } = await bindSession(h)
    h.clock.now += 1000
    const { challenge } = refreshChallenge((await refresh(h, id)).res)
    for (const jwt of [
      `${part({ alg: 'none', typ: 'dbsc+jwt' })}.${part({ jti: challenge })}.`,
      await hs256(challenge),
    ]) {
      expect((await refresh(h, id, jwt)).res.status).toBe(403)
    }
  })

  it('answers {"continue": false} to a proof for another session identifier than the cookie\'s', async () => {
    const h = boundHarness()
    const { key } = await bindSession(h)
    const other = 'A'.repeat(22)
    const { challenge } = refreshChallenge((await refresh(h, other)).res)
    expect((await refresh(h, other, await proof(key, challenge))).body).toEqual({ continue: false })
  })

  it.each([
    ['missing', undefined],
    ['empty', '""'],
    ['not an identifier', '"../etc"'],
    ['oversized', `"${'A'.repeat(20_000)}"`],
    ['a list', '"a", "b"'],
  ])('answers 400 to a Sec-Secure-Session-Id that is %s', async (_label, value) => {
    const h = boundHarness()
    await bindSession(h)
    const { res } = await h.run(() => null, {
      url: 'http://example.com/.well-known/dbsc/refresh',
      method: 'POST',
      headers: value === undefined ? {} : { 'Sec-Secure-Session-Id': value },
    })
    expect(res.status).toBe(400)
  })

  it.each(['garbage', 'a.b.c', `${'a'.repeat(20_000)}.b.c`, '"unterminated'])(
    'answers 403 with a challenge to the proof %#',
    async (value) => {
      const h = boundHarness()
      const { id } = await bindSession(h)
      const { res } = await refresh(h, id, value, true)
      expect(res.status).toBe(403)
      expect(refreshChallenge(res).id).toBe(id)
    },
  )
})

describe("the record's device field", () => {
  const base: SessionRecord = {
    data: {},
    expiry: null,
    expiresAt: 2e12,
    createdAt: 1e12,
    auth: { user: 'u', hash: null },
  }
  const device: SessionDevice = {
    id: 'A'.repeat(22),
    alg: 'ES256',
    jwk: { kty: 'EC', crv: 'P-256', x: 'x'.repeat(43), y: 'y'.repeat(43) },
    seen: 5,
  }

  it('is written only when present, and reads back', () => {
    expect(encodeRecord(base, 1e6)).not.toContain('device')
    expect(decodeRecord(encodeRecord(base, 1e6))).not.toHaveProperty('device')
    expect(decodeRecord(encodeRecord({ ...base, device }, 1e6))).toMatchObject({ device })
  })

  it.each([
    ['an unknown alg', { ...device, alg: 'HS256' }],
    ['an RSA key under ES256', { ...device, jwk: { kty: 'RSA', n: 'n', e: 'AQAB' } }],
    ['a bad id', { ...device, id: 'not/b64' }],
  ])('makes a record with %s corrupt', (_label, bad) => {
    expect(decodeRecord(encodeRecord({ ...base, device: bad as SessionDevice }, 1e6))).toBe(
      'wrong-shape',
    )
  })

  it('keeps, when merged, a registration the writer did not see', () => {
    const unregistered: SessionDevice = { id: device.id, alg: null, jwk: null, seen: 0 }
    expect(mergeDevice(device, unregistered)).toBe(device)
    expect(mergeDevice(unregistered, device)).toBe(device)
    expect(mergeDevice({ ...device, seen: 9 }, device)).toMatchObject({ seen: 9 })
    expect(mergeDevice(device, null)).toBeNull()
  })
})
