/**
 * A device-bound session in a test: a harness with \`deviceBound\` on, and the steps a DBSC
 * browser takes (log in, register, refresh), and a thief's request with only the session cookie.
 */
import { expect } from 'vitest'
import { deviceBound } from '../../src/session'
import type { SessionStore } from '../../src/session/store'
import {
  deviceKey,
  proof,
  refreshChallenge,
  registrationChallenge,
  type Alg,
  type DeviceKeyPair,
} from './dbsc'
import { harness, type Harness } from './harness'

export const SECRET = 'device-bound test secret, at least 32 bytes long'
export const REGISTER = 'http://example.com/.well-known/dbsc/register'
export const REFRESH = 'http://example.com/.well-known/dbsc/refresh'
export const BOUND = 'sessionid_bound'

/** A harness with device binding on (bound cookie 600 s), on `store` (KV when undefined). */
export function boundHarness(store?: SessionStore): Harness {
  return harness(
    { ...(store ? { store } : {}), deviceBound: deviceBound({ secret: SECRET }) },
    { start: Date.now() },
  )
}

/** Logs alice in; resolves the registration challenge the response offers. */
export async function logIn(h: Harness): Promise<string> {
  const { res } = await h.run((s) => s.login('alice'))
  return registrationChallenge(res)
}

/** POSTs a registration proof (`Secure-Session-Response`, quoted unless `bare`). */
export function register(h: Harness, jwt: string, bare = false): ReturnType<Harness['run']> {
  return h.run(() => null, {
    url: REGISTER,
    method: 'POST',
    headers: { 'Secure-Session-Response': bare ? jwt : `"${jwt}"` },
  })
}

/** POSTs a refresh for session `id`, with a proof when given. */
export function refresh(
  h: Harness,
  id: string,
  jwt?: string,
  bare = false,
): ReturnType<Harness['run']> {
  const q = (v: string): string => (bare ? v : `"${v}"`)
  return h.run(() => null, {
    url: REFRESH,
    method: 'POST',
    headers: {
      'Sec-Secure-Session-Id': q(id),
      ...(jwt === undefined ? {} : { 'Secure-Session-Response': q(jwt) }),
    },
  })
}

/** Logs in and registers a new `alg` key; resolves the key and the session identifier. */
export async function bindSession(
  h: Harness,
  alg: Alg = 'ES256',
): Promise<{ key: DeviceKeyPair; id: string }> {
  const key = await deviceKey(alg)
  const { res, body } = await register(h, await proof(key, await logIn(h), { withJwk: true }))
  expect(res.status).toBe(200)
  return { key, id: (body as { session_identifier: string }).session_identifier }
}

/** The whole refresh a browser runs: ask, get the challenge, answer it. */
export async function refreshFully(
  h: Harness,
  key: DeviceKeyPair,
  id: string,
  bare = false,
): ReturnType<Harness['run']> {
  const first = await refresh(h, id, undefined, bare)
  expect(first.res.status).toBe(403)
  return refresh(h, id, await proof(key, refreshChallenge(first.res).challenge), bare)
}

/** Runs `step` with the jar's cookies but the bound cookie (a copied session cookie); the jar is left as it was. */
export async function withoutBoundCookie(
  h: Harness,
  step: Parameters<Harness['run']>[0],
): ReturnType<Harness['run']> {
  const saved = Object.entries(h.cookies.all())
  h.cookies.clear(BOUND)
  try {
    return await h.run(step)
  } finally {
    h.cookies.clear()
    for (const [name, value] of saved) h.cookies.set(name, value)
  }
}
