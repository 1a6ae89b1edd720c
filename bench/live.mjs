#!/usr/bin/env node
/**
 * Live sessions on the Durable Object store, measured against the demo worker under
 * `wrangler dev` (`SESSION_STORE=do`), with Node's WebSocket (`--experimental-websocket`):
 *
 * 1. Revocation to close: two devices of one user, the second with `/live` open; the first
 *    posts `/sessions/revoke-others`. Measured from the revoking response's arrival: the
 *    `{"type":"ended"}` frame the object sends just before its 4401 close, and the client's
 *    close event (which waits for the connection's teardown).
 * 2. Hibernation: `ping` answers with the object's instance (made in its constructor).
 *    A socket left idle past workerd's eviction delay answers from a NEW instance: the
 *    object was evicted (no duration billed) while the socket stayed open and working.
 *
 *   node --experimental-websocket bench/live.mjs [--rounds 20] [--idle 15] [--json out.json]
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { startWrangler } from './wrangler.mjs'

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    idle: { type: 'string', default: '15' },
    json: { type: 'string' },
  },
})
const rounds = Number(args.rounds)
const idleSeconds = Number(args.idle)
const quantile = (xs, q) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]
const port = 20000 + Math.floor(Math.random() * 20000)
const worker = await startWrangler({
  port,
  vars: { SESSION_STORE: 'do' },
  config: 'wrangler.toml',
  ready: '/whoami',
})
const { origin } = worker

async function login(user) {
  const res = await fetch(`${origin}/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: user }),
  })
  await res.arrayBuffer()
  return res.headers.getSetCookie()[0].split(';')[0]
}

/** Opens /live with `cookie`; resolves the socket once greeted, with a frame waiter and the close. */
async function open(cookie) {
  const ws = new WebSocket(`${origin.replace('http', 'ws')}/live`, {
    headers: { Cookie: cookie, Origin: origin },
  })
  const waiters = []
  ws.addEventListener('message', (event) => {
    const frame = JSON.parse(event.data)
    for (const w of waiters.splice(0))
      w.type === frame.type ? w.done({ frame, at: performance.now() }) : waiters.push(w)
  })
  const next = (type) => new Promise((done) => waiters.push({ type, done }))
  const closed = new Promise((done) =>
    ws.addEventListener('close', (event) => done({ code: event.code, at: performance.now() })),
  )
  const hello = next('hello')
  await hello
  return { ws, next, closed }
}

try {
  // 1. Revocation to close.
  const ended = []
  const closing = []
  for (let i = 0; i < rounds; i++) {
    const user = `bench-live-${i}-${Date.now()}`
    const first = await login(user)
    const second = await open(await login(user))
    const endedFrame = second.next('ended')
    const res = await fetch(`${origin}/sessions/revoke-others`, {
      method: 'POST',
      headers: { Cookie: first },
    })
    const responded = performance.now()
    await res.arrayBuffer()
    if (res.status !== 200) throw new Error(`revoke-others answered ${res.status}`)
    ended.push((await endedFrame).at - responded)
    // Awaited together after the rounds: through wrangler dev a close event takes ~10 s.
    closing.push(
      second.closed.then((close) => {
        if (close.code !== 4401) throw new Error(`closed with ${close.code}`)
        return close.at - responded
      }),
    )
  }
  const closes = await Promise.all(closing)
  // 2. Hibernation: a short pause, then a long one.
  const user = `bench-idle-${Date.now()}`
  await login(user)
  const socket = await open(await login(user))
  const ping = async () => {
    const pong = socket.next('pong')
    socket.ws.send('ping')
    return (await pong).frame.instance
  }
  const start = await ping()
  await new Promise((r) => setTimeout(r, 1_000))
  const afterShort = await ping()
  await new Promise((r) => setTimeout(r, idleSeconds * 1_000))
  const afterIdle = await ping()
  socket.ws.close(1000)

  const ms = (x) => `${x.toFixed(1)} ms`
  const result = {
    rounds,
    endedFrame: {
      median: quantile(ended, 0.5),
      p95: quantile(ended, 0.95),
      min: Math.min(...ended),
      max: Math.max(...ended),
    },
    closeEvent: { median: quantile(closes, 0.5), p95: quantile(closes, 0.95) },
    hibernation: {
      idleSeconds,
      sameInstanceAfter1s: start === afterShort,
      newInstanceAfterIdle: afterIdle !== afterShort,
    },
  }
  console.log(
    `\nLive sessions (wrangler dev, SESSION_STORE=do, ${rounds} rounds), from the revoking response's arrival:`,
  )
  console.log(`| signal | median | p95 | min | max |\n|---|---|---|---|---|`)
  console.log(
    `| "ended" frame (sent just before the 4401 close) | ${ms(result.endedFrame.median)} | ${ms(result.endedFrame.p95)} | ${ms(result.endedFrame.min)} | ${ms(result.endedFrame.max)} |`,
  )
  console.log(
    `| the client's close event (4401) | ${ms(result.closeEvent.median)} | ${ms(result.closeEvent.p95)} | | |`,
  )
  console.log(
    `\nHibernation: same object instance after 1 s idle: ${result.hibernation.sameInstanceAfter1s}; a new instance after ${idleSeconds} s idle (evicted, socket kept): ${result.hibernation.newInstanceAfterIdle}`,
  )
  if (args.json) writeFileSync(args.json, JSON.stringify(result, null, 2))
} finally {
  await worker.stop()
}
