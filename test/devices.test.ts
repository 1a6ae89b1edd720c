/**
 * "Your sessions" as a devices page: device names (routes/page/devices.ts, on the library's
 * describeDevice(), which test/device.test.ts tests against real strings),
 * relative times with the exact time on hover, "this device", and GET /account, the
 * section the page's socket reloads.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { deviceName as shown, exactTime, relativeTime } from '../src/routes/page/devices'
import { describeDevice } from '../src/session/foundation/device'

/** The demo's name for a session whose stored `User-Agent` is `agent`, as the library describes its device. */
const deviceName = (agent: string | null): string =>
  shown(
    describeDevice({ get: (name) => (name.toLowerCase() === 'user-agent' ? agent : null) }),
    agent,
  )
import { device } from './helpers/demo'
import { clearObjects } from './helpers/do'

beforeEach(async () => {
  await clearObjects()
})

describe('deviceName()', () => {
  it.each([
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      'Chrome 131 on Windows',
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
      'Edge 131 on Windows',
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
      'Safari 18 on macOS',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
      'Safari 18 on iOS 18',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1',
      'Chrome 131 on iOS 18',
    ],
    [
      'Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
      'Safari 18 on iPadOS 18',
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
      'Chrome 131 on Android 14',
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36',
      'Samsung Internet 26 on Android 14',
    ],
    [
      'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
      'Firefox 128 on Linux',
    ],
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0',
      'Opera 115 on Linux',
    ],
    [
      'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      'Chrome 131 on ChromeOS',
    ],
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36',
      'Chrome 131 on Linux',
    ],
    ['curl/8.5.0', 'curl 8'],
    ['Firefox/128.0', 'Firefox 128 on an unknown system'],
    ['edge-session e2e (laptop)', 'edge-session e2e (laptop)'],
  ])('%s is "%s"', (agent, shown) => {
    expect(deviceName(agent)).toBe(shown)
  })

  it('shortens an unrecognised agent to 60 characters without control characters, and names a missing one', () => {
    expect(deviceName('x'.repeat(200))).toBe(`${'x'.repeat(59)}…`)
    expect(deviceName('my\x01 app\u202e')).toBe('my app')
    expect(deviceName(null)).toBe('Unknown device')
    expect(deviceName('  ')).toBe('Unknown device')
    expect(deviceName('\x01\x02')).toBe('Unknown device')
  })
})

describe('relativeTime() and exactTime()', () => {
  const now = Date.parse('2026-12-06T12:00:00Z')
  it.each([
    [now - 10_000, 'just now'],
    [now - 60_000, 'a minute ago'],
    [now - 120_000, '2 minutes ago'],
    [now - 3_600_000, 'an hour ago'],
    [now - 5 * 3_600_000, '5 hours ago'],
    [now - 86_400_000, 'a day ago'],
    [now - 3 * 86_400_000, '3 days ago'],
    [now + 14 * 86_400_000, 'in 14 days'],
    [now + 14 * 86_400_000 - 60_000, 'in 14 days'],
    [now - 179_999, '2 minutes ago'],
    [now - 40 * 86_400_000, 'on 2026-10-27'],
  ])('%i is "%s"', (at, text) => {
    expect(relativeTime(at, now)).toBe(text)
  })

  it('gives the exact time in UTC', () => {
    expect(exactTime(now + 1_234)).toBe('2026-12-06 12:00:01 UTC')
  })
})

describe('GET / and GET /account: "Your sessions" on the do store', () => {
  const DO = { ...env, SESSION_STORE: 'do' }
  const CHROME =
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
  const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'

  it('names browsers and systems, marks this device, says times in words with the exact time on hover', async () => {
    const user = `devices-${crypto.randomUUID().slice(0, 8)}`
    const laptop = device(DO, { userAgent: FIREFOX })
    const desktop = device(DO, { userAgent: CHROME })
    await laptop.login(user)
    await desktop.login(user)
    const html = await (await laptop.send('/')).text()
    expect(html).toContain(
      '>Firefox 128 on Linux</span><span class="this-device"> This device</span>',
    )
    expect(html).toContain('>Chrome 131 on Windows</span><br/>')
    expect(html).toMatch(
      /<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC">just now<\/time>/,
    )
    expect(html).not.toContain(`<td>${FIREFOX}</td>`)
    expect(html).toContain('id="session-ended" hidden')
  })

  it('GET /account is the section alone (no flash messages read), 401 when logged out', async () => {
    const d = device(DO, { userAgent: FIREFOX })
    expect((await d.send('/account')).status).toBe(401)
    await d.login(`account-${crypto.randomUUID().slice(0, 8)}`)
    const res = await d.send('/account')
    expect(res.status).toBe(200)
    expect(res.headers.get('Cache-Control')).toBe('no-store')
    const html = await res.text()
    expect(html.startsWith('<section id="account">')).toBe(true)
    expect(html).toContain('Firefox 128 on Linux')
  })
})
