/**
 * Flash messages (issue 9, item 6), as Django's `django.contrib.messages` with its
 * SessionStorage: through the session middleware in workerd, on real KV (counted) and
 * on the cookie store.
 */
import { env } from 'cloudflare:test'
import { Hono } from 'hono'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  cookieStore,
  flashMessages,
  kvStore,
  Message,
  messages,
  type SessionError,
  type SessionOptions,
} from '../src/session'
import { MESSAGE_LEVELS, MESSAGES_KEY } from '../src/session/features/messages'
import { harness, storedRecords } from './helpers/harness'
import { setCookie } from './helpers/http'
import { clearKV, faultyKV } from './helpers/kv'

const SECRET = 'edge-session test secret number one, 32+ bytes'

beforeEach(async () => {
  await clearKV(env.SESSIONS)
})

afterEach(() => {
  vi.restoreAllMocks()
})

type Kind = 'kv' | 'cookie'

function on(kind: Kind, options: SessionOptions = {}): ReturnType<typeof harness> {
  return kind === 'kv'
    ? harness(options)
    : harness({ store: cookieStore({ secret: SECRET }), ...options })
}

/** Messages as plain JSON, the way a test compares them. */
const plain = (list: Message[]): unknown => JSON.parse(JSON.stringify(list))

describe.each<[Kind]>([['kv'], ['cookie']])('messages on the %s store', (kind) => {
  it('adds a message now, reads it on the next request, and it is gone after', async () => {
    const h = on(kind)
    const { res, body } = await h.run(async (_s, c) => messages.success(c, 'Key color set'))
    expect(body).toBe(true)
    expect(setCookie(res, 'sessionid')?.value).toMatch(/./) // kept in the session

    const { body: read } = await h.run(async (_s, c) => plain(await messages.get(c)))
    expect(read).toEqual([
      { level: 25, message: 'Key color set', extraTags: '', levelTag: 'success', tags: 'success' },
    ])

    const { res: again, body: none } = await h.run(async (_s, c) => plain(await messages.get(c)))
    expect(none).toEqual([])
    // The session held only the message: read, it is empty, and its cookie goes.
    expect(setCookie(again, 'sessionid')).toBeUndefined()
    expect(h.cookies.get('sessionid')).toBeUndefined()
  })

  it("keeps the order, the session's other data, and messages added after a read in the same request", async () => {
    const h = on(kind)
    await h.run(async (s, c) => {
      await s.set('color', 'blue')
      await messages.info(c, 'first')
      await messages.warning(c, 'second', { extraTags: 'sticky' })
    })
    const { body } = await h.run(async (s, c) => {
      const read = (await messages.get(c)).map(String)
      // Django iterates queued messages too, and stores what is added after iterating.
      await messages.error(c, 'third')
      return { read, color: await s.get('color') }
    })
    expect(body).toEqual({ read: ['first', 'second'], color: 'blue' })
    const { body: next } = await h.run(async (s, c) => ({
      read: plain(await messages.get(c)),
      keys: await s.keys(),
    }))
    expect(next).toEqual({
      read: [{ level: 40, message: 'third', extraTags: '', levelTag: 'error', tags: 'error' }],
      keys: ['color'],
    })
  })
})

