/**
 * The demo with `DEVICE_BOUND=1` on each store: `POST /login` offers registration, the
 * browser registers at the library's route, the page says the session is bound, and
 * `GET /whoami` reads as anonymous for the session cookie alone.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { deviceKey, proof, registrationChallenge } from './helpers/dbsc'
import { device, deviceWith } from './helpers/demo'
import { captureConsole } from './helpers/console'
import { json, setCookie } from './helpers/http'

describe.each(['kv', 'cookie', 'do'])('the demo with DEVICE_BOUND=1 on the %s store', (store) => {
  const bindings = { ...env, SESSION_STORE: store, DEVICE_BOUND: '1', DEVICE_BOUND_SECONDS: '120' }

  it('offers registration at POST /login, binds at the registration route, and says so on the page', async () => {
    const browser = device(bindings)
    const login = await browser.send('/login', json('POST', { username: 'raju' }))
    expect(setCookie(login, 'sessionid_bound')?.attrs['max-age']).toBe('120')
    const key = await deviceKey('ES256')
    const jwt = await proof(key, registrationChallenge(login), { withJwk: true })
    const registered = await browser.send('/.well-known/dbsc/register', {
      method: 'POST',
      headers: { 'Secure-Session-Response': jwt },
    })
    expect(registered.status).toBe(200)
    expect(await (await browser.send('/')).text()).toContain('id="device-bound"')
    expect(await browser.whoami()).toBe('raju')
    expect(await deviceWith(bindings, browser.token as string).whoami()).toBeNull()
    expect(await browser.whoami()).toBe('raju')
  })
})

describe('the demo without DEVICE_BOUND', () => {
  it('offers no registration at POST /login', async () => {
    const browser = device({ ...env, SESSION_STORE: 'kv' })
    const login = await browser.send('/login', json('POST', { username: 'raju' }))
    expect(login.status).toBe(200)
    expect(login.headers.get('Secure-Session-Registration')).toBeNull()
    expect(setCookie(login, 'sessionid_bound')).toBeUndefined()
  })
})

describe('the demo with DEVICE_BOUND=1 and a bad DEVICE_BOUND_SECONDS', () => {
  it.each(['abc', '0', '86401'])(
    'refuses %j with a logged error naming DEVICE_BOUND_SECONDS (500, nothing set)',
    async (seconds) => {
      const errors = captureConsole('error')
      const browser = device({
        ...env,
        SESSION_STORE: 'kv',
        DEVICE_BOUND: '1',
        DEVICE_BOUND_SECONDS: seconds,
      })
      const res = await browser.send('/login', json('POST', { username: 'raju' }))
      expect(res.status).toBe(500)
      expect(res.headers.getSetCookie()).toEqual([])
      expect(errors).toHaveLength(1)
      expect(String(errors[0]?.[0])).toMatch(
        /DEVICE_BOUND_SECONDS must be a whole number of seconds from 1 to 86400/,
      )
    },
  )
})

describe('the demo with DEVICE_BOUND=1 while SESSION_SECRET is rotated', () => {
  const OLD = 'the previous secret of the demo, 32 bytes or more'
  const NEW = 'the current secret of the demo, 32 bytes or more!'

  it('keeps a bound session whose bound cookie the previous secret signed, once it is in SESSION_SECRET_FALLBACKS', async () => {
    const before = { ...env, SESSION_STORE: 'kv', DEVICE_BOUND: '1', SESSION_SECRET: OLD }
    const browser = device(before)
    const login = await browser.send('/login', json('POST', { username: 'raju' }))
    const jwt = await proof(await deviceKey('ES256'), registrationChallenge(login), {
      withJwk: true,
    })
    expect(
      (
        await browser.send('/.well-known/dbsc/register', {
          method: 'POST',
          headers: { 'Secure-Session-Response': jwt },
        })
      ).status,
    ).toBe(200)

    const rotated = device({
      ...before,
      SESSION_SECRET: NEW,
      SESSION_SECRET_FALLBACKS: JSON.stringify([OLD]),
    })
    for (const [name, value] of Object.entries(browser.cookies.all()))
      rotated.cookies.set(name, value)
    expect(await rotated.whoami()).toBe('raju')
    // Without the fallback, the old bound cookie is worthless: the session reads as anonymous.
    const dropped = device({ ...before, SESSION_SECRET: NEW })
    for (const [name, value] of Object.entries(browser.cookies.all()))
      dropped.cookies.set(name, value)
    expect(await dropped.whoami()).toBeNull()
  })
})
