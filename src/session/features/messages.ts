/**
 * @module
 * Flash messages, as Django's `django.contrib.messages` with its `SessionStorage`: a
 * message added now is read on a later request (usually the page a redirect leads to)
 * and is gone once read. Built on the session's public API alone: the messages live in
 * the session's data under Django's key `_messages`, so they work on every store, and a
 * request that neither adds nor reads one costs nothing.
 */
import type { Context } from 'hono'
import { invalidOption, SessionError } from '../foundation/errors.js'
import { Session, sessionOf } from '../core/session.js'

/** Django's message levels (`django.contrib.messages.constants`). */
export const MESSAGE_LEVELS = { debug: 10, info: 20, success: 25, warning: 30, error: 40 } as const

/** A level by name: `'debug'`, `'info'`, `'success'`, `'warning'` or `'error'`. */
export type MessageLevelName = keyof typeof MESSAGE_LEVELS

/** A level: one of {@link MESSAGE_LEVELS} by name, or any integer (Django allows custom levels). */
export type MessageLevel = MessageLevelName | number

/** Django's `DEFAULT_TAGS`: the tag each level renders with. */
export const DEFAULT_MESSAGE_TAGS: Readonly<Record<number, string>> = Object.freeze({
  10: 'debug',
  20: 'info',
  25: 'success',
  30: 'warning',
  40: 'error',
})

/**
 * Where messages are kept in the session's data: Django's `SessionStorage.session_key`.
 * The value is a JSON array of `{ "level": n, "message": "…", "extraTags"?: "…" }`.
 */
export const MESSAGES_KEY = '_messages'

/** One message as read (Django's `Message`). */
export class Message {
  /** The level, an integer (`MESSAGE_LEVELS.success` is 25). */
  readonly level: number
  /** The text. */
  readonly message: string
  /** The extra tags given when it was added (`''` when none). */
  readonly extraTags: string
  /** The level's tag (`'success'`), `''` for a level without one (Django's `level_tag`). */
  readonly levelTag: string
  /** Extra tags, then the level's tag, space-separated (Django's `tags`): for a `class`. */
  readonly tags: string

  constructor(level: number, message: string, extraTags: string, levelTag: string) {
    this.level = level
    this.message = message
    this.extraTags = extraTags
    this.levelTag = levelTag
    this.tags = [extraTags, levelTag].filter((tag) => tag !== '').join(' ')
  }

  /** The text, as Django's `str(message)`. */
  toString(): string {
    return this.message
  }
}

/** Options of {@link flashMessages}. */
export interface MessagesOptions {
  /**
   * The lowest level recorded (Django's `MESSAGE_LEVEL`): lower ones are dropped when
   * added. Below `'info'` by default, so `debug()` records nothing unless configured.
   * @default 'info' (20)
   */
  level?: MessageLevel
  /** Tags for levels, over {@link DEFAULT_MESSAGE_TAGS} (Django's `MESSAGE_TAGS`). @default {} */
  tags?: Readonly<Record<number, string>>
}

/** Options of {@link Messages.add}. */
export interface AddMessageOptions {
  /** Extra tags, space-separated (Django's `extra_tags`). @default '' */
  extraTags?: string
}

/** What messages are added to and read from: the request's context, or its session. */
// biome-ignore lint/suspicious/noExplicitAny: a session of any data type
export type MessageTarget = Context | Session<any>

/** Adds a message of one level (Django's `messages.success(request, …)` and its siblings). */
export type AddAtLevel = (
  target: MessageTarget,
  message: string,
  options?: AddMessageOptions,
) => Promise<boolean>

/** The messages API, made by {@link flashMessages}; {@link messages} uses the defaults. */
export interface Messages {
  /**
   * Adds a message for a later request (Django's `add_message()`). Resolves `false`, and
   * stores nothing, for an empty message or a level below the minimum; `true` once it is
   * in the session. Rejects like `session.set()` (`STORE_UNAVAILABLE`, `PAYLOAD_TOO_LARGE`).
   */
  add(
    target: MessageTarget,
    level: MessageLevel,
    message: string,
    options?: AddMessageOptions,
  ): Promise<boolean>
  /**
   * The messages stored so far, oldest first, including any added in this request, and
   * removes them (Django's `get_messages()`, iterated). With none stored it writes nothing.
   */
  get(target: MessageTarget): Promise<Message[]>
  debug: AddAtLevel
  info: AddAtLevel
  success: AddAtLevel
  warning: AddAtLevel
  error: AddAtLevel
  /** This request's minimum level (Django's `get_level()`). */
  getLevel(target: MessageTarget): number
  /** Sets this request's minimum level; `null` restores the configured one (Django's `set_level()`). */
  setLevel(target: MessageTarget, level: MessageLevel | null): void
}

/** One message as stored in the session. */
interface StoredMessage {
  level: number
  message: string
  extraTags?: string
}

const invalidValue = (why: string): SessionError =>
  new SessionError('INVALID_VALUE', `messages: ${why}`)

