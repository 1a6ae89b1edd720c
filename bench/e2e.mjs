#!/usr/bin/env node
/**
 * End-to-end throughput: `autocannon` against `wrangler dev --log-level warn` serving the
 * benchmark worker (every variant under its own path prefix, one KV namespace), in
 * interleaved rounds: each round runs every variant once per route, the order rotating
 * and reversing from round to round, so drift on the machine spreads over all of them.
 *
 *   node bench/e2e.mjs [--rounds 3] [--duration 3] [--connections 10] [--port 8792] [--json out.json] [--md out.md]
 *
 * Reports requests/s (median over rounds) and the ratio to bare Hono (median of the
 * per-round ratios).
 */
import autocannon from 'autocannon'
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { cookiePair, startWrangler } from './wrangler.mjs'

const ROUTES = ['untouched', 'read', 'write']

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

function cannon(url, cookie, { duration, connections }) {
  return autocannon({ url, connections, duration, headers: cookie ? { cookie } : {} })
}

/** Runs the rounds against a running bench worker; returns raw samples and medians. */
export async function measure(origin, { rounds, duration, connections }) {
  const variants = await (await fetch(`${origin}/__variants`)).json()
  const cookies = {}
  for (const v of variants) {
    if (v.cookieName === null) continue
    const res = await fetch(`${origin}/${v.id}/write`)
    await res.arrayBuffer()
    cookies[v.id] = cookiePair(res, v.cookieName)
    if (!cookies[v.id]) throw new Error(`${v.label}: /write set no ${v.cookieName} cookie`)
  }
  // Warm-up: JIT, KV, connections.
  for (const v of variants)
    for (const route of ROUTES)
      await cannon(`${origin}/${v.id}/${route}`, cookies[v.id], { duration: 1, connections })

  const samples = [] // { round, route, variant, rps, non2xx, errors }
  for (let round = 0; round < rounds; round++) {
    let order = variants.map((_, i) => variants[(i + round) % variants.length])
    if (round % 2 === 1) order = order.reverse()
    for (const route of ROUTES) {
      for (const v of order) {
        const r = await cannon(`${origin}/${v.id}/${route}`, cookies[v.id], {
          duration,
          connections,
        })
        samples.push({
          round,
          route,
          variant: v.id,
          rps: r.requests.average,
          p50: r.latency.p50,
          non2xx: r.non2xx,
          errors: r.errors,
        })
        process.stderr.write(
          `round ${round + 1} ${route.padEnd(9)} ${v.id.padEnd(13)} ${r.requests.average.toFixed(0)} req/s${r.non2xx ? ` (${r.non2xx} non-2xx)` : ''}\n`,
        )
      }
    }
  }

  const summary = []
  for (const route of ROUTES) {
    for (const v of variants) {
      const mine = samples.filter((s) => s.route === route && s.variant === v.id)
      const ratios = mine.map(
        (s) =>
          s.rps /
          samples.find((b) => b.round === s.round && b.route === route && b.variant === 'bare').rps,
      )
      summary.push({
        route,
        variant: v.id,
        rps: median(mine.map((s) => s.rps)),
        ratio: median(ratios),
        p50: median(mine.map((s) => s.p50)),
        non2xx: mine.reduce((n, s) => n + s.non2xx, 0),
        errors: mine.reduce((n, s) => n + s.errors, 0),
      })
    }
  }
  return { variants, rounds, duration, connections, samples, summary }
}

/** One row per variant, one column per route: `ratio× (req/s)`. */
export function toMarkdown({ variants, summary }) {
  const head = `| variant | ${ROUTES.map((r) => `${r}: × bare (req/s)`).join(' | ')} |`
  const rule = `|---|${ROUTES.map(() => '---').join('|')}|`
  const rows = variants.map((v) => {
    const cells = ROUTES.map((route) => {
      const s = summary.find((x) => x.variant === v.id && x.route === route)
      const bad = s.non2xx || s.errors ? ` ⚠ ${s.non2xx} non-2xx, ${s.errors} errors` : ''
      return `${s.ratio < 0.1 ? s.ratio.toPrecision(2) : s.ratio.toFixed(2)}× (${Math.round(s.rps)})${bad}`
    })
    return `| ${v.label} | ${cells.join(' | ')} |`
  })
  return [head, rule, ...rows].join('\n')
}

async function main() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '3' },
      connections: { type: 'string', default: '10' },
      port: { type: 'string', default: '8792' },
      json: { type: 'string' },
      md: { type: 'string' },
    },
  })
  const server = await startWrangler({ port: Number(values.port) })
  try {
    const data = await measure(server.origin, {
      rounds: Number(values.rounds),
      duration: Number(values.duration),
      connections: Number(values.connections),
    })
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
