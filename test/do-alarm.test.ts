/**
 * `SessionObject.alarm()`: expired rows go, live rows stay, the next sweep is scheduled,
 * and running it again (alarms are at-least-once) changes nothing. Alarms are not reset
 * between tests and really fire on their own timer, so each test deletes them after
 * itself, and expired rows are made by moving `expires_at` into the past in place (as
 * time would), which leaves the scheduled alarm where the store put it.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { durableObjectStore } from '../src/session/durable-object'
import type { SessionObject } from '../src/session/durable-object'
import { sha256Hex } from '../src/session/foundation/id'
import { clearObjects, namedStub, rowsIn, splitToken } from './helpers/do'
import { harness } from './helpers/harness'
import { generateSessionId } from '../src/session/foundation/id'

// A trail of 10 events: the storage test below logs in 41 times, and a bounded trail is
// part of what must stay flat.
const store = durableObjectStore({ namespace: env.SESSION_OBJECTS, trail: { maxEvents: 10 } })
type Stub = DurableObjectStub<SessionObject>

let users = 0
const newUser = (): string => `alarm-${++users}-${crypto.randomUUID().slice(0, 8)}`

/**
 * Logs `user` in from a new browser (or one that holds the known-device cookie
 * `knownDevice`), with an expiry in seconds if given; resolves the token.
 */
async function loginAs(
  user: string,
  expirySeconds?: number,
  knownDevice?: string,
): Promise<string> {
  const h = harness({ store }, { start: Date.now() })
  if (knownDevice !== undefined) h.cookies.set('sessionid_device', knownDevice)
  const { res } = await h.run(async (s) => {
    await s.login(user)
    if (expirySeconds !== undefined) await s.setExpiry(expirySeconds)
  })
  expect(res.status).toBe(200)
  return h.cookies.get('sessionid')!
}

/** Moves the sessions of `tokens` past their expiry, as if their time had come (the alarm is left alone). */
async function expire(stub: Stub, tokens: string[]): Promise<void> {
  const hashes = await Promise.all(tokens.map((t) => sha256Hex(splitToken(t).id)))
  await runInDurableObject(stub, (_instance, state) => {
    for (const hash of hashes)
      state.storage.sql.exec(
        'UPDATE sessions SET expires_at = ? WHERE hash = ?',
        Date.now() - 1_000,
        hash,
      )
  })
}

const alarmOf = (stub: Stub): Promise<number | null> =>
  runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())
const sizeOf = (stub: Stub): Promise<number> =>
  runInDurableObject(stub, (_instance, state) => state.storage.sql.databaseSize)

beforeEach(async () => {
  await clearObjects()
})

afterEach(async () => {
  // Alarms left scheduled would fire during a later test.
  await clearObjects()
})

