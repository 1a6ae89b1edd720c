/**
 * KV helpers for the tests: the wrappers of `kv-wrappers.ts` around the real binding,
 * and the assertions and clean-up that need the pool's `env` and vitest.
 */
import { env } from 'cloudflare:test'
import { expect } from 'vitest'
import { kvKeyFor } from '../../src/session/stores/kv'
import { setCookies } from './http'

export * from './kv-wrappers'

/** Names of every session record in a namespace (`session:` keys). */
export async function storedKeys(namespace: KVNamespace): Promise<string[]> {
  return (await namespace.list({ prefix: 'session:' })).keys.map((k) => k.name)
}

/**
 * Asserts a write the store refused, as a JSON app answers it: 503 `STORE_UNAVAILABLE`
 * with `Retry-After: 1` and no Set-Cookie, and the session `id` still the only one stored,
 * exactly as `before` (its record's text).
 */
export async function expectWriteRefused(
  res: Response,
  id: string,
  before: string | null,
): Promise<void> {
  expect(res.status).toBe(503)
  expect(res.headers.get('Retry-After')).toBe('1')
  expect(setCookies(res)).toEqual([])
  expect(await res.json()).toMatchObject({ code: 'STORE_UNAVAILABLE' })
  expect(await storedKeys(env.SESSIONS)).toEqual([await kvKeyFor(id)])
  expect(await env.SESSIONS.get(await kvKeyFor(id))).toBe(before)
}

/**
 * Deletes every key of a namespace. Storage is isolated per test file, not per test,
 * in vitest-pool-workers 0.15; call this in `beforeEach` where tests count records.
 */
export async function clearKV(namespace: KVNamespace): Promise<void> {
  let cursor: string | undefined
  do {
    const page: KVNamespaceListResult<unknown, string> = await namespace.list(
      cursor ? { cursor } : {},
    )
    await Promise.all(page.keys.map((k) => namespace.delete(k.name)))
    cursor = page.list_complete ? undefined : page.cursor
  } while (cursor)
}
