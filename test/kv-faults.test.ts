/**
 * KV faults: a wrapper around the real KV binding fails on command (reads, writes
 * including KV's 429 for a second write to one key within a second, deletes), and
 * corrupt records are planted under the real key (`kvKeyFor`).
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  kvStore,
  setCookie as setAnyCookie,
  type Session,
  type SessionError,
  type SessionOptions,
} from '../src/session'
import { kvKeyFor } from '../src/session/stores/kv'
import { logIn, sessionApp, users } from './helpers/app'
import { harness, type Harness } from './helpers/harness'
import { setCookie, setCookies } from './helpers/http'
import {
  clearKV,
  countingKV,
  expectWriteRefused,
  faultyKV,
  type KVFaults,
  storedKeys,
  tooManyRequests,
} from './helpers/kv'

const ID = /^[A-Za-z0-9_-]{43}$/

/** Every console.warn line, parsed when it is JSON. */
function warnings(): { lines: unknown[]; raw: string[] } {
  const spy = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
  const result = { lines: [] as unknown[], raw: [] as string[] }
  spy.mockImplementation((...args: unknown[]) => {
    const text = args.map(String).join(' ')
    result.raw.push(text)
    try {
      result.lines.push(JSON.parse(text))
    } catch {
      result.lines.push(text)
    }
  })
  return result
}

beforeEach(async () => {
  await clearKV(env.SESSIONS)
})

afterEach(() => {
  vi.restoreAllMocks()
})

/** A harness whose store is the real KV behind a fail-on-command wrapper. */
function faultyHarness(options: SessionOptions = {}): Harness & { faults: KVFaults } {
  const faulty = faultyKV(env.SESSIONS)
  const h = harness({ store: kvStore({ namespace: faulty.namespace }), ...options })
  return Object.assign(h, { faults: faulty.faults })
}

