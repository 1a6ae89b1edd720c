/**
 * A real WebSocket client of the demo's `GET /live` (the 101 the user's Durable Object
 * made, through the app in workerd): the frames it received, and its close.
 */
import { expect } from 'vitest'
import type { Device } from './demo'

/** One open socket, as a test watches it. */
export interface LiveSocket {
  ws: WebSocket
  /** Text frames received so far, parsed. */
  frames: Record<string, unknown>[]
  /** Resolves with the close the server sent. */
  closed: Promise<{ code: number; reason: string }>
  /** Resolves with the next frame (received from now on) that `match` accepts; rejects after `ms`. */
  next(
    match: (frame: Record<string, unknown>) => boolean,
    ms?: number,
  ): Promise<Record<string, unknown>>
  /** Sends `ping` and resolves whether a pong came back within `ms`. */
  pongs(ms?: number): Promise<boolean>
}

/** Opens `/live` for `d`, expecting the 101, and accepts the client end. */
export async function openLive(
  d: Device,
  headers: Record<string, string> = {},
): Promise<LiveSocket> {
  const res = await d.send('/live', { headers: { Upgrade: 'websocket', ...headers } })
  expect(res.status).toBe(101)
  const ws = res.webSocket
  if (ws === null) throw new Error('a 101 without a webSocket')
  const frames: Record<string, unknown>[] = []
  const waiters: {
    match: (f: Record<string, unknown>) => boolean
    done: (f: Record<string, unknown>) => void
  }[] = []
  const closed = new Promise<{ code: number; reason: string }>((done) =>
    ws.addEventListener('close', (e) => done({ code: e.code, reason: e.reason })),
  )
  ws.addEventListener('message', (e) => {
    const frame = JSON.parse(String(e.data)) as Record<string, unknown>
    frames.push(frame)
    for (const w of waiters.splice(0)) {
      if (w.match(frame)) w.done(frame)
      else waiters.push(w)
    }
  })
  ws.accept()
  const next: LiveSocket['next'] = (match, ms = 2_000) =>
    new Promise((done, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`no matching frame within ${ms} ms; got ${JSON.stringify(frames)}`)),
        ms,
      )
      waiters.push({
        match,
        done: (f) => {
          clearTimeout(timer)
          done(f)
        },
      })
    })
  return {
    ws,
    frames,
    closed,
    next,
    async pongs(ms = 300) {
      const pong = next((f) => f['type'] === 'pong', ms).then(
        () => true,
        () => false,
      )
      try {
        ws.send('ping')
      } catch {
        return false
      }
      return pong
    },
  }
}

/** Resolves `promise`'s value, or rejects when it takes longer than `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, fail) =>
      setTimeout(() => fail(new Error(`${what}: not within ${ms} ms`)), ms),
    ),
  ])
}
