/**
 * Issue 13's resurrection scenario on the KV store, within one location: a request that
 * loaded the session writes it back only after a concurrent logout or cycleKey() deleted
 * it (its record `put` held until then). The save reads the revocation marker after its
 * write, removes the write, and is refused: 409, no Set-Cookie, and the old id stays dead.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { kvKeyFor } from '../src/session'
import { device, deviceWith, type Device } from './helpers/demo'
import { json } from './helpers/http'
import { clearKV, holdingKV } from './helpers/kv'

const MESSAGE = 'The session was ended by another request while this one ran; its changes were not saved.'

beforeEach(async () => {
  await clearKV(env.SESSIONS)
})

const interruptions: [string, (victim: Device) => Promise<Response>][] = [
  ['a logout (flush())', (victim) => victim.send('/logout', { method: 'POST' })],
  ['a cycleKey()', (victim) => victim.send('/session/cycle', { method: 'POST' })],
]

const inFlight = [
  { route: 'POST /session', path: '/session', init: json('POST', { inflight: 'marker-value' }), kind: 'json' as const },
  { route: 'GET /session-hit/', path: '/session-hit/', init: {}, kind: 'html' as const },
]

describe.each(inFlight)('KV store: $route in flight', ({ path, init, kind }) => {
  it.each(interruptions)('after %s that answered first: 409, no Set-Cookie, and the record is not back', async (_name, interrupt) => {
    const kv = holdingKV(env.SESSIONS)
    const bindings = { ...env, SESSION_STORE: 'kv', SESSIONS: kv.namespace }
    const victim = device(bindings)
    const token = await victim.login(`kv-${crypto.randomUUID().slice(0, 8)}`)
    const key = await kvKeyFor(token)

    const held = kv.hold('put', key) // the in-flight save's write of the record
    const pending = victim.send(path, init)
    await held.reached
    expect((await interrupt(victim)).status).toBe(200)
    expect(await env.SESSIONS.get(key)).toBeNull()
    held.release()
    const res = await pending

    expect(res.status).toBe(409)
    expect(res.headers.getSetCookie()).toEqual([])
    if (kind === 'json') expect(await res.json()).toEqual({ code: 'SESSION_INTERRUPTED', error: MESSAGE })
    else expect(await res.text()).toContain(MESSAGE)
    expect(await env.SESSIONS.get(key)).toBeNull()
    expect(await deviceWith({ ...env, SESSION_STORE: 'kv' }, token).whoami()).toBeNull()
  })
})