describe('a KV read that throws', () => {
  it('reads as an empty, unavailable session and leaves the cookie alone', async () => {
    const log = warnings()
    const h = faultyHarness()
    await h.run((s) => s.set('n', 1))
    const id = h.cookies.get('sessionid')
    expect(id).toMatch(ID)

    h.faults.read = true
    const { res, body } = await h.run(async (s) => ({
      n: (await s.get('n')) ?? null,
      keys: await s.keys(),
      unavailable: s.unavailable,
      empty: await s.isEmpty(),
    }))
    expect(res.status).toBe(200)
    expect(body).toEqual({ n: null, keys: [], unavailable: true, empty: true })
    expect(setCookies(res)).toEqual([])
    expect(h.cookies.get('sessionid')).toBe(id)
    expect(log.lines).toContainEqual(
      expect.objectContaining({ event: 'session.store_read_failed' }),
    )
    expect(log.raw.join('\n')).not.toContain(id)

    h.faults.read = false
    expect((await h.run(async (s) => s.get('n'))).body).toBe(1)
  })

  it.each([
    ['set()', (s: Session) => s.set('n', 2)],
    ['delete()', (s: Session) => s.delete('n')],
    ['pop()', (s: Session) => s.pop('n')],
    ['setExpiry()', (s: Session) => s.setExpiry(600)],
    ['cycleKey()', (s: Session) => s.cycleKey()],
  ])('%s rejects with STORE_UNAVAILABLE (503) and writes nothing', async (_label, write) => {
    warnings()
    const h = faultyHarness()
    await h.run((s) => s.set('n', 1))
    const id = h.cookies.get('sessionid') as string
    const before = await env.SESSIONS.get(await kvKeyFor(id))

    h.faults.read = true
    const { res, body } = await h.run(async (s) => {
      try {
        await write(s)
        return { thrown: null }
      } catch (error) {
        const e = error as SessionError
        return { thrown: e.code, status: e.status }
      }
    })
    h.faults.read = false
    expect(body).toEqual({ thrown: 'STORE_UNAVAILABLE', status: 503 })
    expect(setCookies(res)).toEqual([])
    expect(await env.SESSIONS.get(await kvKeyFor(id))).toBe(before)
    expect(await storedKeys(env.SESSIONS)).toHaveLength(1)
  })

  it.each([
    ['saveEveryRequest', { saveEveryRequest: true }],
    ['rolling expiry', { rolling: { threshold: 0.01, minInterval: 0 } }],
  ])('with %s, a failed read neither saves nor refreshes the cookie', async (_label, options) => {
    warnings()
    const h = faultyHarness(options)
    await h.run((s) => s.set('n', 1))
    h.clock.now += 3600_000
    h.faults.read = true
    const { res } = await h.run(async (s) => s.get('n'))
    expect(res.status).toBe(200)
    expect(setCookies(res)).toEqual([])
  })

  it('an unhandled STORE_UNAVAILABLE is a 503 with Retry-After and no error text', async () => {
    warnings()
    const h = faultyHarness()
    await h.run((s) => s.set('n', 1))
    h.faults.read = true
    const { res, body } = await h.run(async (s) => {
      await s.set('n', 2)
    })
    expect(res.status).toBe(503)
    expect(res.headers.get('Retry-After')).toBe('1')
    expect(setCookies(res)).toEqual([])
    expect(String(body)).not.toMatch(/simulated|KV get|\bat \S+ \(/)
  })
})

describe('a KV write that throws', () => {
  it.each([
    ['an outage', (): Error => new Error('KV PUT failed: simulated outage')],
    ['a 429 (more than one write per second to a key)', tooManyRequests],
  ])('%s: 503 without Set-Cookie; the stored session is unchanged', async (_label, error) => {
    const h = faultyHarness()
    await h.run((s) => s.set('n', 1))
    const id = h.cookies.get('sessionid') as string
    const key = await kvKeyFor(id)
    const before = await env.SESSIONS.get(key)

    let caught: unknown
    h.app.onError((err, c) => {
      caught = err
      c.header('Retry-After', '1')
      return c.text('unavailable', 503)
    })
    Object.assign(h.faults, { write: true, error })
    const { res } = await h.run(async (s, c) => {
      // Nothing the handler set may go out with the error response: not its own cookie,
      // not its headers, not the test cookie (written only once the session is stored).
      setAnyCookie(c, 'csrftoken', 'x')
      c.header('X-Handler', 'ran')
      s.setTestCookie()
      await s.set('n', 2)
    })
    Object.assign(h.faults, { write: false, error: undefined })

    expect(res.status).toBe(503)
    expect(res.headers.get('Retry-After')).toBe('1')
    expect(setCookies(res)).toEqual([])
    expect(res.headers.get('X-Handler')).toBeNull()
    expect(h.cookies.get('sessionid')).toBe(id)
    expect((caught as SessionError).code).toBe('STORE_UNAVAILABLE')
    expect(String(((caught as SessionError).cause as Error).message)).toContain(
      _label.startsWith('a 429') ? '429' : 'simulated',
    )
    expect(await env.SESSIONS.get(key)).toBe(before)
    expect((await h.run(async (s) => s.get('n'))).body).toBe(1)
  })

  it('a new session whose first write fails leaves no record and no cookie', async () => {
    const h = faultyHarness()
    h.faults.write = true
    const { res } = await h.run(async (s) => {
      await s.set('n', 1)
    })
    expect(res.status).toBe(503)
    expect(res.headers.get('Retry-After')).toBe('1')
    expect(setCookies(res)).toEqual([])
    expect(await storedKeys(env.SESSIONS)).toEqual([])
  })

  it('cycleKey() whose write fails keeps the old id working and deletes nothing', async () => {
    const h = faultyHarness()
    await h.run((s) => s.set('user', 'amy'))
    const id = h.cookies.get('sessionid') as string
    h.faults.write = true
    const { res } = await h.run(async (s) => {
      await s.cycleKey()
      await s.set('user', 'amy')
    })
    h.faults.write = false
    expect(res.status).toBe(503)
    expect(setCookies(res)).toEqual([])
    expect(await storedKeys(env.SESSIONS)).toEqual([await kvKeyFor(id)])
    expect((await h.run(async (s) => s.get('user'))).body).toBe('amy')
    expect(h.cookies.get('sessionid')).toBe(id)
  })

  it.each([
    ['set()', 'POST', '/session', { probe: 1 }],
    ['login()', 'POST', '/login', { user: 'bea' }],
    ['cycleKey()', 'POST', '/cycle', undefined],
    ['setExpiry()', 'POST', '/expiry', { seconds: 600 }],
  ])(
    'a 429 on the write of %s (%s %s) answers 503 without Set-Cookie and keeps the stored session',
    async (_call, method, path, body) => {
      const faulty = faultyKV(env.SESSIONS, { error: tooManyRequests })
      const client = sessionApp().browser()
      const id = await logIn(client, 'amy')
      const before = await env.SESSIONS.get(await kvKeyFor(id))
      faulty.faults.write = true
      const res = await sessionApp()
        .browserWith(id, { env: { ...env, SESSIONS: faulty.namespace } })
        .request(path, {
          method,
          ...(body === undefined
            ? {}
            : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
        })
      await expectWriteRefused(res, id, before)
    },
  )
})

describe('corrupt stored records', () => {
  const future = Date.now() + 86400_000
  const record = (fields: Record<string, unknown>): string =>
    JSON.stringify({ v: 1, data: { a: 1 }, expiry: null, expiresAt: future, ...fields })

  const corrupt: [label: string, text: string, reason: string][] = [
    ['plain text', 'not json', 'not-json'],
    ['truncated JSON', '{"v":1,"data":{', 'not-json'],
    ['an empty value', '', 'not-json'],
    ['a JSON array', '[1,2]', 'wrong-shape'],
    ['JSON null', 'null', 'wrong-shape'],
    ['a JSON number', '42', 'wrong-shape'],
    ['a JSON string', '"session"', 'wrong-shape'],
    [
      'no version',
      JSON.stringify({ data: { a: 1 }, expiry: null, expiresAt: future }),
      'wrong-version',
    ],
    ['version 2', record({ v: 2 }), 'wrong-version'],
    ['version "1"', record({ v: '1' }), 'wrong-version'],
    ['version 0', record({ v: 0 }), 'wrong-version'],
    ['no data', JSON.stringify({ v: 1, expiry: null, expiresAt: future }), 'wrong-shape'],
    ['data as an array', record({ data: [1] }), 'wrong-shape'],
    ['data as a string', record({ data: 'a' }), 'wrong-shape'],
    ['data as null', record({ data: null }), 'wrong-shape'],
    ['expiresAt as a string', record({ expiresAt: String(future) }), 'wrong-shape'],
    ['no expiresAt', JSON.stringify({ v: 1, data: {}, expiry: null }), 'wrong-shape'],
    [
      'an infinite expiresAt (1e400)',
      `{"v":1,"data":{},"expiry":null,"expiresAt":1e400}`,
      'wrong-shape',
    ],
    ['a negative age', record({ expiry: { age: -1 } }), 'wrong-shape'],
    ['a fractional age', record({ expiry: { age: 1.5 } }), 'wrong-shape'],
    ['both age and at', record({ expiry: { age: 1, at: future } }), 'wrong-shape'],
    ['expiry as a string', record({ expiry: 'never' }), 'wrong-shape'],
    ['expiry as an array', record({ expiry: [] }), 'wrong-shape'],
    // Parses, but cannot be honoured: a Date holds only |t| <= 8.64e15 ms, and no cookie
    // or KV TTL outlives 400 days.
    [
      'an expiresAt past the range of Date (8.64e15 + 1)',
      record({ expiresAt: 8.64e15 + 1 }),
      'out-of-range',
    ],
    ['an expiresAt of 1e300', record({ expiresAt: 1e300 }), 'out-of-range'],
    ['an expiresAt before the range of Date', record({ expiresAt: -8.64e15 - 1 }), 'out-of-range'],
    [
      'an expiry.at past the range of Date',
      record({ expiry: { at: 8.64e15 + 1 } }),
      'out-of-range',
    ],
    ['an expiry.at of -1e300', record({ expiry: { at: -1e300 } }), 'out-of-range'],
    ['an expiry age over 400 days', record({ expiry: { age: 400 * 86400 + 1 } }), 'out-of-range'],
    ['an expiry age of 1e300', record({ expiry: { age: 1e300 } }), 'out-of-range'],
  ]

  it.each(corrupt)(
    '%s: an empty session, a security event, never a 500',
    async (_label, text, reason) => {
      const log = warnings()
      const app = sessionApp()
      const id = `${'_'.repeat(10)}corrupt${'A'.repeat(26)}`
      expect(id).toMatch(ID)
      const key = await kvKeyFor(id)
      await env.SESSIONS.put(key, text)

      const res = await app.send('/session', {}, { cookie: `sessionid=${id}` })
      expect(res.status).toBe(200)
      expect(((await res.json()) as { data: unknown }).data).toEqual({})
      // The id is not adopted: the cookie is deleted, nothing is written under it.
      const cookie = setCookie(res, 'sessionid')
      expect(cookie?.value).toBe('')
      expect(await env.SESSIONS.get(key)).toBe(text)
      expect(log.lines).toContainEqual({
        event: 'session.corrupt_record',
        reason,
        keyPrefix: key.slice('session:'.length, 'session:'.length + 12),
      })
      expect(log.raw.join('\n')).not.toContain(id)

      // A write with that cookie starts a session under a fresh id; the record is not reused.
      const write = await app.send(
        '/session',
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ b: 2 }),
        },
        { cookie: `sessionid=${id}` },
      )
      expect(write.status).toBe(200)
      expect(((await write.json()) as { data: unknown }).data).toEqual({ b: 2 })
      const fresh = setCookie(write, 'sessionid')?.value
      expect(fresh).toMatch(ID)
      expect(fresh).not.toBe(id)
      expect(await env.SESSIONS.get(key)).toBe(text)
    },
  )

  it('an expired but well-formed record is no security event', async () => {
    const log = warnings()
    const id = 'B'.repeat(43)
    await env.SESSIONS.put(await kvKeyFor(id), record({ expiresAt: Date.now() - 1000 }))
    const res = await sessionApp().send('/session', {}, { cookie: `sessionid=${id}` })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { data: unknown }).data).toEqual({})
    expect(log.raw).toEqual([])
  })

  it.each([
    ['an expiresAt at the end of the range of Date', { expiresAt: 8.64e15 }],
    ['an expiry age of exactly 400 days', { expiry: { age: 400 * 86400 } }],
    ['an expiry.at at the end of the range of Date', { expiry: { at: 8.64e15 } }],
  ])('%s is honoured, not corrupt', async (_label, fields) => {
    const log = warnings()
    const id = 'D'.repeat(43)
    await env.SESSIONS.put(await kvKeyFor(id), record(fields))
    const res = await sessionApp().send('/session', {}, { cookie: `sessionid=${id}` })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { data: unknown }).data).toEqual({ a: 1 })
    expect(log.raw).toEqual([])
  })

  it('a well-formed record planted under the key is read (the control case)', async () => {
    const id = 'C'.repeat(43)
    await env.SESSIONS.put(await kvKeyFor(id), record({}))
    const res = await sessionApp().send('/session', {}, { cookie: `sessionid=${id}` })
    expect(((await res.json()) as { data: unknown }).data).toEqual({ a: 1 })
  })
})

