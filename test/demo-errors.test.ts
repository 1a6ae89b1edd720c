/**
 * The demo's answer to a request whose session another request ended meanwhile
 * (`SESSION_INTERRUPTED`, 409): JSON on its JSON routes, its error page elsewhere, and no
 * Set-Cookie either way. On the Durable Object store, the in-flight request held at its
 * save (see helpers/do.ts) while the same browser logs out.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { device } from './helpers/demo'
import { clearObjects, instrument } from './helpers/do'
import { json } from './helpers/http'

const MESSAGE =
  'The session was ended by another request while this one ran; its changes were not saved.'

beforeEach(async () => {
  await clearObjects()
})

describe('a save refused because the session ended meanwhile (SESSION_INTERRUPTED)', () => {
  it.each([
    ['POST /session', '/session', json('POST', { inflight: 'marker-value' }), 'json'],
    ['GET /session-hit/', '/session-hit/', {}, 'html'],
  ] as const)('%s answers 409 as %s, without Set-Cookie', async (_route, path, init, kind) => {
    const objects = instrument()
    const bindings = { ...env, SESSION_STORE: 'do', SESSION_OBJECTS: objects.namespace }
    const victim = device(bindings)
    await victim.login(`interrupted-${crypto.randomUUID().slice(0, 8)}`)

    const held = objects.hold('update')
    const pending = victim.send(path, init) // loads the session, then waits at its save
    await held.reached
    expect((await victim.send('/logout', { method: 'POST' })).status).toBe(200)
    held.release()
    const res = await pending

    expect(res.status).toBe(409)
    expect(res.headers.getSetCookie()).toEqual([])
    if (kind === 'json') {
      expect(res.headers.get('Content-Type')).toMatch(/^application\/json/)
      expect(await res.json()).toEqual({ code: 'SESSION_INTERRUPTED', error: MESSAGE })
    } else {
      expect(res.headers.get('Content-Type')).toMatch(/^text\/html/)
      const page = await res.text()
      expect(page).toContain('<h1>Your session ended meanwhile</h1>')
      expect(page).toContain(MESSAGE)
    }
  })
})
