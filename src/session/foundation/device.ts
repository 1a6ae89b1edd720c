/**
 * @module
 * Devices a person recognises: "Chrome 147 on macOS", "Safari 26 on iOS 26", and where a
 * request came from, "Berlin, Germany", from a request's `User-Agent`, its User-Agent
 * Client Hints and `request.cf`. Pure functions of what they are given: no I/O, nothing
 * kept between calls, and nothing from the rest of the library.
 *
 * Hand-written on purpose (docs/internals/package.md has the measurements): bowser 2.15.1 (MIT), the
 * smallest well-kept parser, adds 37.8 KiB minified, 7.9 KiB gzipped, to a Worker, three
 * quarters of what all of `session()` with KV costs (10.5 KiB gzipped); and it takes client
 * hints only as objects the caller parses, uses their brands but not the platform version
 * (Windows 11 reads "Windows 10"), and takes Chrome's frozen "Android 10" at its word.
 * ua-parser-js 2.x is AGPL. This module adds 7.2 KiB minified, 2.8 KiB gzipped.
 *
 * What a label is made of, and what it never is:
 * - Every word of `browser`, `os` and `label` comes from the tables below; a version is
 *   a number of at most four digits; the one thing a request spells itself is `model`
 *   (the `Sec-CH-UA-Model` hint), reduced to printable ASCII and 40 characters. So a
 *   hostile `User-Agent` can pick a label among those this module can say, never write
 *   one: nothing on a devices page reads "call support on…" because a request said so.
 * - Headers are read up to a bound (1,024 characters of `User-Agent`, 256 of a hint) and
 *   nothing is thrown, whatever they hold.
 * - Client hints win over the `User-Agent` where both speak, because the `User-Agent` is
 *   frozen where it matters: Chrome sends "Windows NT 10.0" on Windows 10 and 11,
 *   "Mac OS X 10_15_7" on every macOS and "Android 10; K" on every Android; Safari 26 on
 *   iOS says "iPhone OS 18_6". A version that is only a frozen value is left out ("macOS",
 *   "Android") rather than guessed. Only Chromium browsers send hints, only over HTTPS,
 *   and only `Sec-CH-UA`, `-Mobile` and `-Platform` until the site asks for more with an
 *   `Accept-CH` response header ({@link DEVICE_CLIENT_HINTS}).
 * - An iPad in its default "desktop website" mode sends the `User-Agent` of Safari on a
 *   Mac, so it reads as macOS: no server can tell them apart. Chrome, Edge and Firefox on
 *   an iPad keep their iOS token (`CriOS`, `EdgiOS`, `FxiOS`) on that Mac string, and read
 *   as iPadOS.
 */

/** What kind of device a request came from; `'unknown'` for bots, tools and the unrecognised. */
export type DeviceType = 'desktop' | 'mobile' | 'tablet' | 'unknown'

/** A device as a person recognises it, from {@link describeDevice}. */
export interface DeviceDetails {
  /**
   * The browser (or app, tool, bot) and its major version: `'Chrome 147'`, `'Safari 26'`,
   * `'Samsung Internet 27'`, `'Facebook app'`, `'curl 8'`, `'Googlebot'`; `null` when not
   * recognised.
   */
  readonly browser: string | null
  /** The system and, where it is known and not frozen, its major version: `'macOS'`, `'Windows 11'`, `'iOS 26'`, `'Android 15'`, `'Linux'`, `'ChromeOS'`; `null` when not recognised. */
  readonly os: string | null
  /** Desktop, mobile (a phone), tablet, or unknown. */
  readonly type: DeviceType
  /** The device model from the `Sec-CH-UA-Model` hint (`'Pixel 9 Pro'`), printable ASCII, at most 40 characters; `null` without one. */
  readonly model: string | null
  /**
   * What a devices page shows: `'Chrome 147 on macOS'`; `'Chrome 147 on an unknown system'`
   * or `'A browser on Windows'` when one half is unknown; the name alone for a tool or bot
   * (`'curl 8'`); `'Unknown device'` when nothing is recognised or there is no `User-Agent`.
   */
  readonly label: string
}

/** Where a request came from, from {@link describeLocation}. */
export interface DeviceLocation {
  /** `request.cf.country`: an ISO 3166-1 alpha-2 code (`'DE'`), or `'T1'` for Tor; `null` when absent or unknown (`'XX'`). */
  readonly country: string | null
  /** `request.cf.region` (`'Texas'`), at most 64 characters, control and format characters removed; `null` when absent. */
  readonly region: string | null
  /** `request.cf.city` (`'Austin'`), bounded and cleaned as `region`; `null` when absent. */
  readonly city: string | null
  /** City, region and country as a person reads them: `'Austin, Texas, United States'`, `'Berlin, Germany'`, `'Germany'`. */
  readonly label: string
}

