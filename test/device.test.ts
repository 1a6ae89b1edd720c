/**
 * Devices a person recognises (session/foundation/device.ts): `describeDevice()` against a
 * table of real `User-Agent` strings, client hints winning where Chromium sends them, and
 * `describeLocation()` over `request.cf`.
 *
 * Where the strings come from (each row names its source by the letter in brackets):
 * - [C] Chromium, "User-Agent Reduction" (chromium.org/updates/ua-reduction): the reduced
 *   strings Chrome sends on every desktop system since Chrome 107, at Chrome 147.
 * - [G] Google, "Prepare for Chrome's user-agent reduction" (developers.google.com/
 *   privacy-sandbox/blog/user-agent-reduction-android-model-and-version): "Android 10; K".
 * - [E] Microsoft Learn, "Detect Microsoft Edge from your website" and "Detect Windows 11
 *   using User-Agent Client Hints": Edge's `Edg/` token, the `Sec-CH-UA` brand list, and
 *   platform versions 13 and up for Windows 11.
 * - [M] MDN, "Firefox user agent string reference": Firefox's desktop and Android forms,
 *   at Firefox 140 (the current ESR).
 * - [S] Samsung, "Samsung Internet User-Agent String Format" (developer.samsung.com/
 *   internet/user-agent-string-format.html): "Android 10; K" from Samsung Internet 24 on.
 * - [W] WebKit, "WebKit Features in Safari 26.0": Safari 26 on iOS says "iPhone OS 18_6".
 * - [B] bowser's fixtures (MIT), test/acceptance/useragentstrings.yml, commit cf397a4.
 * - [U] uap-core's fixtures (Apache-2.0), tests/test_ua.yaml and tests/test_os.yaml,
 *   commit e3c5e63.
 * - [P] ua-parser-js' fixture strings, test/data/ua/ (strings only: none of its code),
 *   commit 18d39b5.
 * - [D] this repository's demo table (test/devices.test.ts), which the module replaces.
 * Verbatim unless the row says "at 147" (the source's format at today's version).
 */
import { describe, expect, it } from 'vitest'
import {
  DEVICE_CLIENT_HINTS,
  type DeviceType,
  describeDevice,
  describeLocation,
} from '../src/session/foundation/device'

const agent = (userAgent: string): Headers => new Headers({ 'User-Agent': userAgent })