describe('a KV delete that fails while a session ends', () => {
  /**
   * Delays every delete after the first until `open()` is called: the retry is then
   * observably in flight, and `reached` resolves once it waits at the gate.
   */
  function gated(namespace: KVNamespace): {
    namespace: KVNamespace
    reached: Promise<void>
    open(): void
  } {
    let open: () => void = () => undefined
    let arrived: () => void = () => undefined
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    const reached = new Promise<void>((resolve) => {
      arrived = resolve
    })
    let calls = 0
    const wrapped = new Proxy(namespace, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown
        if (typeof value !== 'function') return value
        return async (...args: unknown[]) => {
          if (prop === 'delete' && ++calls > 1) {
            arrived()
            await gate
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args)
        }
      },
    })
    return { namespace: wrapped, reached, open: () => open() }
  }

  /** The app's users: a session whose user's verifier changed is logged out when it is read. */
  const people = users()
  const app = sessionApp({}, { users: people })

  /** A stored session of `user` (logged in), or an anonymous one holding the one key `only`; its id and KV key. */
  async function stored(user: string | null): Promise<{ id: string; key: string }> {
    const client = app.browser()
    if (user === null) await client.post('/session', { json: { only: 1 } })
    const id = user === null ? client.sessionCookie! : await logIn(client, user)
    return { id, key: await kvKeyFor(id) }
  }

  it.each([
    ['POST /logout (flush())', 'POST', '/logout', false],
    ['POST /clear (clear() of a logged-in session)', 'POST', '/clear', false],
    ["a read that finds the user's verifier changed", 'GET', '/whoami', true],
  ])(
    '%s clears the cookie at once and retries the delete through waitUntil',
    async (_label, method, path, renew) => {
      const log = warnings()
      const user = `cleo-${crypto.randomUUID()}`
      const { id, key } = await stored(user)
      if (renew) people.renew(user)

      // The first delete fails, the retry succeeds (once it is let through).
      const faulty = faultyKV(env.SESSIONS)
      faulty.faults.delete = true
      faulty.faults.error = () => {
        faulty.faults.delete = false
        return new Error('KV DELETE failed: simulated outage')
      }
      const gate = gated(faulty.namespace)
      const counting = countingKV(gate.namespace)
      const ctx = createExecutionContext()
      const waitUntil = vi.spyOn(ctx, 'waitUntil')

      const res = await app
        .browserWith(id, { env: { SESSIONS: counting.namespace }, executionCtx: ctx })
        .request(path, { method })
      expect(res.status).toBe(200)
      const cleared = setCookie(res, 'sessionid')
      expect(cleared?.value).toBe('')
      expect(cleared?.attrs['max-age']).toBe('0')
      expect(waitUntil).toHaveBeenCalledTimes(1)
      // The retry is in flight (its revocation marker first, then the delete, held at the
      // gate): the record is still there.
      await gate.reached
      expect(counting.counts.deletes).toBe(2)
      expect(await env.SESSIONS.get(key)).not.toBeNull()

      gate.open()
      await waitOnExecutionContext(ctx)
      expect(await env.SESSIONS.get(key)).toBeNull()
      expect(log.lines).toContainEqual(
        expect.objectContaining({ event: 'session.store_delete_failed' }),
      )
      expect(log.raw.join('\n')).not.toContain(id)
    },
  )

  it('DELETE of the last key: a failed delete is tried again before the answer, not through waitUntil', async () => {
    const log = warnings()
    const { id, key } = await stored(null)
    const faulty = faultyKV(env.SESSIONS)
    faulty.faults.delete = true
    faulty.faults.error = () => {
      faulty.faults.delete = false
      return new Error('KV DELETE failed: simulated outage')
    }
    const counting = countingKV(faulty.namespace)
    const ctx = createExecutionContext()
    const waitUntil = vi.spyOn(ctx, 'waitUntil')
    const res = await app
      .browserWith(id, { env: { SESSIONS: counting.namespace }, executionCtx: ctx })
      .delete('/session/only')
    expect(res.status).toBe(200)
    const cleared = setCookie(res, 'sessionid')
    expect([cleared?.value, cleared?.attrs['max-age']]).toEqual(['', '0'])
    // The emptied session's delete failed; ending it whole deleted it, within the request.
    expect(counting.counts.deletes).toBe(2)
    expect(waitUntil).not.toHaveBeenCalled()
    expect(await env.SESSIONS.get(key)).toBeNull()
    expect(log.lines).toContainEqual(
      expect.objectContaining({ event: 'session.store_delete_failed' }),
    )
    expect(log.raw.join('\n')).not.toContain(id)
  })

  it('a retry that fails too is logged; the cookie is still cleared and the response is not an error', async () => {
    const log = warnings()
    const { id, key } = await stored('cleo')
    const faulty = faultyKV(env.SESSIONS, { delete: true })
    const ctx = createExecutionContext()
    const res = await app
      .browserWith(id, { env: { SESSIONS: faulty.namespace }, executionCtx: ctx })
      .post('/logout')
    await waitOnExecutionContext(ctx)
    expect(res.status).toBe(200)
    expect(setCookie(res, 'sessionid')?.value).toBe('')
    expect(log.lines).toContainEqual(
      expect.objectContaining({ event: 'session.store_delete_retry_failed' }),
    )
    // Both attempts failed: the record stays until its TTL (docs/security.md, "What each KV fault does").
    expect(await env.SESSIONS.get(key)).not.toBeNull()
  })

  it("POST /login over an old session retries the old record's delete through waitUntil", async () => {
    warnings()
    const { id, key } = await stored('cleo')
    const faulty = faultyKV(env.SESSIONS, { delete: true })
    faulty.faults.error = () => {
      faulty.faults.delete = false
      return new Error('KV DELETE failed: simulated outage')
    }
    const ctx = createExecutionContext()
    const waitUntil = vi.spyOn(ctx, 'waitUntil')
    const client = app.browserWith(id, {
      env: { SESSIONS: faulty.namespace },
      executionCtx: ctx,
    })
    const res = await client.post('/login', { json: { user: 'cleo' } })
    expect(res.status).toBe(200)
    const next = setCookie(res, 'sessionid')?.value
    expect(next).toMatch(ID)
    expect(next).not.toBe(id)
    expect(waitUntil).toHaveBeenCalledTimes(1)
    await waitOnExecutionContext(ctx)
    expect(await env.SESSIONS.get(key)).toBeNull()
    expect(await storedKeys(env.SESSIONS)).toEqual([await kvKeyFor(next as string)])
  })
})