/** Options of {@link describeLocation}. */
export interface DescribeLocationOptions {
  /**
   * The language of the country's name in `label` (a BCP 47 tag, for `Intl.DisplayNames`).
   * A tag the runtime cannot use leaves the code (`'DE'`).
   * @default 'en'
   */
  locale?: string
}

/**
 * The client hints beyond the three Chromium sends by default that {@link describeDevice}
 * reads: the value of an `Accept-CH` response header asking for them. With it, the next
 * requests tell Windows 11 from 10 and carry the macOS and Android versions and the phone's
 * model. Send it on HTTPS responses only (browsers ignore it elsewhere).
 *
 * @example
 * ```ts
 * app.use(async (c, next) => {
 *   await next()
 *   c.header('Accept-CH', DEVICE_CLIENT_HINTS)
 * })
 * ```
 */
export const DEVICE_CLIENT_HINTS =
  'Sec-CH-UA-Full-Version-List, Sec-CH-UA-Platform-Version, Sec-CH-UA-Model'

/** Characters of `User-Agent` read: real ones stay under 500; past this nothing is matched. */
const MAX_AGENT = 1024
/** Characters of a client hint read: a brand list is under 150. */
const MAX_HINT = 256
/** Characters kept of `Sec-CH-UA-Model`. */
const MAX_MODEL = 40
/** Characters (code points) kept of `cf.region` and `cf.city`. */
const MAX_PLACE = 64

const UNKNOWN = 'Unknown device'

/** A name that some pattern's first matching capture group versions (`(\d+)`), or that stands alone. */
type Rule = readonly [pattern: RegExp, name: string]

/**
 * Crawlers: a known name, or the word bot/crawler/spider on its own or before a version
 * ("SomeBot/1.0"). Not any word ending in "bot": Cubot is a phone maker.
 */
const BOTS: readonly Rule[] = [
  [/\bGooglebot\b|\bGoogle-InspectionTool\b/i, 'Googlebot'],
  [/\bbingbot\b/i, 'Bingbot'],
  [/\bApplebot\b/i, 'Applebot'],
  [/\bDuckDuckBot\b/i, 'DuckDuckBot'],
  [/\bYandexBot\b/i, 'YandexBot'],
  [/\bBaiduspider\b/i, 'Baiduspider'],
  [/\bGPTBot\b/i, 'GPTBot'],
  [/\bClaudeBot\b/i, 'ClaudeBot'],
  [/\bfacebookexternalhit\b/i, 'Facebook crawler'],
  [/\bbot\b|\bcrawler\b|\bspider\b|[a-z](?:bot|crawler|spider)\/\d/i, 'A bot'],
]