/** A level as an integer; `null` for anything that is neither a known name nor an integer. */
function levelOf(level: unknown): number | null {
  if (typeof level === 'string')
    return Object.hasOwn(MESSAGE_LEVELS, level) ? MESSAGE_LEVELS[level as MessageLevelName] : null
  return Number.isInteger(level) ? (level as number) : null
}

/** The session a target stands for; `MISSING_STORE` when the session middleware is not installed. */
function targetSession(target: MessageTarget): Session<Record<string, unknown>> {
  const session =
    target instanceof Session
      ? target
      : sessionOf(target as Context, 'messages (kept in the session)')
  return session as Session<Record<string, unknown>>
}

/** The stored messages, leniently: entries that are not messages are dropped. */
function storedMessages(value: unknown): StoredMessage[] {
  if (!Array.isArray(value)) return []
  const out: StoredMessage[] = []
  for (const item of value as unknown[]) {
    if (typeof item !== 'object' || item === null) continue
    const { level, message, extraTags } = item as Record<string, unknown>
    if (!Number.isInteger(level) || typeof message !== 'string') continue
    const stored: StoredMessage = { level: level as number, message }
    if (typeof extraTags === 'string' && extraTags !== '') stored.extraTags = extraTags
    out.push(stored)
  }
  return out
}

/**
 * The messages API with its own minimum level and tags (Django's `MESSAGE_LEVEL` and
 * `MESSAGE_TAGS` settings). Throws `SessionError` `INVALID_OPTION` for a bad option.
 *
 * @example
 * ```ts
 * const flash = flashMessages({ level: 'debug', tags: { 40: 'danger' } })
 * await flash.debug(c, 'recorded now')
 * ```
 */
export function flashMessages(options: MessagesOptions = {}): Messages {
  const configured = levelOf(options.level ?? 'info')
  if (configured === null)
    throw invalidOption(
      'flashMessages()',
      'level',
      'must be an integer or one of debug, info, success, warning, error',
    )
  const tags: Record<number, string> = { ...DEFAULT_MESSAGE_TAGS }
  for (const [level, tag] of Object.entries(options.tags ?? {})) {
    if (!Number.isInteger(Number(level)) || typeof tag !== 'string')
      throw invalidOption('flashMessages()', 'tags', 'must map integer levels to strings')
    tags[Number(level)] = tag
  }
  // This request's level, set by setLevel(): keyed by the request's Session, so it lives
  // exactly as long as the request and needs no field in the Session class.
  const levels = new WeakMap<Session<object>, number>()
  const minimum = (session: Session<object>): number => levels.get(session) ?? configured

  const add = async (
    target: MessageTarget,
    level: MessageLevel,
    message: string,
    options: AddMessageOptions = {},
  ): Promise<boolean> => {
    const session = targetSession(target)
    const value = levelOf(level)
    if (value === null)
      throw invalidValue(
        'the level must be an integer or one of debug, info, success, warning, error',
      )
    if (typeof message !== 'string') throw invalidValue('the message must be a string')
    const extraTags = options.extraTags ?? ''
    if (typeof extraTags !== 'string') throw invalidValue('extraTags must be a string')
    // Django's add(): an empty message, or one below the recording level, is not queued.
    if (message === '' || value < minimum(session)) return false
    const stored: StoredMessage = { level: value, message }
    if (extraTags !== '') stored.extraTags = extraTags
    await session.set(MESSAGES_KEY, [...storedMessages(await session.get(MESSAGES_KEY)), stored])
    return true
  }

  const atLevel =
    (level: MessageLevelName): AddAtLevel =>
    (target, message, options) =>
      add(target, level, message, options)

  return {
    add,
    async get(target) {
      const session = targetSession(target)
      const stored = await session.get(MESSAGES_KEY)
      // Nothing stored: nothing to remove, so a request that only looks writes nothing.
      if (stored === undefined) return []
      await session.delete(MESSAGES_KEY)
      return storedMessages(stored).map(
        (m) => new Message(m.level, m.message, m.extraTags ?? '', tags[m.level] ?? ''),
      )
    },
    debug: atLevel('debug'),
    info: atLevel('info'),
    success: atLevel('success'),
    warning: atLevel('warning'),
    error: atLevel('error'),
    getLevel: (target) => minimum(targetSession(target)),
    setLevel(target, level) {
      const session = targetSession(target)
      if (level === null) {
        levels.delete(session)
        return
      }
      const value = levelOf(level)
      if (value === null)
        throw invalidValue(
          'the level must be an integer or one of debug, info, success, warning, error',
        )
      levels.set(session, value)
    },
  }
}

/**
 * Flash messages with Django's defaults (minimum level `info`, Django's tags).
 *
 * @example
 * ```ts
 * app.post('/form/set', async (c) => {
 *   await c.get('session').set('color', 'blue')
 *   await messages.success(c, 'Key color set')
 *   return c.redirect('/', 303)
 * })
 * app.get('/', async (c) => {
 *   const shown = await messages.get(c) // [Message { level: 25, message: 'Key color set', tags: 'success', … }]
 *   return c.html(render(shown))
 * })
 * ```
 */
export const messages: Messages = flashMessages()
