/**
 * The demo's fixes of issue 17 (item 3), on each server-side store:
 * - a request refused with a `SessionError` (the library or the app answered 4xx for it)
 *   saves none of its session changes, even those made before the refusal;
 * - a username that cannot be a KV key or is not well-formed UTF-16 is a 400, never a 500.
 */
import { describe, expect, it } from 'vitest'
import { BASE, device, deviceWith } from './helpers/demo'
import { json } from './helpers/http'
import { SERVER_STORES } from './helpers/stores'

/** A form post as a same-origin browser sends it. */
const form = (fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: {
    'Content-Type': 'application/x-www-form-urlencoded',
    Origin: BASE,
    'Sec-Fetch-Site': 'same-origin',
  },
  body: new URLSearchParams(fields).toString(),
})

/**
 * A key of 128 characters (the form's longest) and a value that fill a 64 KiB session so
 * that the record still fits, but the flash message naming the key ("Key … set") does not.
 */
const LONG_KEY = 'k'.repeat(128)
const ALMOST_FULL = 'x'.repeat(65_260)

describe.each(SERVER_STORES)('on the $name store', (store) => {
  describe("a request refused with 413 for the session's size", () => {
    it('POST /form/set: the key fits, the flash message does not: 413, and the key is not saved', async () => {
      const b = device({ ...store.bindings })
      await b.call('/session', json('POST', { before: 1 }))
      const token = b.token!
      const res = await b.send('/form/set', form({ key: LONG_KEY, value: ALMOST_FULL }))
      expect(res.status).toBe(413)
      expect(await res.text()).toMatch(/would be about 655[4-9]\d bytes; the limit is 65536/)
      expect(res.headers.getSetCookie()).toEqual([])
      expect(await store.data(token)).toEqual({ before: 1 })
    })

    it('POST /session: a key set before the one refused is not saved either', async () => {
      const b = device({ ...store.bindings })
      await b.call('/session', json('POST', { before: 1 }))
      const token = b.token!
      const { res, body } = await b.call(
        '/session',
        json('POST', { small: 1, huge: 'y'.repeat(70_000) }),
      )
      expect(res.status).toBe(413)
      expect(body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
      expect(await store.data(token)).toEqual({ before: 1 })
    })

    it('a new session refused so creates nothing and sets no cookie', async () => {
      await store.clear()
      const b = device({ ...store.bindings })
      const res = await b.send('/form/set', form({ key: LONG_KEY, value: ALMOST_FULL }))
      expect(res.status).toBe(413)
      expect(b.token).toBeUndefined()
      expect(await store.count()).toBe(0)
    })
  })

  describe('POST /login with a username that cannot be a key', () => {
    it.each([
      ['a lone low surrogate', 'x\udc00'],
      ['a lone high surrogate', '\ud800'],
      ['a high surrogate at the end', 'raju\ud83d'],
      ['reversed surrogates', '\ude00\ud83d'],
    ])(
      '%s: 400, nothing stored, no cookie (a form cannot carry one: it is sent as U+FFFD)',
      async (_name, username) => {
        await store.clear()
        const b = device({ ...store.bindings })
        const { res, body } = await b.call('/login', json('POST', { username }))
        expect(res.status).toBe(400)
        expect(body).toMatchObject({ error: expect.stringContaining('"username"') })
        expect(b.token).toBeUndefined()
        expect(await store.count()).toBe(0)
      },
    )

    it('a well-formed name with astral characters logs in and round-trips', async () => {
      const b = device({ ...store.bindings })
      await b.login('raju \ud83d\ude00 ✓')
      expect(await deviceWith({ ...store.bindings }, b.token!).whoami()).toBe('raju \ud83d\ude00 ✓')
    })
  })
})