describe('SessionObject.alarm()', () => {
  it('removes expired rows, keeps live ones as they are, and wakes again at the next expiry', async () => {
    const user = newUser()
    const stub = namedStub(`user:${user}`)
    await loginAs(user) // two weeks
    await loginAs(user, 3600) // an hour
    const dead = [await loginAs(user), await loginAs(user, 600)]
    await expire(stub, dead)
    const rows = await rowsIn(stub)
    const deadHashes = await Promise.all(dead.map((t) => sha256Hex(splitToken(t).id)))
    const live = rows.filter((r) => !deadHashes.includes(r.hash))
    expect(live).toHaveLength(2)
    // Expired rows read as no session already; the alarm only reclaims their storage.
    for (const token of dead)
      expect(
        await store.load(token, {
          now: Date.now(),
          request: new Request('http://x'),
          cookieName: 'sessionid',
        }),
      ).toBeNull()
    expect(await stub.count()).toBe(4)

    expect(await runDurableObjectAlarm(stub)).toBe(true)
    expect(await rowsIn(stub)).toEqual(live)
    const nextExpiry = Math.min(...live.map((r) => r.expires_at))
    expect(await alarmOf(stub)).toBe(nextExpiry)

    // At least once means maybe twice: a second run deletes nothing and schedules the same.
    expect(await runDurableObjectAlarm(stub)).toBe(true)
    expect(await rowsIn(stub)).toEqual(live)
    expect(await alarmOf(stub)).toBe(nextExpiry)
    await runInDurableObject(stub, async (instance) => {
      await instance.alarm!()
      await instance.alarm!()
    })
    expect(await rowsIn(stub)).toEqual(live)
    expect(await alarmOf(stub)).toBe(nextExpiry)
  })

  it('leaves no alarm once the last row is gone, and then has nothing to run', async () => {
    const user = newUser()
    const stub = namedStub(`user:${user}`)
    await expire(stub, [await loginAs(user), await loginAs(user)])
    expect(await alarmOf(stub)).not.toBeNull()
    expect(await runDurableObjectAlarm(stub)).toBe(true)
    expect(await stub.count()).toBe(0)
    expect(await alarmOf(stub)).toBeNull()
    expect(await runDurableObjectAlarm(stub)).toBe(false)
  })

  it('schedules the next sweep no sooner than a minute ahead', async () => {
    const user = newUser()
    const stub = namedStub(`user:${user}`)
    await loginAs(user, 30)
    const before = Date.now()
    expect(await runDurableObjectAlarm(stub)).toBe(true)
    expect(await stub.count()).toBe(1)
    const alarm = (await alarmOf(stub))!
    expect(alarm).toBeGreaterThanOrEqual(before + 60_000)
    expect(alarm).toBeLessThanOrEqual(Date.now() + 60_000)
  })

  it('keeps storage from growing with dead sessions and a full trail: every sweep gives the space back', async () => {
    const user = newUser()
    const stub = namedStub(`user:${user}`)
    // One browser logging in again and again: its known-device row is written once.
    const browser = generateSessionId()
    const keeper = await loginAs(user, undefined, browser)
    const sizes: number[] = []
    for (let round = 0; round < 4; round++) {
      const tokens = await Promise.all(
        Array.from({ length: 10 }, () => loginAs(user, undefined, browser)),
      )
      await expire(stub, tokens)
      expect(await stub.count()).toBe(11)
      expect(await runDurableObjectAlarm(stub)).toBe(true)
      expect(await stub.count()).toBe(1)
      sizes.push(await sizeOf(stub))
    }
    expect(new Set(sizes).size, `database sizes after each sweep: ${sizes.join(', ')}`).toBe(1)
    expect((await rowsIn(stub)).map((r) => r.hash)).toEqual([
      await sha256Hex(splitToken(keeper).id),
    ])
  })
})

describe('the alarm a save schedules', () => {
  it('is never later than the earliest expiry in the object, as saves change expiries', async () => {
    const user = newUser()
    const stub = namedStub(`user:${user}`)
    const token = await loginAs(user)
    const [first] = await rowsIn(stub)
    expect(await alarmOf(stub)).toBe(first!.expires_at)

    // A shorter expiry, set by a later write to the same session, pulls the alarm in.
    const h = harness({ store }, { start: Date.now() })
    h.cookies.set('sessionid', token)
    await h.run(async (s) => s.setExpiry(3600))
    const shortened = (await rowsIn(stub))[0]!.expires_at
    expect(shortened).toBeLessThan(first!.expires_at)
    expect(await alarmOf(stub)).toBe(shortened)

    // A longer-lived session added later does not push it out.
    await loginAs(user)
    expect(await alarmOf(stub)).toBe(shortened)
  })

  it('is not sooner than a sweep interval (60 s) for a short session, which reads as ended at once all the same', async () => {
    const user = newUser()
    const stub = namedStub(`user:${user}`)
    const before = Date.now()
    const token = await loginAs(user, 1)
    const after = Date.now()
    const alarm = (await alarmOf(stub))!
    expect(alarm).toBeGreaterThanOrEqual(before + 60_000)
    expect(alarm).toBeLessThanOrEqual(after + 60_000)
    // The row keeps the session's one second, and waits for the sweep.
    const [row] = await rowsIn(stub)
    expect(row!.expires_at).toBeGreaterThanOrEqual(before + 1_000)
    expect(row!.expires_at).toBeLessThanOrEqual(after + 1_000)
    // A request on a clock past that second finds no session.
    const h = harness({ store }, { start: after + 1_100 })
    h.cookies.set('sessionid', token)
    expect((await h.run(async (s) => s.getUser())).body).toBeNull()
    expect(await stub.count()).toBe(1)
    // The sweep (on the object's real clock) removes it once its second has passed.
    await expire(stub, [token])
    expect(await runDurableObjectAlarm(stub)).toBe(true)
    expect(await stub.count()).toBe(0)
    expect(await alarmOf(stub)).toBeNull()
  })
})
