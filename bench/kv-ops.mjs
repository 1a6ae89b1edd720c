#!/usr/bin/env node
/**
 * KV operations and Set-Cookie headers per request, for every variant and every scenario
 * of issue 5's table, over HTTP against `wrangler dev` with the tests' counting wrapper
 * around the real (local) KV binding.
 *
 *   node bench/kv-ops.mjs [--port 8791] [--json out.json] [--md out.md]
 *
 * Prints a markdown table. A cell reads `reads / writes / deletes · Set-Cookie`, where
 * `set` sets the session cookie, `del` deletes it and `—` is none; cells above the floor
 * (more KV operations, more headers, or a header of a kind the floor does not allow)
 * are marked ▲.
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { cookiePair, startWrangler } from './wrangler.mjs'

/**
 * The scenarios, with the floor as the issue writes it.
 * `cookie`: what the client sends; `floor`: [reads, writes, deletes] maxima;
 * `setCookie`: 'none' | 'one' | 'deletion' | 'at most the deletion'.
 */
export const scenarios = [
  {
    id: 'none-untouched',
    label: 'no cookie, handler never touches the session',
    route: 'untouched',
    cookie: 'none',
    floor: [0, 0, 0],
    setCookie: 'none',
  },
  {
    id: 'valid-untouched',
    label: 'valid cookie, handler never touches the session',
    route: 'untouched',
    cookie: 'valid',
    floor: [0, 0, 0],
    setCookie: 'none',
  },
  {
    id: 'none-read',
    label: 'no cookie, handler only reads',
    route: 'read',
    cookie: 'none',
    floor: [0, 0, 0],
    setCookie: 'none',
  },
  {
    id: 'valid-read',
    label: 'valid cookie, handler reads',
    route: 'read',
    cookie: 'valid',
    floor: [1, 0, 0],
    setCookie: 'none',
  },
  {
    id: 'valid-write',
    label: 'valid cookie, handler writes',
    route: 'write',
    cookie: 'valid',
    floor: [1, 1, 0],
    setCookie: 'one',
  },
  {
    id: 'none-write',
    label: 'no cookie, handler writes',
    route: 'write',
    cookie: 'none',
    floor: [0, 1, 0],
    setCookie: 'one',
  },
  {
    id: 'cycle',
    label: '`cycleKey()` (new id, same data)',
    route: 'cycle',
    cookie: 'valid',
    floor: [1, 1, 1],
    setCookie: 'one',
  },
  {
    id: 'flush',
    label: '`flush()` (logout)',
    route: 'flush',
    cookie: 'valid',
    floor: [1, 0, 1],
    setCookie: 'deletion',
  },
  {
    id: 'forged-read',
    label: 'forged id, read',
    route: 'read',
    cookie: 'forged',
    floor: [1, 0, 0],
    setCookie: 'at most the deletion',
  },
  {
    id: 'unknown-read',
    label: 'unknown id (record gone), read',
    route: 'read',
    cookie: 'unknown',
    floor: [1, 0, 0],
    setCookie: 'at most the deletion',
  },
]

/** What one Set-Cookie header does: sets the session cookie, deletes it, or sets another cookie. */
function kindOf(header, name) {
  if (name === null || !header.startsWith(`${name}=`)) return 'other'
  return /max-age=0/i.test(header) || /expires=thu, 01 jan 1970/i.test(header) ? 'del' : 'set'
}

/** Set-Cookie headers a scenario may carry at most: how many, and of which kinds. */
const allowedCookies = {
  none: { max: 0, kinds: [] },
  one: { max: 1, kinds: ['set'] },
  deletion: { max: 1, kinds: ['del'] },
  'at most the deletion': { max: 1, kinds: ['del'] },
}

/** Whether the headers stay within the floor: no more of them, and none of another kind. */
function cookiesWithin(expect, kinds) {
  const allowed = allowedCookies[expect]
  return kinds.length <= allowed.max && kinds.every((k) => allowed.kinds.includes(k))
}

