/**
 * Small HTTP helpers for tests: read Set-Cookie headers, build JSON requests. (A browser's
 * cookie jar is the shipped test kit's: `testClient()` and `CookieJar`.)
 */

import { expect } from 'vitest'

/** One parsed Set-Cookie header. */
export interface SetCookie {
  name: string
  value: string
  /** Attribute names lower-cased; flag attributes map to ''. */
  attrs: Record<string, string>
  raw: string
}

/** Every Set-Cookie header of a response, parsed. */
export function setCookies(res: Response): SetCookie[] {
  return res.headers.getSetCookie().map((raw) => {
    const [pair = '', ...rest] = raw.split(';')
    const eq = pair.indexOf('=')
    const attrs: Record<string, string> = {}
    for (const part of rest) {
      const i = part.indexOf('=')
      const key = (i === -1 ? part : part.slice(0, i)).trim().toLowerCase()
      attrs[key] = i === -1 ? '' : part.slice(i + 1).trim()
    }
    return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attrs, raw }
  })
}

/** The Set-Cookie for `name`, or undefined; fails if there is more than one. */
export function setCookie(res: Response, name: string): SetCookie | undefined {
  const found = setCookies(res).filter((c) => c.name === name)
  if (found.length > 1) throw new Error(`${found.length} Set-Cookie headers for ${name}`)
  return found[0]
}

/** A JSON request init. */
export function json(method: string, body: unknown): RequestInit {
  return {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  }
}

/**
 * Unicode whitespace that `String.prototype.trim()` strips but RFC 6265 §5.2 does not
 * (it trims only SP and HTAB): a name carrying one is another cookie's name.
 */
export const UNICODE_SPACES: [label: string, char: string][] = [
  ['U+00A0', '\u00a0'],
  ['U+1680', '\u1680'],
  ['U+2000', '\u2000'],
  ['U+200A', '\u200a'],
  ['U+2028', '\u2028'],
  ['U+202F', '\u202f'],
  ['U+205F', '\u205f'],
  ['U+3000', '\u3000'],
  ['U+FEFF', '\ufeff'],
]

/** What a response's `Set-Cookie` must be, in the words of the per-request ops tables. */
/**
 * What a response's `Set-Cookie` headers must be: none; one session cookie; one session
 * cookie and the known-device cookie a login sets (`<name>_device`, 400 days); the
 * session cookie's deletion; or at most that deletion.
 */
export type SetCookieExpectation =
  | 'none'
  | 'one'
  | 'one and the known-device cookie'
  | 'deletion'
  | 'at most the deletion'

/** Whether `c` deletes its cookie: an empty value and `Max-Age=0`. */
export const isDeletion = (c: SetCookie): boolean => c.value === '' && c.attrs['max-age'] === '0'

/**
 * Asserts that `res` sets cookies as `expected` says, for the session cookie `name`, and
 * returns the new session cookie's value for `'one'` (for the caller to read it back).
 */
export function expectSetCookies(
  res: Response,
  expected: SetCookieExpectation,
  name = 'sessionid',
): string | undefined {
  const cookies = setCookies(res)
  switch (expected) {
    case 'none':
      expect(cookies).toEqual([])
      return undefined
    case 'one':
      expect(cookies).toHaveLength(1)
      expect(cookies[0]!.name).toBe(name)
      expect(isDeletion(cookies[0]!)).toBe(false)
      return cookies[0]!.value
    case 'one and the known-device cookie': {
      expect(cookies.map((c) => c.name)).toEqual([name, `${name}_device`])
      expect(isDeletion(cookies[0]!)).toBe(false)
      expect(cookies[1]!.attrs['max-age']).toBe(String(400 * 24 * 3600))
      return cookies[0]!.value
    }
    case 'deletion':
      expect(cookies).toHaveLength(1)
      expect(cookies[0]!.name).toBe(name)
      expect(isDeletion(cookies[0]!)).toBe(true)
      return undefined
    case 'at most the deletion':
      expect(cookies.length).toBeLessThanOrEqual(1)
      for (const c of cookies) expect(c.name === name && isDeletion(c)).toBe(true)
      return undefined
  }
}