/** What `label` may be made of: the module's words, versions, and nothing a request spells. */
const SAFE_LABEL = /^[A-Za-z0-9 .,'-]{1,80}$/

describe('describeDevice(): real User-Agent strings', () => {
  it.each<[source: string, userAgent: string, label: string, type: DeviceType]>([
    // Chrome on the desktop: the reduced strings freeze the system, so no version shows.
    [
      'C at 147',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36',
      'Chrome 147 on Windows',
      'desktop',
    ],
    [
      'C at 147',
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36',
      'Chrome 147 on macOS',
      'desktop',
    ],
    [
      'C at 147',
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36',
      'Chrome 147 on Linux',
      'desktop',
    ],
    [
      'C at 147',
      'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36',
      'Chrome 147 on ChromeOS',
      'desktop',
    ],
    [
      'B',
      'Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/29.0.1547.62 Safari/537.36',
      'Chrome 29 on Windows 7',
      'desktop',
    ],
    [
      'U',
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.29 Safari/537.36 Elastic/Synthetics',
      'Chrome 124 on Linux',
      'desktop',
    ],
    // Chrome on Android: "Android 10; K" on every phone and tablet; tablets drop "Mobile".
    [
      'G at 147',
      'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Mobile Safari/537.36',
      'Chrome 147 on Android',
      'mobile',
    ],
    [
      'C at 147',
      'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36',
      'Chrome 147 on Android',
      'tablet',
    ],
    [
      'B',
      'Mozilla/5.0 (Linux; Android 9; Nokia 5.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/85.0.4183.127 Mobile Safari/537.36',
      'Chrome 85 on Android 9',
      'mobile',
    ],
    [
      'B',
      'Mozilla/5.0 (Linux; Android 5.1.1; Nexus 9 Build/LMY48T) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/47.0.2526.83 Safari/537.36',
      'Chrome 47 on Android 5',
      'tablet',
    ],
    // Edge, everywhere it runs.
    [
      'E at 147',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36 Edg/147.0.0.0',
      'Edge 147 on Windows',
      'desktop',
    ],
    [
      'U',
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36 Edg/147.0.0.0 Teams/26106.2110.4675.2592 (50)',
      'Edge 147 on macOS',
      'desktop',
    ],
    [
      'P',
      'Mozilla/5.0 (Linux; Android 14; Pixel 7a Build/AP2A.240905.003; ) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 EdgA/124.0.2478.64',
      'Edge 124 on Android 14',
      'mobile',
    ],
    [
      'U',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 12_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.1 EdgiOS/44.5.0.10 Mobile/15E148 Safari/604.1',
      'Edge 44 on iOS 12',
      'mobile',
    ],
    // An iPad asking for desktop sites: a Mac's string, but no Mac runs EdgiOS/CriOS/FxiOS.
    [
      'U',
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) EdgiOS/125 Version/13.0.3 Safari/605.1.15',
      'Edge 125 on iPadOS',
      'tablet',
    ],
    [
      'U',
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_13_5) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/102 Version/11.1.1 Safari/605.1.15',
      'Chrome 102 on iPadOS',
      'tablet',
    ],
    [
      'U',
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/24.1 Safari/605.1.15',
      'Firefox 24 on iPadOS',
      'tablet',
    ],
    // Firefox.
    [
      'M at 140',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0',
      'Firefox 140 on Windows',
      'desktop',
    ],
    [
      'M at 140',
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:140.0) Gecko/20100101 Firefox/140.0',
      'Firefox 140 on macOS',
      'desktop',
    ],
    [
      'M at 140',
      'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0',
      'Firefox 140 on Linux',
      'desktop',
    ],
    [
      'M at 140',
      'Mozilla/5.0 (Android 15; Mobile; rv:140.0) Gecko/140.0 Firefox/140.0',
      'Firefox 140 on Android 15',
      'mobile',
    ],
    [
      'M at 140',
      'Mozilla/5.0 (Android 15; Tablet; rv:140.0) Gecko/140.0 Firefox/140.0',
      'Firefox 140 on Android 15',
      'tablet',
    ],
    [
      'P',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 16_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/112.0 Mobile/15E148 Safari/605.1.15',
      'Firefox 112 on iOS 16',
      'mobile',
    ],
    // Safari, and Safari 26's frozen iOS version: only Version/ tells iOS 26.
    [
      'D',
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
      'Safari 18 on macOS',
      'desktop',
    ],
    [
      'B',
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 15_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15',
      'Safari 18 on macOS 15',
      'desktop',
    ],
    [
      'P',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1',
      'Safari 18 on iOS 18',
      'mobile',
    ],
    [
      'W',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Mobile/15E148 Safari/604.1',
      'Safari 26 on iOS 26',
      'mobile',
    ],
    [
      'D',
      'Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
      'Safari 18 on iPadOS 18',
      'tablet',
    ],
    // Chrome on iOS; on iOS 26 its "18_6" is frozen and it has no Version/: no version shown.
    [
      'D',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1',
      'Chrome 131 on iOS 18',
      'mobile',
    ],
    [
      'W at 147',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/147.0.7727.47 Mobile/15E148 Safari/604.1',
      'Chrome 147 on iOS',
      'mobile',
    ],
    [
      'B',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 9_3_1 like Mac OS X) AppleWebKit/601.1 (KHTML, like Gecko) CriOS/50.0.2661.95 Mobile/13E238 Safari/601.1.46',
      'Chrome 50 on iOS 9',
      'mobile',
    ],
    // Samsung Internet: reduced like Chrome since version 24.
    [
      'S',
      'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36',
      'Samsung Internet 27 on Android',
      'mobile',
    ],
    [
      'S',
      'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Safari/537.36',
      'Samsung Internet 27 on Android',
      'tablet',
    ],
    [
      'D',
      'Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36',
      'Samsung Internet 26 on Android 14',
      'mobile',
    ],
    // Opera, Vivaldi, Yandex, DuckDuckGo, Brave, Huawei, Silk.
    [
      'D',
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0',
      'Opera 115 on Linux',
      'desktop',
    ],
    [
      'P',
      'Mozilla/5.0 (Linux; Android 14; XT2081-1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/115.0.5790.171 Mobile Safari/537.36 OPR/102.0.4864.0',
      'Opera 102 on Android 14',
      'mobile',
    ],
    [
      'U',
      'Opera/9.80 (Windows NT 6.1; Opera Tablet/15165; U; en) Presto/2.8.149 Version/11.1',
      'Opera on Windows 7',
      'desktop',
    ],
    [
      'U',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/113.0.0.0 Safari/537.36 Vivaldi/6.0.2979.18',
      'Vivaldi 6 on Windows',
      'desktop',
    ],
    [
      'P',
      'Mozilla/5.0 (Linux; arm_64; Android 12; Lenovo YT-J706X) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.42 YaBrowser/24.1.1.42.01 (beta) Safari/537.36',
      'Yandex Browser 24 on Android 12',
      'tablet',
    ],
    [
      'U',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1 Ddg/17.2',
      'DuckDuckGo 17 on iOS 17',
      'mobile',
    ],
    [
      'U',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari/604.1 Brave',
      'Brave on iOS',
      'mobile',
    ],
    [
      'B',
      'Mozilla/5.0 (Phone; OpenHarmony 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 ArkWeb/4.1.6.1 Mobile HuaweiBrowser/5.1.5.352',
      'Huawei Browser 5 on HarmonyOS',
      'mobile',
    ],
    [
      'B',
      'Mozilla/5.0 (Linux; U; Android 4.0.3; en-us; KFTT Build/IML74K) AppleWebKit/535.19 (KHTML, like Gecko) Silk/3.4 Mobile Safari/535.19 Silk-Accelerated=true',
      'Silk 3 on Android 4',
      'mobile',
    ],
    [
      'U',
      'Mozilla/5.0 (Linux; U; Android 2.3.5; ko-kr; LG-L160L Build/IML74K) AppleWebkit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30',
      'Android browser on Android 2',
      'mobile',
    ],
    [
      'B',
      'Mozilla/5.0 (Windows NT 6.3; Trident/7.0; rv:11.0) like Gecko',
      'Internet Explorer 11 on Windows 8.1',
      'desktop',
    ],
    // In-app browsers: the app, not the engine it embeds.
    [
      'P',
      'Mozilla/5.0 (Linux; Android 7.0; Lenovo TB-7504X Build/NRD90M; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.193 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/436.0.0.35.101;]',
      'Facebook app on Android 7',
      'mobile',
    ],
    [
      'U',
      'Mozilla/5.0 (iPhone; CPU IPhone OS 9_2_1 Like Mac OS X) AppleWebKit/601.1.46 (KHTML, Like Gecko) Mobile/13D15 [FBAN/FBIOS;FBAV/52.0.0.46.157;FBBV/26424168;FBDV/iPhone6,2;FBMD/iPhone;FBSN/iPhone OS;FBSV/9.2.1;FBSS/2; FBCR/Globe;FBID/phone;FBLC/en_US;FBOP/5]',
      'Facebook app on iOS 9',
      'mobile',
    ],
    [
      'U',
      'Mozilla/5.0 (Linux; Android 7.0; LG-TP260 Build/NRD90U; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/64.0.3282.137 Mobile Safari/537.36 Instagram 33.0.0.11.92 Android (24/7.0; 320dpi; 720x1193; LGE/lge; LG-TP260; lv517; lv517; en_US; 93117667)',
      'Instagram app on Android 7',
      'mobile',
    ],
    [
      'P',
      'Mozilla/5.0 (Linux; Android 15; Pixel 6 Pro Build/AP4A.241205.013; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/132.0.6834.163 Mobile Safari/537.36 Line/15.0.0/IAB',
      'LINE app on Android 15',
      'mobile',
    ],
    [
      'U',
      'Mozilla/5.0 (Linux; Android 10; moto g(7) Build/QP6_S30.52-23-13-4; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/108.0.5359.128 Mobile Safari/537.36 musical_ly_2022704050 JsSdk/1.0 NetType/WIFI Channel/googleplay AppName/musical_ly app_version/27.4.5 ByteLocale/en ByteFullLocale/en Region/US Spark/1.2.4-alpha.5',
      'TikTok app on Android 10',
      'mobile',
    ],
    [
      'U',
      'Mozilla/5.0 (Linux; Android 8.0.0; BAH2-W19 Build/HUAWEIBAH2-W19; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/83.0.4103.106 Safari/537.36',
      'In-app browser on Android 8',
      'tablet',
    ],
    [
      'P',
      'Mozilla/5.0 (iPad; CPU OS 18_1_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 YJApp-IOS jp.co.yahoo.ipn.appli/4.131.0',
      'In-app browser on iPadOS 18',
      'tablet',
    ],
    [
      'B',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 12_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/83.0.268992909 Mobile/15E148 Safari/605.1',
      'Google app on iOS 12',
      'mobile',
    ],
    // Bots and tools: their name alone, no system.
    [
      'U',
      'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) Safari/537.36',
      'Googlebot',
      'unknown',
    ],
    [
      'U',
      'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.201 Mobile Safari/537.36 (compatible; Google-InspectionTool/1.0;)',
      'Googlebot',
      'unknown',
    ],
    [
      'U',
      'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
      'Bingbot',
      'unknown',
    ],
    [
      'U',
      'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.1; +https://openai.com/gptbot)',
      'GPTBot',
      'unknown',
    ],
    ['P', 'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)', 'A bot', 'unknown'],
    ['D', 'curl/8.5.0', 'curl 8', 'unknown'],
    [
      'P',
      'curl/7.20.0 (x86_64-redhat-linux-gnu) libcurl/7.20.0 OpenSSL/0.9.8b zlib/1.2.3 libidn/0.6.5',
      'curl 7',
      'unknown',
    ],
    ['P', 'Wget/1.21.1', 'Wget 1', 'unknown'],
    ['P', 'python-requests/2.32', 'Python requests 2', 'unknown'],
    // Nothing a person would recognise.
    ['none', '', 'Unknown device', 'unknown'],
    ['none', 'Mozilla/5.0', 'Unknown device', 'unknown'],
    ['e2e', 'edge-session e2e (laptop)', 'Unknown device', 'unknown'],
    ['D', 'Firefox/128.0', 'Firefox 128 on an unknown system', 'unknown'],
    [
      'U',
      'Mozilla/5.0 (Linux; U; Android 2.3.2; en-US; A956 Build/E5EX0G)',
      'A browser on Android 2',
      'tablet',
    ],
  ])('[%s] %s is "%s" (%s)', (_source, userAgent, label, type) => {
    const device = describeDevice(agent(userAgent))
    expect(device.label).toBe(label)
    expect(device.type).toBe(type)
    expect(device.label).toMatch(SAFE_LABEL)
  })

  it('splits the label into browser and system, null where one is unknown', () => {
    expect(
      describeDevice(
        agent(
          'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36',
        ),
      ),
    ).toEqual({
      browser: 'Samsung Internet 27',
      os: 'Android',
      type: 'mobile',
      model: null,
      label: 'Samsung Internet 27 on Android',
    })
    expect(describeDevice(agent('curl/8.5.0'))).toEqual({
      browser: 'curl 8',
      os: null,
      type: 'unknown',
      model: null,
      label: 'curl 8',
    })
    expect(describeDevice(new Headers())).toEqual({
      browser: null,
      os: null,
      type: 'unknown',
      model: null,
      label: 'Unknown device',
    })
  })
})

