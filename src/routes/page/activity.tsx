/**
 * @module
 * The page's "Security activity" (Durable Object store): the newest events of the user's
 * trail in words, with the device, the place and the time ("Signed in from a new device ·
 * Safari 18 on iOS 18 · Berlin, Germany · 2 minutes ago").
 */
import type { FC } from 'hono/jsx'
import type { EventsPage, EventView } from '../events.js'
import { exactTime, relativeTime } from './devices.js'

/** How many events the page shows; `GET /security-events` pages through all of them. */
export const ACTIVITY_LIMIT = 10

const REVOKED: Record<NonNullable<EventView['by']>, string> = {
  user: 'Session ended from another of your sessions',
  admin: 'Session ended by an administrator',
  cap: 'Session ended: too many sessions at once',
  password: 'Session ended: your password changed',
}

/** What happened, in words. */
export function eventWords(event: EventView): string {
  switch (event.type) {
    case 'login':
      return event.newDevice ? 'Signed in from a new device' : 'Signed in'
    case 'logout':
      return 'Signed out'
    case 'revoked':
      return REVOKED[event.by ?? 'user']
    case 'reauthenticated':
      return 'Confirmed it was you'
    case 'login-failed':
      return 'Failed login'
    case 'login-throttled':
      return `Logins locked for ${Math.ceil((event.retryAfter ?? 0) / 60)} min after failed logins`
    case 'device-bound':
      return 'Session bound to its device'
    case 'session-reused':
      return 'Session ended: its cookie was used from another device'
    case 'impersonation-started':
      return `${event.impersonator} started acting as ${event.target}: ${event.reason}`
    case 'impersonation-ended':
      return `${event.impersonator} stopped acting as ${event.target} (${event.how})`
  }
}

/** The section: `events` `null` on a store that keeps no trail. */
export const SecurityActivity: FC<{ events: EventsPage | null; now: number }> = ({
  events,
  now,
}) => (
  <div id="security">
    <h3>Security activity</h3>
    {events === null ? (
      <p class="empty" id="security-unsupported">
        This store keeps no security trail; the Durable Object store does (
        <code>SESSION_STORE=do</code>).
      </p>
    ) : events.events.length === 0 ? (
      <p class="empty">Nothing yet.</p>
    ) : (
      <ol id="security-activity" class="activity">
        {events.events.map((event) => (
          <li
            data-type={event.type}
            class={event.type === 'login' && event.newDevice ? 'new-device' : undefined}
          >
            <strong>{eventWords(event)}</strong>
            {' · '}
            <span class="device-name">{event.device?.label ?? 'Unknown device'}</span>
            {event.location === null ? null : ` · ${event.location.label}`}
            {' · '}
            <time datetime={new Date(event.at).toISOString()} title={exactTime(event.at)}>
              {relativeTime(event.at, now)}
            </time>
          </li>
        ))}
      </ol>
    )}
  </div>
)
