/**
 * A real WebSocket client of an app's `GET /live` (the 101 the user's Durable Object
 * made, through the app in workerd): the frames it received, and its close. Waiting is
 * on events (a frame, the close); a time limit only turns a wait that never ends into a
 * failure.
 */
import { expect } from 'vitest'

/** Sends a request as a browser of the app (the test client's `request`). */
export type Send = (path: string, init?: RequestInit) => Promise<Response>

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
}

/** Opens `/live` through `send`, expecting the 101, and accepts the client end. */
export async function openLive(
  send: Send,
  headers: Record<string, string> = {},
): Promise<LiveSocket> {
  const res = await send('/live', { headers: { Upgrade: 'websocket', ...headers } })
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
  return { ws, frames, closed, next }
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