describe('describeDevice(): hostile and absurd input', () => {
  it('reads 1,024 characters of an absurdly long User-Agent and labels it from its start', () => {
    const chrome =
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36'
    expect(describeDevice(agent(`${chrome} ${'x'.repeat(100_000)}`)).label).toBe(
      'Chrome 147 on Windows',
    )
    // A token past the 1,024th character is never seen.
    expect(describeDevice(agent(`${'x'.repeat(1_024)} ${chrome}`)).label).toBe('Unknown device')
    expect(describeDevice(agent('x'.repeat(100_000))).label).toBe('Unknown device')
  })

  it('never puts control characters or the request’s words in a label', () => {
    const device = describeDevice(
      agent(
        'Mozilla/5.0 (Windows NT 10.0\x01; Win64; x64)\x7f AppleWebKit/537.36 Chrome/147.0.0.0\x1b[31m Safari/537.36 <script>alert(1)</script>',
      ),
    )
    expect(device.label).toBe('Chrome 147 on Windows')
    const spoof = describeDevice(
      agent('Your account is locked: call +1 555 0100 (Windows NT 10.0)'),
    )
    expect(spoof.label).toBe('A browser on Windows')
  })

  it.each([
    [
      'an over-long version',
      'Mozilla/5.0 (X11; Linux x86_64) Chrome/123456789.0 Safari/537.36',
      'Chrome on Linux',
    ],
    [
      'a version with a leading zero',
      'Mozilla/5.0 (X11; Linux x86_64) Chrome/0147.0 Safari/537.36',
      'Chrome on Linux',
    ],
    ['version 0', 'Mozilla/5.0 (X11; Linux x86_64) Chrome/0.0 Safari/537.36', 'Chrome on Linux'],
  ])('shows no version for %s', (_case, userAgent, label) => {
    expect(describeDevice(agent(userAgent)).label).toBe(label)
  })

  it('answers quickly on input made to make regular expressions backtrack', () => {
    const attacks = [
      `Mozilla/5.0 (${'Trident/7.0; '.repeat(200)}`,
      `Mozilla/5.0 (iPhone; ${'CPU iPhone OS 1_1 '.repeat(100)}`,
      `"${'\\"'.repeat(500)}`,
      `Version/1${'.1'.repeat(500)}`,
      'Mozilla/5.0 ('.repeat(200),
    ]
    const started = performance.now()
    for (const attack of attacks) {
      describeDevice(
        new Headers({
          'User-Agent': attack,
          'Sec-CH-UA': attack,
          'Sec-CH-UA-Platform': attack,
          'Sec-CH-UA-Model': attack,
        }),
      )
    }
    // workerd's clock only moves on I/O, so this is a bound, not a benchmark.
    expect(performance.now() - started).toBeLessThan(200)
  })

  it('never throws, even when reading a header does', () => {
    const throwing = {
      get(): string | null {
        throw new Error('no headers here')
      },
    }
    expect(describeDevice(throwing).label).toBe('Unknown device')
    const odd = { get: (): string | null => 42 as unknown as string }
    expect(describeDevice(odd).label).toBe('Unknown device')
  })
})

