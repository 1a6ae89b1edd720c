/**
 * @module
 * "Your sessions" in words a person recognises: the browser and system from a
 * `User-Agent`, and times as "2 minutes ago".
 *
 * The User-Agent heuristic, on purpose small (no parser fits the demo's bundle for what
 * it shows): the first browser token that matches, in this order, names the browser,
 * because every Chromium-based browser also says "Chrome" and "Safari", and Chrome says
 * "Safari" too: `Edg/` Edge, `OPR/` or `Opera` Opera, `SamsungBrowser/` Samsung Internet,
 * `Firefox/` or `FxiOS/` Firefox, `CriOS/`, `Chrome/` or `Chromium/` Chrome, `Version/…
 * Safari/` Safari. The system: `iPhone` iOS, `iPad` iPadOS, `Android` Android, `CrOS`
 * ChromeOS, `Windows` Windows, `Mac OS X` or `Macintosh` macOS, `Linux` Linux (Android
 * says Linux too: it is tested first). Neither found: the raw string, shortened.
 */

const BROWSERS: [RegExp, string][] = [
  [/\bEdg(e|A|iOS)?\//, 'Edge'],
  [/\bOPR\/|\bOpera\b/, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\bFirefox\/|\bFxiOS\//, 'Firefox'],
  [/\bCriOS\/|\b(Headless)?Chrome\/|\bChromium\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
]

const SYSTEMS: [RegExp, string][] = [
  [/\biPhone\b/, 'iOS'],
  [/\biPad\b/, 'iPadOS'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
]

/** Longest raw `User-Agent` shown when neither a browser nor a system is recognised. */
const MAX_RAW = 60

/**
 * "Firefox on Linux", "Safari on iOS", "Chrome", "Windows"; the raw string (shortened)
 * when nothing is recognised; "Unknown device" without one.
 *
 * @example
 * ```ts
 * describeDevice('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0') // 'Firefox on Linux'
 * ```
 */
export function describeDevice(userAgent: string | null): string {
  if (userAgent === null || userAgent.trim() === '') return 'Unknown device'
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1]
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1]
  if (browser !== undefined && system !== undefined) return `${browser} on ${system}`
  const known = browser ?? system
  if (known !== undefined) return known
  return userAgent.length > MAX_RAW ? `${userAgent.slice(0, MAX_RAW - 1)}…` : userAgent
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