/** Programs that are not browsers, by their leading product token. */
const TOOLS: readonly Rule[] = [
  [/^curl\/(\d+)/i, 'curl'],
  [/^Wget\/(\d+)/i, 'Wget'],
  [/^python-requests\/(\d+)/i, 'Python requests'],
  [/^Python-urllib\/(\d+)/i, 'Python urllib'],
  [/^python-httpx\/(\d+)/i, 'Python httpx'],
  [/^aiohttp\/(\d+)|\baiohttp\/(\d+)/i, 'Python aiohttp'],
  [/^Go-http-client\/(\d+)/i, 'Go HTTP client'],
  [/^okhttp\/(\d+)/i, 'OkHttp'],
  [/^node-fetch\b|^undici\b|^node\b/i, 'Node.js'],
  [/^axios\/(\d+)/i, 'axios'],
  [/^PostmanRuntime\/(\d+)/i, 'Postman'],
  [/^insomnia\/(\d+)/i, 'Insomnia'],
  [/^HTTPie\/(\d+)/i, 'HTTPie'],
  [/^Java\/(\d+)|^Apache-HttpClient\/(\d+)/i, 'Java'],
  [/^Dalvik\//i, 'Android app'],
  [/^Deno\/(\d+)/i, 'Deno'],
  [/^Bun\/(\d+)/i, 'Bun'],
]

/**
 * Browsers and in-app browsers, the first that matches wins, so the order is the point:
 * apps that embed a browser say so after its tokens; every Chromium-based browser also
 * says "Chrome" and "Safari", and Chrome says "Safari" too; Android's WebView says
 * "Chrome" with "; wv"; Safari alone has `Version/` with `Safari/` and none of the rest.
 */
const BROWSERS: readonly Rule[] = [
  [/\bFBAN\/|\bFB_IAB\/|\bFBAV\//, 'Facebook app'],
  [/\bInstagram \d/, 'Instagram app'],
  [/\bLine\/\d/, 'LINE app'],
  [/\bMicroMessenger\//, 'WeChat'],
  [/\bmusical_ly_|\bBytedanceWebview\//, 'TikTok app'],
  [/\bTelegram-Android\//, 'Telegram app'],
  [/\bSnapchat\//, 'Snapchat app'],
  [/\bGSA\/\d/, 'Google app'],
  [/\bEdg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
  [/\b(?:OPR|OPT|OPX|OPiOS)\/(\d+)|\bOpera\b/, 'Opera'],
  [/\bSamsungBrowser\/(\d+)/, 'Samsung Internet'],
  [/\bYaBrowser\/(\d+)/, 'Yandex Browser'],
  [/\bHuaweiBrowser\/(\d+)/, 'Huawei Browser'],
  [/\bVivaldi\/(\d+)/, 'Vivaldi'],
  [/\bUCBrowser\/(\d+)|\bUCMobile\/(\d+)/, 'UC Browser'],
  [/\bDuckDuckGo\/(\d+)|\bDdg\/(\d+)/, 'DuckDuckGo'],
  [/\bSilk\/(\d+)/, 'Silk'],
  [/\bBrave\b/, 'Brave'],
  [/; wv\)/, 'In-app browser'],
  [/\bFirefox\/(\d+)|\bFxiOS\/(\d+)/, 'Firefox'],
  [/\bChromium\/(\d+)/, 'Chromium'],
  [/\bCriOS\/(\d+)|\b(?:Headless)?Chrome\/(\d+)/, 'Chrome'],
  [/\bMSIE (\d+)|\bTrident\/[\d.]+;[^)]*\brv:(\d+)/, 'Internet Explorer'],
  [/\bVersion\/(\d+)[\d.]*(?: Mobile\/\w+)? Safari\//, 'Safari'],
]

/** Brands of the `Sec-CH-UA` lists, by name; anything else (GREASE, "Chromium" under a brand) is skipped. */
const BRANDS: Readonly<Record<string, string>> = {
  'Google Chrome': 'Chrome',
  HeadlessChrome: 'Chrome',
  'Microsoft Edge': 'Edge',
  Opera: 'Opera',
  'Opera GX': 'Opera',
  'Samsung Internet': 'Samsung Internet',
  Brave: 'Brave',
  Yandex: 'Yandex Browser',
  YaBrowser: 'Yandex Browser',
  Vivaldi: 'Vivaldi',
  DuckDuckGo: 'DuckDuckGo',
  'Android WebView': 'In-app browser',
}

/** `Sec-CH-UA-Platform` values, as shown. */
const PLATFORMS: Readonly<Record<string, string>> = {
  Windows: 'Windows',
  macOS: 'macOS',
  Android: 'Android',
  'Chrome OS': 'ChromeOS',
  ChromeOS: 'ChromeOS',
  Linux: 'Linux',
  iOS: 'iOS',
  Fuchsia: 'Fuchsia',
}

/** Windows NT versions before 10 (NT 10.0 is Windows 10 and 11 alike). */
const WINDOWS_NT: Readonly<Record<string, string>> = {
  '6.3': 'Windows 8.1',
  '6.2': 'Windows 8',
  '6.1': 'Windows 7',
  '6.0': 'Windows Vista',
  '5.2': 'Windows XP',
  '5.1': 'Windows XP',
}

/** A system read from the `User-Agent`. */
interface System {
  os: string
  type: DeviceType
}

/** A header's value, at most `max` characters; `''` when absent or unreadable. */
function read(headers: { get(name: string): string | null }, name: string, max: number): string {
  try {
    const value = headers.get(name)
    return typeof value === 'string' ? value.slice(0, max) : ''
  } catch {
    return ''
  }
}

/** A version as shown: a whole number of 1 to 4 digits without a leading zero, else nothing. */
function major(digits: string | undefined): string | null {
  return digits !== undefined && /^[1-9]\d{0,3}$/.test(digits) ? digits : null
}

/** The name of the first rule that matches, with the version its first capture group holds. */
function firstMatch(rules: readonly Rule[], agent: string): string | null {
  for (const [pattern, name] of rules) {
    const match = pattern.exec(agent)
    if (match === null) continue
    const version = major(match.slice(1).find((group) => group !== undefined))
    return version === null ? name : `${name} ${version}`
  }
  return null
}

/** The name part of `browser` ("Samsung Internet 27" → "Samsung Internet"). */
const nameOf = (browser: string): string => browser.replace(/ \d+$/, '')

/**
 * iOS and iPadOS from the `User-Agent`. Safari 26 freezes the system at "18_6" (then
 * "18_7") and moves the real one to `Version/`, so from 18.6 on only Safari's
 * `Version/` is believed; another iOS browser there shows the system without a version.
 */
function appleMobile(agent: string, name: 'iOS' | 'iPadOS'): string {
  const system = /\bOS (\d+)[_.](\d+)[^)]*like Mac OS X/i.exec(agent)
  const safari = /\bVersion\/(\d+)[\d.]*(?: Mobile\/\w+)? Safari\//.exec(agent)
  const osMajor = Number(system?.[1] ?? 0)
  const osMinor = Number(system?.[2] ?? 0)
  const frozen = osMajor > 18 || (osMajor === 18 && osMinor >= 6)
  const version = frozen ? major(safari?.[1]) : major(system?.[1])
  return version === null ? name : `${name} ${version}`
}

/** The system and device type the `User-Agent` names, or `null`. */
function systemOf(agent: string): System | null {
  if (/\b(?:iPhone|iPod)\b/.test(agent)) return { os: appleMobile(agent, 'iOS'), type: 'mobile' }
  if (/\biPad\b/.test(agent)) return { os: appleMobile(agent, 'iPadOS'), type: 'tablet' }
  // An iPad asking for desktop sites sends a Mac's string, but its non-Safari browsers
  // keep their iOS token: no Mac runs CriOS, EdgiOS or FxiOS.
  if (/\bMacintosh\b/.test(agent) && /\b(?:CriOS|EdgiOS|FxiOS)\//.test(agent))
    return { os: 'iPadOS', type: 'tablet' }
  if (/\b(?:OpenHarmony|HarmonyOS)\b/.test(agent))
    return {
      os: 'HarmonyOS',
      type: /\(PC\b/.test(agent) ? 'desktop' : /\bTablet\b/.test(agent) ? 'tablet' : 'mobile',
    }
  if (/\bAndroid\b/.test(agent)) {
    // Chrome's reduced string says "Android 10; K" on every version; Chrome and Firefox
    // mark phones "Mobile" and leave it out (Firefox: "Tablet") on tablets.
    const reduced = /\bAndroid 10; K\)/.test(agent)
    const version = reduced ? null : major(/\bAndroid[ -](\d+)/.exec(agent)?.[1])
    const type = /\bMobile\b/.test(agent) && !/\bTablet\b/.test(agent) ? 'mobile' : 'tablet'
    return { os: version === null ? 'Android' : `Android ${version}`, type }
  }
  if (/\bCrOS\b/.test(agent)) return { os: 'ChromeOS', type: 'desktop' }
  if (/\bWindows Phone\b/.test(agent)) return { os: 'Windows Phone', type: 'mobile' }
  if (/\bWindows\b/.test(agent)) {
    const nt = /\bWindows NT (\d+\.\d+)/.exec(agent)?.[1]
    return { os: (nt !== undefined ? WINDOWS_NT[nt] : undefined) ?? 'Windows', type: 'desktop' }
  }
  if (/\bMacintosh\b|\bMac OS X\b/.test(agent)) {
    // Safari, Chrome and Firefox all freeze this at 10.15(.7); a later one is believed.
    const version = major(/\bMac OS X (\d+)[_.]\d+/.exec(agent)?.[1])
    return {
      os: version !== null && Number(version) >= 11 ? `macOS ${version}` : 'macOS',
      type: 'desktop',
    }
  }
  if (/\bLinux\b|\bX11\b/.test(agent))
    return { os: 'Linux', type: /\bMobile\b/.test(agent) ? 'mobile' : 'desktop' }
  if (/\b(?:FreeBSD|OpenBSD|NetBSD)\b/.test(agent)) return { os: 'BSD', type: 'desktop' }
  return null
}

/** A structured-field string (`"macOS"`), unquoted; `''` when the value is not one. */
function sfString(value: string): string {
  const match = /^\s*"((?:[^"\\]|\\.)*)"\s*$/.exec(value)
  return match?.[1]?.replace(/\\(.)/g, '$1') ?? ''
}

/** The browser a `Sec-CH-UA` brand list names: its first known brand, else Chromium, else `null`. */
function browserFromBrands(list: string): string | null {
  let chromium: string | null = null
  let count = 0
  for (const [, name = '', version = ''] of list.matchAll(
    /"((?:[^"\\]|\\.){1,64})"\s*;\s*v\s*=\s*"([^"]{0,32})"/g,
  )) {
    if (++count > 12) break
    const shown = major(/^(\d+)/.exec(version)?.[1])
    const brand = BRANDS[name]
    if (brand !== undefined) return shown === null ? brand : `${brand} ${shown}`
    if (name === 'Chromium') chromium = shown === null ? 'Chromium' : `Chromium ${shown}`
  }
  return chromium
}

/**
 * The system the platform hints name. Windows' platform version is the UniversalApiContract
 * version: 13 and above is Windows 11, 1 to 12 Windows 10, 0 earlier (Microsoft's "Detect
 * Windows 11 using User-Agent Client Hints").
 */
function systemFromHints(platform: string, version: string): string | null {
  const os = PLATFORMS[platform]
  if (os === undefined) return null
  const versionMajor = /^(\d+)(?:\.\d+)*$/.exec(version)?.[1]
  if (versionMajor === undefined) return os
  const n = Number(versionMajor)
  if (os === 'Windows') return n >= 13 ? 'Windows 11' : n >= 1 ? 'Windows 10' : null
  if ((os === 'macOS' && n >= 11) || os === 'Android') {
    const shown = major(versionMajor)
    return shown === null ? os : `${os} ${shown}`
  }
  return os
}

/** The `Sec-CH-UA-Model` value: printable ASCII, spaces collapsed, at most 40 characters; `null` when empty. */
function modelOf(value: string): string | null {
  const model = sfString(value)
    .replace(/[^\x20-\x7e]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MAX_MODEL)
    .trim()
  return model === '' ? null : model
}

/** "Chrome 147 on macOS", or what is left of it when a half is unknown. */
function label(browser: string | null, os: string | null): string {
  if (browser !== null && os !== null) return `${browser} on ${os}`
  if (browser !== null) return `${browser} on an unknown system`
  if (os !== null) return `A browser on ${os}`
  return UNKNOWN
}

/**
 * The browser, system, device type and a label a person recognises, from a request's
 * `User-Agent` and, where a Chromium browser sends them, its User-Agent Client Hints
 * (`Sec-CH-UA`, `Sec-CH-UA-Full-Version-List`, `Sec-CH-UA-Platform`,
 * `Sec-CH-UA-Platform-Version`, `Sec-CH-UA-Mobile`, `Sec-CH-UA-Model`), which win where
 * both speak. Never throws; see the module's notes for what a label can hold.
 *
 * @param headers - the request's headers (`c.req.raw.headers`), or anything with their `get`.
 * @example
 * ```ts
 * describeDevice(c.req.raw.headers)
 * // { browser: 'Chrome 147', os: 'Windows 11', type: 'desktop', model: null,
 * //   label: 'Chrome 147 on Windows 11' }
 * describeDevice(new Headers({ 'User-Agent': 'curl/8.5.0' })).label // 'curl 8'
 * ```
 */
export function describeDevice(headers: { get(name: string): string | null }): DeviceDetails {
  const agent = read(headers, 'User-Agent', MAX_AGENT)
  const bot = firstMatch(BOTS, agent)
  if (bot !== null) return { browser: bot, os: null, type: 'unknown', model: null, label: bot }
  const tool = firstMatch(TOOLS, agent.trimStart())
  if (tool !== null) return { browser: tool, os: null, type: 'unknown', model: null, label: tool }

  const system = systemOf(agent)
  let browser = firstMatch(BROWSERS, agent)
  // An iOS app's WKWebView says neither Safari nor anything above; Android's own browser
  // before Chrome (4.3 and earlier) said "Version/4.0 (Mobile) Safari".
  if (system !== null && /^(?:iOS|iPadOS)\b/.test(system.os)) {
    if (browser === null && /\bAppleWebKit\//.test(agent)) browser = 'In-app browser'
  } else if (
    system?.os.startsWith('Android') &&
    (browser === null || nameOf(browser) === 'Safari')
  ) {
    if (/\bSafari\//.test(agent)) browser = 'Android browser'
  }
  let os = system?.os ?? null
  let type: DeviceType = system?.type ?? 'unknown'

  const brands =
    read(headers, 'Sec-CH-UA-Full-Version-List', MAX_HINT) || read(headers, 'Sec-CH-UA', MAX_HINT)
  const hinted = browserFromBrands(brands)
  // A bare "Chromium" brand only overrules the User-Agent's Chrome (Chrome always adds
  // "Google Chrome"); a Chromium browser without a brand of its own (Vivaldi, Samsung
  // Internet) keeps the name its User-Agent gives.
  if (
    hinted !== null &&
    (nameOf(hinted) !== 'Chromium' || browser === null || nameOf(browser) === 'Chrome')
  )
    browser = hinted

  const platform = sfString(read(headers, 'Sec-CH-UA-Platform', MAX_HINT))
  const platformVersion = sfString(read(headers, 'Sec-CH-UA-Platform-Version', MAX_HINT))
  const hintedOs = systemFromHints(platform, platformVersion)
  // A bare platform (no version hinted, or Windows' 0: before Windows 10) leaves a version
  // the User-Agent gives for the same system ("Windows 7", "Android 14").
  const bare = hintedOs === null ? PLATFORMS[platform] : hintedOs
  if (hintedOs !== null && hintedOs !== PLATFORMS[platform]) os = hintedOs
  else if (bare !== undefined && !os?.startsWith(bare)) os = bare

  // "?0" on Android is a tablet (Chrome sends "?1" from phones only).
  const mobile = read(headers, 'Sec-CH-UA-Mobile', MAX_HINT).trim()
  const hintedPlatform = PLATFORMS[platform]
  if (mobile === '?1') type = 'mobile'
  else if (mobile === '?0' && hintedPlatform !== undefined && hintedPlatform !== 'iOS')
    type = hintedPlatform === 'Android' ? 'tablet' : 'desktop'

  const model = modelOf(read(headers, 'Sec-CH-UA-Model', MAX_HINT))
  return { browser, os, type, model, label: label(browser, os) }
}

/** A `cf` text field: a string, control and format characters removed, spaces collapsed, at most 64 code points; `null` when nothing is left. */
function place(value: unknown): string | null {
  if (typeof value !== 'string') return null
  const cleaned = Array.from(
    value
      .slice(0, MAX_PLACE * 4)
      .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '')
      .replace(/\s+/g, ' ')
      .trim(),
  )
    .slice(0, MAX_PLACE)
    .join('')
    .trim()
  return cleaned === '' ? null : cleaned
}

/** A property of an unknown value, `undefined` when it is not an object or the read throws. */
function field(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null) return undefined
  try {
    return (value as Record<string, unknown>)[key]
  } catch {
    return undefined
  }
}

/** The country's name in `locale`, or its code when the runtime has none. */
function countryName(code: string, locale: string): string {
  if (code === 'T1') return 'Tor'
  try {
    const name = new Intl.DisplayNames([locale], { type: 'region', fallback: 'code' }).of(code)
    return name === undefined || name === '' ? code : name
  } catch {
    return code
  }
}

/**
 * Where a request came from, from `request.cf` (Cloudflare's geolocation of the client's
 * IP address; the address itself is never read): country, region and city, each bounded
 * and cleaned, and a label. `null` when `cf` is absent (a request not through Cloudflare,
 * a test) or names none of the three. Record it only where the app has chosen to.
 *
 * @param cf - `c.req.raw.cf`; anything else is read defensively.
 * @example
 * ```ts
 * describeLocation({ country: 'DE', region: 'Berlin', city: 'Berlin' })
 * // { country: 'DE', region: 'Berlin', city: 'Berlin', label: 'Berlin, Germany' }
 * describeLocation(c.req.raw.cf, { locale: 'de' })?.label // 'München, Bayern, Deutschland'
 * ```
 */
export function describeLocation(
  cf: unknown,
  options: DescribeLocationOptions = {},
): DeviceLocation | null {
  const code = field(cf, 'country')
  // XX: Cloudflare could not place the address.
  const country =
    typeof code === 'string' && /^[A-Z][A-Z0-9]$/.test(code) && code !== 'XX' ? code : null
  const region = place(field(cf, 'region'))
  const city = place(field(cf, 'city'))
  if (country === null && region === null && city === null) return null
  const parts: string[] = []
  for (const part of [city, region, country && countryName(country, options.locale ?? 'en')])
    if (part !== null && !parts.includes(part)) parts.push(part)
  return { country, region, city, label: parts.join(', ') }
}