describe("message levels and tags (Django's constants)", () => {
  it.each([
    ['debug', 10],
    ['info', 20],
    ['success', 25],
    ['warning', 30],
    ['error', 40],
  ] as const)('%s is level %d with tag %s', async (name, level) => {
    expect(MESSAGE_LEVELS[name]).toBe(level)
    const h = harness()
    const flash = flashMessages({ level: 'debug' })
    await h.run(async (_s, c) => flash[name](c, `a ${name} message`))
    const { body } = await h.run(async (_s, c) => plain(await flash.get(c)))
    expect(body).toEqual([
      { level, message: `a ${name} message`, extraTags: '', levelTag: name, tags: name },
    ])
  })

  it("records nothing below info by default (Django's MESSAGE_LEVEL), at no cost", async () => {
    const h = harness()
    const { res, body } = await h.run(async (s, c) => [
      await messages.debug(c, 'hidden'),
      messages.getLevel(c),
      s.modified,
    ])
    expect(body).toEqual([false, 20, false])
    expect(res.headers.getSetCookie()).toEqual([])
    expect(h.kv.counts).toEqual({ reads: 0, writes: 0, deletes: 0, lists: 0 })
  })

  it('lets one request lower its level with setLevel(), and null restore it', async () => {
    const h = harness()
    const { body } = await h.run(async (_s, c) => {
      messages.setLevel(c, 'debug')
      const recorded = await messages.debug(c, 'now recorded')
      const level = messages.getLevel(c)
      messages.setLevel(c, null)
      return [recorded, level, messages.getLevel(c), await messages.debug(c, 'not this one')]
    })
    expect(body).toEqual([true, 10, 20, false])
    // The level is the request's: the next request starts from the configured one.
    const { body: next } = await h.run(async (_s, c) => [
      messages.getLevel(c),
      (await messages.get(c)).map(String),
    ])
    expect(next).toEqual([20, ['now recorded']])
  })

  it('puts extra tags before the level tag, and has no level tag for a custom level', async () => {
    const h = harness()
    const flash = flashMessages({ tags: { 40: 'danger', 35: 'notice' } })
    await h.run(async (_s, c) => {
      await flash.add(c, 'warning', 'w', { extraTags: 'sticky wide' })
      await flash.add(c, 33, 'custom')
      await flash.add(c, 35, 'tagged custom')
      await flash.error(c, 'e')
    })
    const { body } = await h.run(async (_s, c) =>
      (await flash.get(c)).map((m) => [m.level, m.levelTag, m.tags]),
    )
    expect(body).toEqual([
      [30, 'warning', 'sticky wide warning'],
      [33, '', ''],
      [35, 'notice', 'notice'],
      [40, 'danger', 'danger'],
    ])
  })

  it("drops an empty message, as Django's add()", async () => {
    const h = harness()
    const { body } = await h.run(async (s, c) => [
      await messages.add(c, 'info', ''),
      await s.isEmpty(),
    ])
    expect(body).toEqual([false, true])
  })
})

