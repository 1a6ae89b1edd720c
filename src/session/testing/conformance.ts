/**
 * @module
 * The store conformance suite: what every `SessionStore` promises, written once, as
 * cases that need no test runner (as `workers-oauth-provider`'s storage conformance
 * does). The library's three stores run it, and a store written by an app runs it from
 * `edge-session/testing` with a line of vitest per case. Each store declares what it
 * guarantees ({@link StoreCapabilities}); a case that needs more than that is skipped,
 * saying why.
 */
import { SessionError } from '../foundation/errors.js'
import { encodeRecord } from '../stores/record.js'
import type { SessionEvent } from '../stores/events.js'
import type {
  DestroyContext,
  KeyChanges,
  SessionRecord,
  SessionStore,
  SessionWrite,
  StoreContext,
} from '../stores/types.js'

/** What a store guarantees, as it declares it to the suite. */
export interface StoreCapabilities {
  /**
   * What `destroy()` does to other copies of a token: `'strong'`, it stops working
   * everywhere at once (Durable Objects); `'local'`, at once where it was destroyed, later
   * elsewhere (KV, within one location); `'none'`, a copy keeps working until it expires
   * (the cookie store).
   */
  readonly revocation: 'strong' | 'local' | 'none'
  /**
   * What a save does with the token: `'kept'`, a session keeps its token across saves;
   * `'reissued'`, every save gives a new token (the session is in it: the cookie store).
   */
  readonly tokens: 'kept' | 'reissued'
  /** Whether concurrent saves of one session merge key by key (`SessionWrite.changes`). */
  readonly merges: boolean
}

/** One opened store, for one case. */
export interface StoreFixture {
  readonly store: SessionStore
  readonly capabilities: StoreCapabilities
  /** The clock the cases write with, in ms since the epoch (a store may check expiry against the real clock). */
  readonly now: number
}

/** A case's outcome: passed, or skipped with the reason. */
export type ConformanceResult =
  | { readonly status: 'passed' }
  | { readonly status: 'skipped'; readonly reason: string }

/** One case of the suite: a name that states the promise, and a run that throws when it is broken. */
export interface ConformanceCase {
  readonly name: string
  /** Why the case does not apply to a store with `capabilities` (it is then skipped), or `null`. */
  skipReason(capabilities: StoreCapabilities): string | null
  run(): Promise<ConformanceResult>
}

const cannotRevoke = (c: StoreCapabilities): string | null =>
  c.revocation === 'none' ? 'the store cannot revoke (revocation: none)' : null
const cannotMerge = (c: StoreCapabilities): string | null =>
  c.merges ? null : 'the store replaces whole records (merges: false)'
const always = (): null => null

const PASSED: ConformanceResult = { status: 'passed' }
const skip = (reason: string): ConformanceResult => ({ status: 'skipped', reason })

/** Tokens no store may accept: they must be refused before any I/O. */
const HOSTILE_TOKENS = [
  '',
  '.',
  '..',
  '../../etc/passwd',
  'a'.repeat(10_000),
  'sessión',
  '%2e%2e',
  ' ',
  'null',
  '\u0000',
]

/**
 * The conformance cases for the store `open()` makes (a fresh, empty store each time).
 * Run each with your test runner; a skipped case says which capability it needs.
 *
 * @example
 * ```ts
 * import { storeConformance } from 'edge-session/testing'
 * for (const { name, run } of storeConformance(() => ({
 *   store: myStore(env.MY_DB),
 *   capabilities: { revocation: 'strong', tokens: 'kept', merges: false },
 *   now: Date.now(),
 * }))) {
 *   it(name, async (ctx) => {
 *     const result = await run()
 *     if (result.status === 'skipped') ctx.skip(result.reason)
 *   })
 * }
 * ```
 */
