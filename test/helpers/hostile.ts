/**
 * What the hostile-input suites share (the library's, hostile.test.ts, and the demo's,
 * demo-hostile.test.ts): requests with a Cookie header the test writes, a legitimate
 * session to attack, and the three things every case asserts:
 * - a deliberate status, never a 500;
 * - no adoption of a foreign id: a session Set-Cookie, if any, deletes the cookie or
 *   carries a fresh id that appears nowhere in the request;
 * - no data lost for a legitimate session: its id keeps working with its data.
 */
import { expect } from 'vitest'
import { json, setCookie, setCookies } from './http'

/** A well-formed session id. */
export const ID = /^[A-Za-z0-9_-]{43}$/

/** One request with `cookie` as its whole Cookie header (none when undefined). */
export type Send = (path: string, init?: RequestInit, cookie?: string) => Promise<Response>

/** The session id a response hands out, or undefined. */
export function issuedId(res: Response): string | undefined {
  const c = setCookie(res, 'sessionid')
  return c && c.value !== '' ? c.value : undefined
}

/**
 * No foreign id adopted: every session Set-Cookie deletes the cookie, or carries a
 * well-formed id that is nowhere in the request's Cookie header (except `own`, the
 * caller's legitimate session, which may be refreshed).
 */
export function expectNoAdoption(res: Response, cookieHeader: string, own?: string): void {
  for (const c of setCookies(res).filter((s) => s.name === 'sessionid')) {
    if (c.value === '') {
      expect(c.attrs['max-age']).toBe('0')
      continue
    }
    expect(c.value).toMatch(ID)
    if (c.value !== own) expect(cookieHeader).not.toContain(c.value)
  }
}

/** An app's routes as the suites attack them. */
export interface Target {
  send: Send
  /** A POST of a JSON body (already a string, or serialised here). */
  post(path: string, body?: unknown, cookie?: string): Promise<Response>
  /** A new legitimate session: logged in as `username` (kept as `username` in the data), holding `extra`. */
  legitimate(username: string, extra?: Record<string, unknown>): Promise<string>
  /** The session's data, as `GET /session` answers it. */
  dataOf(id: string): Promise<Record<string, unknown>>
  /** Asserts the legitimate session still holds exactly `expected`. */
  expectIntact(id: string, expected: Record<string, unknown>): Promise<void>
}

/**
 * The routes of an app `send` reaches: `POST /login` with `login(username)` as its body
 * logs in (and, unless the app keeps the name in the data itself, `keepName` writes it
 * there), `GET /session` and `POST /session` read and write the data.
 */
export function target(
  send: Send,
  { login, keepName }: { login: (username: string) => unknown; keepName: boolean },
): Target {
  const post = (path: string, body: unknown = {}, cookie?: string): Promise<Response> =>
    send(path, json('POST', body), cookie)
  const dataOf = async (id: string): Promise<Record<string, unknown>> => {
    const res = await send('/session', {}, `sessionid=${id}`)
    expect(res.status).toBe(200)
    return ((await res.json()) as { data: Record<string, unknown> }).data
  }
  return {
    send,
    post,
    async legitimate(username, extra = { hits: 3 }) {
      const res = await post('/login', login(username))
      expect(res.status).toBe(200)
      const id = issuedId(res)
      expect(id).toMatch(ID)
      const write = await post(
        '/session',
        keepName ? { username, ...extra } : extra,
        `sessionid=${id}`,
      )
      expect(write.status).toBe(200)
      // Modifying an existing session keeps its id.
      expect(issuedId(write)).toBe(id)
      return id as string
    },
    dataOf,
    async expectIntact(id, expected) {
      expect(await dataOf(id)).toEqual(expected)
    },
  }
}
