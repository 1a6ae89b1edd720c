/**
 * @module
 * The demo's security activity (Durable Object store): `GET /security-events`, the logged-in
 * user's trail newest first, paged as `GET /sessions`; the JSON each event is shown as (also
 * by the admin route and the page); and the demo's `onEvent`, one JSON line in the worker's
 * log per event.
 */
import { Hono, type Context } from 'hono'
import type { SessionEvent } from '../session/index.js'
import type { DeviceLocation, EventActor } from '../session/store.js'
import { type DemoEnv, SESSION_PAGE } from './env.js'

/** One event as the demo shows it: what happened, when (ms), to which session, from where, and who acted. */
export interface EventView {
  /** The event's id in the trail: `?after=` pages on from it. */
  id: string | null
  type: SessionEvent['type']
  at: number
  handle: string | null
  device: { browser: string | null; os: string | null; label: string } | null
  location: DeviceLocation | null
  /** `revoked` only: what ended the session. */
  by?: Extract<SessionEvent, { type: 'revoked' }>['by']
  /** Only where someone other than the session acted. */
  actor?: EventActor
  /** `login` only: whether this browser had not logged in as the user before. */
  newDevice?: boolean
  /** `login-throttled` only: how long the lock lasts, in seconds. */
  retryAfter?: number
  /** Impersonation events only: who acted as whom, why, and (`impersonation-ended`) how it ended. */
  impersonator?: string
  target?: string
  reason?: string
  how?: Extract<SessionEvent, { type: 'impersonation-ended' }>['how']
  /** `session-reused` only: the device that held the session's current cookie (`device` showed the old one). */
  holder?: { browser: string | null; os: string | null; label: string } | null
}

/** The view of one event. */
export function eventView(event: SessionEvent): EventView {
  const { device } = event
  const view: EventView = {
    id: event.id,
    type: event.type,
    at: event.at,
    handle: event.handle,
    device:
      device === null ? null : { browser: device.browser, os: device.os, label: device.label },
    location: event.location,
  }
  if (event.type === 'revoked') view.by = event.by
  if (event.actor !== null) view.actor = event.actor
  if (event.type === 'login') view.newDevice = event.newDevice
  if (event.type === 'login-throttled') view.retryAfter = event.retryAfter
  if (event.type === 'impersonation-started' || event.type === 'impersonation-ended') {
    view.impersonator = event.impersonator
    view.target = event.target
    view.reason = event.reason
  }
  if (event.type === 'impersonation-ended') view.how = event.how
  if (event.type === 'session-reused') {
    const { holder } = event
    view.holder =
      holder === null ? null : { browser: holder.browser, os: holder.os, label: holder.label }
  }
  return view
}

/** A page of events, newest first, and where the next one starts (`null`: none). */
export interface EventsPage {
  events: EventView[]
  next: string | null
}

/** What `?limit=` and `?after=` ask for, checked; `null` when malformed (400). */
export function eventsQuery(
  limitParam?: string,
  afterParam?: string,
): { limit: number; after: { id: string } | null } | null {
  const limit = limitParam === undefined ? SESSION_PAGE.default : Number(limitParam)
  if (!/^\d{1,4}$/.test(limitParam ?? '1') || limit < 1 || limit > SESSION_PAGE.max) return null
  if (afterParam !== undefined && !/^\d{1,15}$/.test(afterParam)) return null
  return { limit, after: afterParam === undefined ? null : { id: afterParam } }
}

/** The page of `events` (asked for with `limit`): `next` names its last event when it is full. */
export function eventsPage(events: readonly SessionEvent[], limit: number): EventsPage {
  const last = events.at(-1)
  return {
    events: events.map(eventView),
    next: events.length === limit && last !== undefined ? last.id : null,
  }
}

/** The 400 for a malformed `?limit=` or `?after=`. */
export const BAD_EVENTS_QUERY = `"limit" must be 1 to ${SESSION_PAGE.max}, and "after" the "next" of the previous page.`

/**
 * A page of the logged-in user's trail, for `GET /security-events` and the page; `null`
 * for a malformed query. `NOT_LOGGED_IN` (401) without a user, `NOT_SUPPORTED` (501) on a
 * store that keeps no trail.
 */
export async function securityPage(
  c: Context<DemoEnv>,
  limitParam?: string,
  afterParam?: string,
): Promise<EventsPage | null> {
  const query = eventsQuery(limitParam, afterParam)
  if (query === null) return null
  return eventsPage(await c.get('session').securityEvents(query), query.limit)
}

/**
 * The demo's `onEvent` (`session()` and `userSessions()`): each event, as the hook receives
 * it, as one JSON line in the worker's log (`wrangler tail`, Workers Logs).
 */
export function logSessionEvent(event: SessionEvent): void {
  console.log(JSON.stringify(event))
}

/** `GET /security-events`. Mounted by the demo app after the session middleware. */
export const securityEvents = new Hono<DemoEnv>({ strict: false })

securityEvents.get('/security-events', async (c) => {
  const page = await securityPage(c, c.req.query('limit'), c.req.query('after'))
  if (page === null) return c.json({ error: BAD_EVENTS_QUERY }, 400)
  return c.json(page)
})