export function storeConformance(
  open: () => StoreFixture | Promise<StoreFixture>,
): readonly ConformanceCase[] {
  const run = (
    name: string,
    skipReason: (capabilities: StoreCapabilities) => string | null,
    body: (f: StoreFixture) => Promise<void>,
  ): ConformanceCase =>
    Object.freeze({
      name,
      skipReason,
      async run(): Promise<ConformanceResult> {
        const fixture = await open()
        const reason = skipReason(fixture.capabilities)
        if (reason !== null) return skip(reason)
        await body(fixture)
        return PASSED
      },
    })

  return Object.freeze([
    run('refuses hostile tokens before any I/O (isValidToken)', always, async ({ store }) => {
      for (const token of HOSTILE_TOKENS) {
        check(!store.isValidToken(token), `isValidToken(${JSON.stringify(token)}) is true`)
      }
    }),

    run('saves a new session and loads it back as it was written', always, async (f) => {
      const saved = await f.store.save(null, write(f, { a: 1, nested: { b: [1, 'two'] } }))
      check(f.store.isValidToken(saved.token), 'the token of a save is refused by isValidToken()')
      same(saved.moved, [], 'a save that replaces nothing moves nothing')
      const loaded = await f.store.load(saved.token, context(f))
      const written = record(f, { a: 1, nested: { b: [1, 'two'] } })
      same(loaded === null ? null : withoutRekey(loaded), plain(written), 'the loaded record')
      check(
        loaded !== null && Object.getPrototypeOf(loaded.data) === null,
        'loaded data must have a null prototype (keys like __proto__ are plain data)',
      )
    }),

    run('answers a save with the expiry it stored', always, async (f) => {
      const w = write(f, { a: 1 }, { age: 600 })
      const saved = await f.store.save(null, w)
      same(saved.expiry, { age: 600 }, 'the saved expiry')
      same(saved.expiresAt, w.record.expiresAt, 'the saved expiresAt')
    }),

    run(
      'answers a login with the events it recorded, for the logged-in user',
      always,
      async (f) => {
        const w = write(f, { a: 1 })
        const login: SessionEvent = {
          type: 'login',
          newDevice: true,
          id: null,
          at: f.now,
          user: 'conformance-user',
          handle: null,
          device: null,
          location: null,
          actor: null,
        }
        const record = { ...w.record, auth: { user: 'conformance-user', hash: null, at: f.now } }
        const saved = await f.store.save(null, {
          ...w,
          record,
          serialized: encodeRecord(record, 65536),
          events: [login],
        })
        const logins = saved.events.filter(
          (e) => e.type === 'login' && e.user === 'conformance-user',
        )
        check(logins.length === 1, `a save with a login event answers ${logins.length} logins`)
      },
    ),

    run('loads an unknown token as no session', always, async (f) => {
      const saved = await f.store.save(null, write(f, { a: 1 }))
      await f.store.destroy(saved.token, ending(f))
      const other = await f.store.save(null, write(f, { b: 2 }))
      const unknown = mutate(other.token)
      if (!f.store.isValidToken(unknown)) return
      same(await f.store.load(unknown, context(f)), null, 'a token never issued')
    }),

    run(
      'saves a loaded session again under its token, or a new one if it reissues',
      always,
      async (f) => {
        const first = await f.store.save(null, write(f, { n: 1 }))
        const second = await f.store.save(first.token, write(f, { n: 2 }, null, keys(['n'])))
        if (f.capabilities.tokens === 'kept')
          same(second.token, first.token, 'the token after a save')
        const loaded = await f.store.load(second.token, context(f))
        same(loaded?.data ?? null, { n: 2 }, 'the data after the second save')
      },
    ),

    run('ends a destroyed session for every later load', cannotRevoke, async (f) => {
      const saved = await f.store.save(null, write(f, { a: 1 }))
      await f.store.destroy(saved.token, ending(f))
      await ended(f, saved.token, 'a destroyed session')
    }),

    run('destroys an unknown session without an error', always, async (f) => {
      const saved = await f.store.save(null, write(f, { a: 1 }))
      await f.store.destroy(saved.token, ending(f))
      await f.store.destroy(saved.token, ending(f))
    }),

    run(
      'refuses to save a session destroyed since it was loaded (SESSION_INTERRUPTED)',
      cannotRevoke,
      async (f) => {
        const saved = await f.store.save(null, write(f, { a: 1 }))
        await f.store.destroy(saved.token, ending(f))
        const error = await f.store.save(saved.token, write(f, { a: 2 }, null, keys(['a']))).then(
          () => null,
          (e: unknown) => e,
        )
        check(
          error instanceof SessionError && error.code === 'SESSION_INTERRUPTED',
          `a stale save must be refused with SESSION_INTERRUPTED, not ${describe(error)}`,
        )
        await ended(f, saved.token, 'the destroyed session after the refused save')
      },
    ),

    run(
      'moves a session to a new token: the old one ends once the core destroys what did not move',
      cannotRevoke,
      async (f) => {
        const old = await f.store.save(null, write(f, { a: 1 }))
        const w: SessionWrite = { ...write(f, { a: 1 }, null, keys([])), replaces: [old.token] }
        const moved = await f.store.save(null, w)
        check(moved.token !== old.token, 'the new token equals the one it replaces')
        for (const token of moved.moved)
          check(token === old.token, 'moved names a token it did not replace')
        // What the core does after a save: destroy the replaced tokens the store did not move.
        for (const token of w.replaces)
          if (!moved.moved.includes(token)) await f.store.destroy(token, ending(f))
        await ended(f, old.token, 'the replaced token')
        same(
          (await f.store.load(moved.token, context(f)))?.data ?? null,
          { a: 1 },
          'the moved session',
        )
      },
    ),

    run('keeps the writes of two requests to different keys (merges)', cannotMerge, async (f) => {
      const saved = await f.store.save(null, write(f, { a: 1, b: 1 }))
      // Two requests loaded { a: 1, b: 1 }; one sets a, the other b.
      await f.store.save(saved.token, write(f, { a: 2, b: 1 }, null, keys(['a'])))
      const second = await f.store.save(saved.token, write(f, { a: 1, b: 2 }, null, keys(['b'])))
      same(
        (await f.store.load(second.token, context(f)))?.data ?? null,
        { a: 2, b: 2 },
        'the merged data',
      )
    }),

    run(
      'empties a session only if no other request wrote to it meanwhile (empty)',
      cannotMerge,
      async (f) => {
        if (f.store.empty === undefined)
          throw new Error('a store that merges must implement empty()')
        const kept = await f.store.save(null, write(f, { a: 1 }))
        await f.store.save(kept.token, write(f, { a: 1, b: 2 }, null, keys(['b'])))
        same(
          await f.store.empty(
            kept.token,
            write(f, {}, null, { set: [], deleted: ['a'], expiry: false }),
          ),
          'kept',
          'emptying a session another request wrote to',
        )
        same(
          (await f.store.load(kept.token, context(f)))?.data ?? null,
          { b: 2 },
          'the kept session',
        )
        const emptied = await f.store.save(null, write(f, { a: 1 }))
        same(
          await f.store.empty(
            emptied.token,
            write(f, {}, null, { set: [], deleted: ['a'], expiry: false }),
          ),
          'ended',
          'emptying a session nobody else wrote to',
        )
        await ended(f, emptied.token, 'the emptied session')
      },
    ),
  ])
}

