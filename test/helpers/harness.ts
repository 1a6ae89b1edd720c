/**
 * A tiny Hono app around the session middleware, for tests of the library itself:
 * each request runs the function the test hands it, against real KV (wrapped in a
 * counter) and a clock the test controls, sent by the shipped test client.
 */
import { env } from 'cloudflare:test'
import { Hono, type Context } from 'hono'
import {
  kvStore,
  session,
  type Session,
  type SessionEnv,
  type SessionOptions,
} from '../../src/session'
import { testClient, type CookieJar, type TestClient } from '../../src/session/testing'
import { countingKV, type CountingKV } from './kv'

/** What a test's handler may do with the session. */
export type Step = (s: Session, c: Context<SessionEnv>) => unknown | Promise<unknown>

/** A fixed starting instant for the fake clock. */
export const T0 = Date.parse('2026-01-01T00:00:00Z')

/** The harness: app, clock, KV counter and the test client of one simulated browser. */
export interface Harness {
  app: Hono<SessionEnv>
  clock: { now: number }
  kv: CountingKV
  /** The browser: the shipped test client, sending no `Origin` of its own. */
  client: TestClient
  /** Its cookie jar. */
  cookies: CookieJar
  /** Runs `step` in a request (with the jar's cookies), updates the jar, returns the response and JSON body. */
  run(
    step: Step,
    init?: RequestInit & { url?: string; status?: number },
  ): Promise<{ res: Response; body: unknown }>
}

/**
 * Builds a harness; `options` go to `session()` (store and clock are the harness's unless
 * given). `start` is the clock's first reading: a Durable Object store's alarm deletes rows
 * that expired by the REAL clock, so tests on it start near `Date.now()`, not at {@link T0}.
 * The jar keeps time by the real clock: a cookie the fake clock has outlived is still
 * sent, so a test sees what the server does with it.
 */
export function harness(
  options: SessionOptions = {},
  { start = T0 }: { start?: number } = {},
): Harness {
  const clock = { now: start }
  const kv = countingKV(env.SESSIONS)
  const app = new Hono<SessionEnv>()
  let current: { step: Step; status: number } = { step: () => null, status: 200 }
  app.use(
    session({ store: kvStore({ namespace: kv.namespace }), now: () => clock.now, ...options }),
  )
  app.all('*', async (c) => {
    const result = await current.step(c.get('session'), c)
    return c.json((result ?? null) as object, current.status as 200)
  })
  const client = testClient(app, { env, url: 'http://example.com', origin: false })
  return {
    app,
    clock,
    kv,
    client,
    cookies: client.cookies,
    async run(step, init = {}) {
      current = { step, status: init.status ?? 200 }
      const { url = 'http://example.com/', status: _status, ...rest } = init
      const res = await client.request(url, rest)
      const text = await res.text()
      let body: unknown = text
      try {
        body = JSON.parse(text)
      } catch {
        // not JSON: keep the text
      }
      return { res, body }
    },
  }
}

/** Raw KV records under the session prefix: key, parsed value, expiration (s). */
export async function storedRecords(): Promise<
  { name: string; value: unknown; expiration: number | undefined }[]
> {
  const list = await env.SESSIONS.list({ prefix: 'session:' })
  return Promise.all(
    list.keys.map(async (k) => ({
      name: k.name,
      value: JSON.parse((await env.SESSIONS.get(k.name)) ?? 'null'),
      expiration: k.expiration,
    })),
  )
}