describe('describeDevice(): client hints win over the User-Agent', () => {
  const CHROME_WINDOWS =
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36'
  const CHROME_MAC =
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36'
  const CHROME_ANDROID =
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Mobile Safari/537.36'
  const CHROME_BRANDS = '"Google Chrome";v="147", "Not.A/Brand";v="8", "Chromium";v="147"'

  it.each<[string, Record<string, string>, string, DeviceType]>([
    [
      'Windows 11 (platform version 13 and up) [E]',
      {
        'User-Agent': CHROME_WINDOWS,
        'Sec-CH-UA': CHROME_BRANDS,
        'Sec-CH-UA-Mobile': '?0',
        'Sec-CH-UA-Platform': '"Windows"',
        'Sec-CH-UA-Platform-Version': '"19.0.0"',
      },
      'Chrome 147 on Windows 11',
      'desktop',
    ],
    [
      'Windows 10 (1 to 12) [E]',
      {
        'User-Agent': CHROME_WINDOWS,
        'Sec-CH-UA': CHROME_BRANDS,
        'Sec-CH-UA-Platform': '"Windows"',
        'Sec-CH-UA-Platform-Version': '"10.0.0"',
      },
      'Chrome 147 on Windows 10',
      'desktop',
    ],
    [
      'before Windows 10 (0), leaving the NT version [E]',
      {
        'User-Agent':
          'Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36',
        'Sec-CH-UA': '"Google Chrome";v="109", "Chromium";v="109"',
        'Sec-CH-UA-Platform': '"Windows"',
        'Sec-CH-UA-Platform-Version': '"0.1.0"',
      },
      'Chrome 109 on Windows 7',
      'desktop',
    ],
    [
      'the macOS version behind "10_15_7"',
      {
        'User-Agent': CHROME_MAC,
        'Sec-CH-UA': CHROME_BRANDS,
        'Sec-CH-UA-Platform': '"macOS"',
        'Sec-CH-UA-Platform-Version': '"26.1.0"',
      },
      'Chrome 147 on macOS 26',
      'desktop',
    ],
    [
      'the Android version behind "Android 10; K", on a phone',
      {
        'User-Agent': CHROME_ANDROID,
        'Sec-CH-UA': CHROME_BRANDS,
        'Sec-CH-UA-Mobile': '?1',
        'Sec-CH-UA-Platform': '"Android"',
        'Sec-CH-UA-Platform-Version': '"15.0.0"',
        'Sec-CH-UA-Model': '"Pixel 9 Pro"',
      },
      'Chrome 147 on Android 15',
      'mobile',
    ],
    [
      'an Android tablet ("?0")',
      {
        'User-Agent': CHROME_ANDROID,
        'Sec-CH-UA': CHROME_BRANDS,
        'Sec-CH-UA-Mobile': '?0',
        'Sec-CH-UA-Platform': '"Android"',
      },
      'Chrome 147 on Android',
      'tablet',
    ],
    [
      'Edge by its brand [E]',
      {
        'User-Agent': `${CHROME_WINDOWS} Edg/147.0.0.0`,
        'Sec-CH-UA': '"Microsoft Edge";v="147", "Not.A/Brand";v="8", "Chromium";v="147"',
        'Sec-CH-UA-Platform': '"Windows"',
      },
      'Edge 147 on Windows',
      'desktop',
    ],
    [
      'Brave, whose User-Agent says Chrome',
      {
        'User-Agent': CHROME_MAC,
        'Sec-CH-UA': '"Brave";v="147", "Chromium";v="147", "Not/A)Brand";v="24"',
        'Sec-CH-UA-Platform': '"macOS"',
      },
      'Brave 147 on macOS',
      'desktop',
    ],
    [
      'the full version list before Sec-CH-UA',
      {
        'User-Agent': CHROME_WINDOWS,
        'Sec-CH-UA': '"Chromium";v="146"',
        'Sec-CH-UA-Full-Version-List':
          '"Google Chrome";v="147.0.7727.56", "Not.A/Brand";v="8.0.0.0", "Chromium";v="147.0.7727.56"',
      },
      'Chrome 147 on Windows',
      'desktop',
    ],
    [
      'Chromium itself (no "Google Chrome" brand)',
      {
        'User-Agent':
          'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36',
        'Sec-CH-UA': '"Chromium";v="147", "Not.A/Brand";v="8"',
        'Sec-CH-UA-Platform': '"Linux"',
      },
      'Chromium 147 on Linux',
      'desktop',
    ],
    [
      'a browser without a brand of its own keeping its User-Agent name (Vivaldi)',
      {
        'User-Agent': `${CHROME_WINDOWS} Vivaldi/7.8.3925.66`,
        'Sec-CH-UA': '"Chromium";v="147", "Not.A/Brand";v="8"',
        'Sec-CH-UA-Platform': '"Windows"',
      },
      'Vivaldi 7 on Windows',
      'desktop',
    ],
    [
      'hints alone, without a User-Agent',
      {
        'Sec-CH-UA': CHROME_BRANDS,
        'Sec-CH-UA-Mobile': '?0',
        'Sec-CH-UA-Platform': '"Chrome OS"',
      },
      'Chrome 147 on ChromeOS',
      'desktop',
    ],
    [
      'GREASE brands and unknown platforms, which are skipped',
      {
        'User-Agent': CHROME_WINDOWS,
        'Sec-CH-UA': '"Not)A;Brand";v="99", "Totally Real Browser";v="1"',
        'Sec-CH-UA-Platform': '"TempleOS"',
      },
      'Chrome 147 on Windows',
      'desktop',
    ],
    [
      'an unquoted platform (not a structured-field string), which is skipped',
      { 'User-Agent': CHROME_WINDOWS, 'Sec-CH-UA-Platform': 'macOS' },
      'Chrome 147 on Windows',
      'desktop',
    ],
    [
      'a bare platform, which keeps the version the User-Agent gives for it',
      {
        'User-Agent':
          'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
        'Sec-CH-UA': '"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"',
        'Sec-CH-UA-Mobile': '?1',
        'Sec-CH-UA-Platform': '"Android"',
      },
      'Chrome 131 on Android 14',
      'mobile',
    ],
    [
      'a platform that contradicts the User-Agent, which wins',
      {
        'User-Agent': CHROME_MAC,
        'Sec-CH-UA': CHROME_BRANDS,
        'Sec-CH-UA-Mobile': '?0',
        'Sec-CH-UA-Platform': '"Windows"',
      },
      'Chrome 147 on Windows',
      'desktop',
    ],
    [
      'an absurd platform version, which shows no version',
      {
        'User-Agent': CHROME_MAC,
        'Sec-CH-UA-Platform': '"macOS"',
        'Sec-CH-UA-Platform-Version': '"123456.0.0"',
      },
      'Chrome 147 on macOS',
      'desktop',
    ],
  ])('%s', (_case, headers, label, type) => {
    const device = describeDevice(new Headers(headers))
    expect(device.label).toBe(label)
    expect(device.type).toBe(type)
    expect(device.label).toMatch(SAFE_LABEL)
  })

  it('keeps the model a phone sends, as printable ASCII of at most 40 characters', () => {
    const device = describeDevice(
      new Headers({ 'User-Agent': CHROME_ANDROID, 'Sec-CH-UA-Model': '"Pixel 9 Pro"' }),
    )
    expect(device.model).toBe('Pixel 9 Pro')
    expect(device.label).toBe('Chrome 147 on Android')
    const hostile = {
      get: (name: string): string | null =>
        name === 'sec-ch-ua-model' || name === 'Sec-CH-UA-Model'
          ? `"Pixel\x07 9\u202e Pro ${'x'.repeat(200)}"`
          : null,
    }
    const model = describeDevice(hostile).model
    expect(model).toBe(`Pixel 9 Pro ${'x'.repeat(28)}`)
    expect(model).toHaveLength(40)
    expect(describeDevice(new Headers({ 'Sec-CH-UA-Model': '""' })).model).toBeNull()
  })

  it('names the hints to ask for in Accept-CH', () => {
    expect(DEVICE_CLIENT_HINTS).toBe(
      'Sec-CH-UA-Full-Version-List, Sec-CH-UA-Platform-Version, Sec-CH-UA-Model',
    )
  })
})

