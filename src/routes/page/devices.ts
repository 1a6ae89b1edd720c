/**
 * @module
 * "Your sessions" in words a person recognises: the device the library describes for each
 * session (`SessionInfo.device`), and times as "2 minutes ago".
 */
import type { DeviceDetails } from '../../session/store.js'

/** Longest raw `User-Agent` shown when the library recognises neither a browser nor a system. */
const MAX_RAW = 60

/**
 * The device's label ("Firefox 128 on Linux", "curl 8"), as the library describes the
 * session's device; "Unknown device" without a `User-Agent`. Where the library recognises
 * nothing, the demo shows the stored `User-Agent` itself, shortened to 60 characters and
 * without control or format characters (the library never does): the end-to-end tests
 * name their browsers that way.
 *
 * @example
 * ```ts
 * deviceName(session.device, session.userAgent) // 'Firefox 128 on Linux'
 * ```
 */
export function deviceName(
  device: Pick<DeviceDetails, 'browser' | 'os' | 'label'>,
  userAgent: string | null,
): string {
  if (device.browser !== null || device.os !== null || userAgent === null) return device.label
  const raw = userAgent
    .slice(0, 1024)
    .replace(/[\p{Cc}\p{Cf}]/gu, '')
    .trim()
  if (raw === '') return device.label
  return raw.length > MAX_RAW ? `${raw.slice(0, MAX_RAW - 1)}…` : raw
}

const UNITS: [ms: number, name: string][] = [
  [86_400_000, 'day'],
  [3_600_000, 'hour'],
  [60_000, 'minute'],
]

/**
 * A time relative to `now`, as devices pages say it: "just now" within a minute, then
 * "2 minutes ago", "an hour ago", "3 days ago"; ahead of now "in 14 days"; past 30 days
 * the date, "on 2026-12-06".
 *
 * @example
 * ```ts
 * relativeTime(now - 120_000, now) // '2 minutes ago'
 * ```
 */
export function relativeTime(at: number, now: number): string {
  const distance = Math.abs(now - at)
  if (distance < 60_000) return 'just now'
  if (distance >= 30 * 86_400_000) return `on ${new Date(at).toISOString().slice(0, 10)}`
  const [size, name] = UNITS.find(([ms]) => distance >= ms)!
  // Past times round down ("2 minutes ago" until 3 have passed), times ahead round up
  // (an expiry 13.9 days ahead is "in 14 days").
  const n = at <= now ? Math.floor(distance / size) : Math.ceil(distance / size)
  const amount = n === 1 ? (name === 'hour' ? 'an hour' : `a ${name}`) : `${n} ${name}s`
  return at <= now ? `${amount} ago` : `in ${amount}`
}

/** The exact time, for a hover: "2026-12-06 03:55:38 UTC". */
export function exactTime(at: number): string {
  return `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')} UTC`
}