/** Measures every variant × scenario against a running bench worker (with COUNT_KV=1). */
export async function collect(origin) {
  const get = (path, cookie, init = {}) =>
    fetch(`${origin}${path}`, {
      ...init,
      headers: cookie ? { Cookie: cookie } : {},
      redirect: 'manual',
    })
  const counts = async () => (await get('/__counts')).json()
  const variants = await (await get('/__variants')).json()
  const results = []
  for (const v of variants) {
    for (const s of scenarios) {
      if (v.unsupported.includes(s.route)) {
        results.push({ variant: v.id, scenario: s.id, unsupported: true })
        continue
      }
      let cookie
      if (v.cookieName !== null && s.cookie !== 'none') {
        if (s.cookie === 'forged') cookie = `${v.cookieName}=forged.${'x'.repeat(40)}`
        else {
          const res = await get(`/${v.id}/write`)
          await res.arrayBuffer()
          cookie = cookiePair(res, v.cookieName)
          if (!cookie) throw new Error(`${v.label}: /write set no ${v.cookieName} cookie`)
          if (s.cookie === 'unknown') {
            // A Durable Object token names its object: another id in that same object is
            // unknown there. KV's records are simply wiped.
            if (/^[^=]+=[A-Za-z0-9_-]{43}\.[0-9a-f]{64}$/.test(cookie))
              cookie = cookie.replace(/=[A-Za-z0-9_-]{43}\./, `=${'A'.repeat(43)}.`)
            else await (await get('/__wipe', undefined, { method: 'POST' })).arrayBuffer()
          }
        }
      }
      await counts() // zero
      const res = await get(`/${v.id}/${s.route}`, cookie)
      await res.arrayBuffer()
      if (res.status >= 400) throw new Error(`${v.label} ${s.route}: HTTP ${res.status}`)
      // waitUntil work (@hono/session's writes) is counted when called, before the
      // response; a short pause lets any later background call land too.
      await new Promise((r) => setTimeout(r, 50))
      const c = await counts()
      const setCookie = res.headers.getSetCookie().map((h) => kindOf(h, v.cookieName))
      const ops = [c.reads, c.writes, c.deletes]
      const within =
        c.lists === 0 &&
        ops.every((n, i) => n <= s.floor[i]) &&
        cookiesWithin(s.setCookie, setCookie)
      results.push({
        variant: v.id,
        scenario: s.id,
        reads: c.reads,
        writes: c.writes,
        deletes: c.deletes,
        lists: c.lists,
        calls: c.calls,
        rowsWritten: c.rowsWritten,
        setCookie,
        within,
      })
    }
  }
  return { variants, scenarios, results }
}

const floorText = (s) => {
  const [r, w, d] = s.floor
  const reads =
    s.id === 'flush'
      ? '≤1'
      : s.id === 'forged-read' || s.id === 'unknown-read'
        ? '1 or 0'
        : String(r)
  return `${reads} / ${w} / ${d} · ${s.setCookie}`
}

/** The markdown table: one row per scenario, one column per variant. */
export function toMarkdown({ variants, scenarios, results }) {
  const head = `| scenario | floor (r / w / d · Set-Cookie) | ${variants.map((v) => v.label).join(' | ')} |`
  const rule = `|---|---|${variants.map(() => '---').join('|')}|`
  const rows = scenarios.map((s) => {
    const cells = variants.map((v) => {
      const r = results.find((x) => x.variant === v.id && x.scenario === s.id)
      if (!r || r.unsupported) return 'n/a'
      const cookies = r.setCookie.length === 0 ? '—' : r.setCookie.join(' + ')
      // A variant that keeps its sessions in Durable Objects: calls to objects and SQLite rows written.
      const text =
        r.calls > 0 || v.id === 'do'
          ? `${r.calls} calls, ${r.rowsWritten} rows · ${cookies}`
          : `${r.reads} / ${r.writes} / ${r.deletes} · ${cookies}`
      return r.within || v.cookieName === null ? text : `▲ ${text}`
    })
    return `| ${s.label} | ${floorText(s)} | ${cells.join(' | ')} |`
  })
  return [head, rule, ...rows].join('\n')
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8791' },
      json: { type: 'string' },
      md: { type: 'string' },
    },
  })
  const server = await startWrangler({ port: Number(values.port), vars: { COUNT_KV: '1' } })
  try {
    const data = await collect(server.origin)
    const md = toMarkdown(data)
    if (values.json) writeFileSync(values.json, JSON.stringify(data, null, 2))
    if (values.md) writeFileSync(values.md, `${md}\n`)
    console.log(md)
  } finally {
    await server.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(error)
    process.exit(1)
  })
}