/** A record as the core writes it, at the fixture's clock. */
function record(
  f: StoreFixture,
  data: Record<string, unknown>,
  expiry: SessionRecord['expiry'] = null,
): SessionRecord {
  const age = expiry !== null && 'age' in expiry ? expiry.age : 3600
  return { data, expiry, expiresAt: f.now + age * 1000, createdAt: f.now, auth: null }
}

/** What the core tells a store about a request. */
function context(f: StoreFixture): StoreContext {
  return { now: f.now, request: new Request('https://example.com/'), cookieName: 'sessionid' }
}

/** What the core tells a store when a session ends with no event. */
function ending(f: StoreFixture): DestroyContext {
  return { ...context(f), events: [] }
}

/** Changes to `set` (no key removed, expiry unchanged). */
const keys = (set: string[]): KeyChanges => ({ set, deleted: [], expiry: false })

/** A write of `data`, as the core makes it. */
function write(
  f: StoreFixture,
  data: Record<string, unknown>,
  expiry: SessionRecord['expiry'] = null,
  changes: KeyChanges | null = null,
): SessionWrite {
  const r = record(f, Object.assign(Object.create(null) as Record<string, unknown>, data), expiry)
  return {
    ...context(f),
    record: r,
    serialized: encodeRecord(r, 65536),
    changes,
    replaces: [],
    maxPayloadBytes: 65536,
    lifetime: { maxAge: 3600, absoluteMaxAge: null },
    events: [],
    knownDevice: null,
  }
}

/** A token of the same shape that no store issued (one character changed). */
function mutate(token: string): string {
  const i = Math.floor(token.length / 2)
  return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1)
}

const plain = (value: unknown): unknown =>
  value === undefined ? undefined : JSON.parse(JSON.stringify(value))

/**
 * Checks that `token` no longer works: its load resolves no session, or rejects with
 * `SESSION_INTERRUPTED` (a store that tells a request in flight that its session moved).
 */
async function ended(f: StoreFixture, token: string, what: string): Promise<void> {
  const loaded = await f.store.load(token, context(f)).catch((error: unknown) => {
    if (error instanceof SessionError && error.code === 'SESSION_INTERRUPTED') return null
    throw error
  })
  same(loaded, null, what)
}

/** The loaded record as plain JSON, without the `rekey` mark (a store's own business). */
function withoutRekey(loaded: SessionRecord & { rekey?: true }): unknown {
  const { rekey: _rekey, ...rest } = loaded
  return plain(rest)
}

const describe = (error: unknown): string =>
  error === null
    ? 'success'
    : error instanceof Error
      ? `${error.name}: ${error.message}`
      : String(error)

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`Store conformance: ${message}`)
}

function same(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(plain(actual))
  const e = JSON.stringify(plain(expected))
  check(a === e, `${what} is ${a}, expected ${e}`)
}