describe('messages: what they cost (counting KV)', () => {
  it('a request that only reads messages, when there are none, writes nothing', async () => {
    const h = harness()
    // No session at all: no KV operation, no cookie.
    const { res: anonymous, body } = await h.run(async (_s, c) => (await messages.get(c)).length)
    expect(body).toBe(0)
    expect(h.kv.counts).toEqual({ reads: 0, writes: 0, deletes: 0, lists: 0 })
    expect(anonymous.headers.getSetCookie()).toEqual([])

    // A stored session without messages: its one read, and nothing else.
    await h.run(async (s) => s.set('a', 1))
    h.kv.reset()
    const { res } = await h.run(async (_s, c) => messages.get(c))
    expect(h.kv.counts).toEqual({ reads: 1, writes: 0, deletes: 0, lists: 0 })
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('a request that neither adds nor reads messages costs nothing', async () => {
    const h = harness()
    await h.run(async (_s, c) => messages.info(c, 'waiting'))
    h.kv.reset()
    const { res } = await h.run(() => 'untouched')
    expect(h.kv.counts).toEqual({ reads: 0, writes: 0, deletes: 0, lists: 0 })
    expect(res.headers.getSetCookie()).toEqual([])
    expect((await h.run(async (_s, c) => (await messages.get(c)).map(String))).body).toEqual([
      'waiting',
    ])
  })

  it('keeps messages under "_messages" in the session\'s data, as Django\'s SessionStorage', async () => {
    const h = harness()
    await h.run(async (s, c) => {
      await s.set('a', 1)
      await messages.success(c, 'done')
      await messages.warning(c, 'careful', { extraTags: 'sticky' })
    })
    const [record] = await storedRecords()
    expect((record!.value as { data: unknown }).data).toEqual({
      a: 1,
      [MESSAGES_KEY]: [
        { level: 25, message: 'done' },
        { level: 30, message: 'careful', extraTags: 'sticky' },
      ],
    })
  })

  it('are not consumed by a 5xx response, which saves nothing (Django skips the save on 500)', async () => {
    const h = harness()
    await h.run(async (_s, c) => messages.info(c, 'survives'))
    await h.run(async (_s, c) => messages.get(c), { status: 500 })
    expect((await h.run(async (_s, c) => (await messages.get(c)).map(String))).body).toEqual([
      'survives',
    ])
  })
})

describe('messages: inputs and failures', () => {
  it('takes the session itself as well as the context', async () => {
    const h = harness()
    await h.run(async (s) => messages.info(s, 'via the session'))
    expect((await h.run(async (s) => (await messages.get(s)).map(String))).body).toEqual([
      'via the session',
    ])
  })

  it('skips stored entries that are not messages', async () => {
    const h = harness()
    await h.run(async (s) =>
      s.set(MESSAGES_KEY, [
        { level: 20, message: 'ok' },
        'junk',
        { level: 'x', message: 'bad' },
        null,
        { level: 25 },
      ]),
    )
    expect((await h.run(async (s) => (await messages.get(s)).map(String))).body).toEqual(['ok'])
  })

  /** messages.add() as plain JavaScript calls it: any arguments. */
  const untyped = messages.add as (...args: unknown[]) => Promise<boolean>

  it.each([
    ['an unknown level name', ['loud', 'x']],
    ['a fractional level', [2.5, 'x']],
    ['a message that is not a string', ['info', 42]],
    ['extra tags that are not a string', ['info', 'x', { extraTags: 1 }]],
  ])('refuses %s with INVALID_VALUE', async (_what, args) => {
    const h = harness()
    const { body } = await h.run(async (_s, c) =>
      untyped(c, ...args).catch((e: SessionError) => e.code),
    )
    expect(body).toBe('INVALID_VALUE')
  })

  it.each([
    [{ level: 'loud' as 'info' }],
    [{ level: 1.5 }],
    [{ tags: { x: 'y' } as unknown as Record<number, string> }],
  ])('flashMessages(%j) throws INVALID_OPTION', (options) => {
    expect(() => flashMessages(options)).toThrowError(
      expect.objectContaining({ code: 'INVALID_OPTION' }) as Error,
    )
  })

  it("throws MISSING_STORE where no session middleware runs (Django's MessageFailure)", async () => {
    const app = new Hono()
    app.get('/', async (c) =>
      c.text(await messages.info(c, 'x').then(String, (e: SessionError) => e.code)),
    )
    expect(await (await app.request('http://example.com/')).text()).toBe('MISSING_STORE')
  })

  it('reads as none when the store cannot be read, and refuses to add', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const kv = faultyKV(env.SESSIONS)
    const h = harness({ store: kvStore({ namespace: kv.namespace }) })
    await h.run(async (_s, c) => messages.info(c, 'kept for later'))
    kv.faults.read = true
    const { res, body } = await h.run(async (_s, c) => ({
      read: (await messages.get(c)).length,
      add: await messages.info(c, 'x').then(String, (e: SessionError) => e.code),
    }))
    expect(body).toEqual({ read: 0, add: 'STORE_UNAVAILABLE' })
    expect(res.headers.getSetCookie()).toEqual([])
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('"event":"session.store_read_failed"'),
    )
    kv.faults.read = false
    expect((await h.run(async (_s, c) => (await messages.get(c)).map(String))).body).toEqual([
      'kept for later',
    ])
  })

  it('renders as its text and serialises with its tags', () => {
    const m = new Message(25, 'Saved', 'x', 'success')
    expect(`${m}`).toBe('Saved')
    expect(JSON.parse(JSON.stringify(m))).toEqual({
      level: 25,
      message: 'Saved',
      extraTags: 'x',
      levelTag: 'success',
      tags: 'x success',
    })
  })
})