describe('describeLocation()', () => {
  it.each<[string, unknown, string | null]>([
    [
      'city, region and country',
      { country: 'US', region: 'Texas', city: 'Austin' },
      'Austin, Texas, United States',
    ],
    [
      'a region named like its city once',
      { country: 'DE', region: 'Berlin', city: 'Berlin' },
      'Berlin, Germany',
    ],
    ['a city-state once', { country: 'SG', region: 'Singapore', city: 'Singapore' }, 'Singapore'],
    ['a country alone', { country: 'FR' }, 'France'],
    ['a region without a city', { country: 'JP', region: 'Tokyo' }, 'Tokyo, Japan'],
    ['Tor', { country: 'T1' }, 'Tor'],
    ['a city where the country is unknown (XX)', { country: 'XX', city: 'Atlantis' }, 'Atlantis'],
    ['nothing known', { country: 'XX' }, null],
    ['no cf at all', undefined, null],
    ['null', null, null],
    ['a string', 'DE', null],
    ['an array', ['DE'], null],
    ['fields that are not strings', { country: 49, region: {}, city: ['Berlin'] }, null],
    ['a country code of the wrong shape', { country: 'Germany', city: 'Berlin' }, 'Berlin'],
    ['a lower-case code', { country: 'de' }, null],
    ['blank fields', { country: '', region: '   ', city: '\t' }, null],
  ])('%s', (_case, cf, label) => {
    expect(describeLocation(cf)?.label ?? null).toBe(label)
  })

  it('keeps the three fields as strings, the country as its code', () => {
    expect(
      describeLocation({
        country: 'DE',
        region: 'Bavaria',
        city: 'Munich',
        colo: 'MUC',
        asn: 3320,
      }),
    ).toEqual({
      country: 'DE',
      region: 'Bavaria',
      city: 'Munich',
      label: 'Munich, Bavaria, Germany',
    })
  })

  it('names the country in another language, or leaves the code for a locale the runtime refuses', () => {
    expect(describeLocation({ country: 'DE', city: 'München' }, { locale: 'de' })?.label).toBe(
      'München, Deutschland',
    )
    expect(describeLocation({ country: 'DE' }, { locale: 'not a locale!' })?.label).toBe('DE')
  })

  it('strips control and format characters, collapses spaces, and keeps 64 code points', () => {
    const location = describeLocation({
      country: 'DE',
      region: ' Ber\x00lin\u202e\u200b  Mitte ',
      city: '😀'.repeat(100),
    })
    expect(location?.region).toBe('Berlin Mitte')
    // 64 whole emoji: no surrogate pair is cut in half.
    expect(location?.city).toBe('😀'.repeat(64))
    expect(Array.from(location?.label ?? '')).toHaveLength(64 + 2 + 12 + 2 + 7)
  })

  it('never throws, even on a cf whose properties throw', () => {
    const hostile = new Proxy(
      {},
      {
        get(): never {
          throw new Error('no')
        },
      },
    )
    expect(describeLocation(hostile)).toBeNull()
  })

  it('reads request.cf as workerd hands it to a Worker', () => {
    const request = new Request('https://example.com/', {
      cf: { country: 'GB', region: 'England', city: 'London' },
    } as RequestInit)
    expect(describeLocation(request.cf)?.label).toBe('London, England, United Kingdom')
  })
})
