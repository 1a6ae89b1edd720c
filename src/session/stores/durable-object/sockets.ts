/**
 * @module
 * The WebSockets a user's {@link SessionObject} holds, with the Hibernation API: each is
 * tagged with its session's handle (so a revocation finds exactly its sockets) and keeps
 * `{ user, handle }` as its attachment (so it survives the object's eviction). Idle
 * sockets cost the object no duration; a message wakes it.
 */
import { DEVICE_BOUND_EXPIRED_CLOSE_CODE, SESSION_ENDED_CLOSE_CODE } from '../types.js'

/** Why a session's sockets were closed: the close frame's reason. */
export type EndReason =
  | 'logged out'
  | 'revoked'
  | 'expired'
  | 'credentials changed'
  | 'session limit'
  | 'reused'

/** Whose socket it is: the session's user and handle. */
export interface SocketPeer {
  readonly user: string
  readonly handle: string
}

/** The header the store's upgrade request names the session's hash in (never the id). */
export const SESSION_HASH_HEADER = 'X-Edge-Session-Hash'

/** The header naming when a socket of a device-bound session must close (ms): its bound cookie's expiry. */
export const SOCKET_UNTIL_HEADER = 'X-Edge-Session-Until'

/** The header the store's upgrade request gives its `maxSocketsPerSession` in. */
export const MAX_SOCKETS_HEADER = 'X-Edge-Session-Max-Sockets'

/** The most open sockets one session may hold when the store says nothing else. */
export const DEFAULT_MAX_SOCKETS = 16

/** The tag of a session's sockets. */
const tagOf = (handle: string): string => `session:${handle}`

/** `WebSocket.OPEN`. */
const OPEN = 1

/** Accepts a hibernatable socket for `peer`; resolves both ends (the client's goes in the 101). */
export function acceptSocket(
  ctx: DurableObjectState,
  peer: SocketPeer,
  until: number | null = null,
): { client: WebSocket; server: WebSocket } {
  const { 0: client, 1: server } = new WebSocketPair()
  ctx.acceptWebSocket(server, [tagOf(peer.handle)])
  server.serializeAttachment({ user: peer.user, handle: peer.handle, until })
  return { client, server }
}

/** When a held socket must close (a device-bound session's bound cookie expiry, ms), or `null`. */
export function deadlineOf(ws: WebSocket): number | null {
  const attachment: unknown = ws.deserializeAttachment()
  if (typeof attachment !== 'object' || attachment === null) return null
  const { until } = attachment as Record<string, unknown>
  return typeof until === 'number' ? until : null
}

/**
 * Closes the open sockets whose deadline passed at `now` with 4408 ("bound cookie
 * expired": reconnect); resolves the earliest deadline of those left open, or `null`.
 */
export function closeExpiredSockets(ctx: DurableObjectState, now: number): number | null {
  let next: number | null = null
  for (const ws of ctx.getWebSockets()) {
    const until = deadlineOf(ws)
    if (until === null || ws.readyState !== OPEN) continue
    if (until <= now) closeBoundExpired(ws)
    else next = next === null ? until : Math.min(next, until)
  }
  return next
}

/** Closes one socket whose bound cookie expired (4408). */
export function closeBoundExpired(ws: WebSocket): void {
  try {
    ws.close(DEVICE_BOUND_EXPIRED_CLOSE_CODE, 'bound cookie expired')
  } catch {
    // Closed already.
  }
}

/** The session a held socket belongs to, or `null` for one without a readable attachment. */
export function peerOf(ws: WebSocket): SocketPeer | null {
  const attachment: unknown = ws.deserializeAttachment()
  if (typeof attachment !== 'object' || attachment === null) return null
  const { user, handle } = attachment as Record<string, unknown>
  return typeof user === 'string' && typeof handle === 'string' ? { user, handle } : null
}

/**
 * Closes every socket of the sessions named by `handles` with 4401 and `reason` (at most
 * 123 bytes, the protocol's limit), `before` each one still open (the app's last frame);
 * resolves how many it closed.
 */
export function closeSessionSockets(
  ctx: DurableObjectState,
  handles: Iterable<string>,
  reason: string,
  before: (ws: WebSocket) => void,
): number {
  let closed = 0
  for (const handle of new Set(handles)) {
    for (const ws of ctx.getWebSockets(tagOf(handle))) {
      try {
        if (ws.readyState === OPEN) before(ws)
      } catch {
        // The app's last word failed: the socket is closed all the same.
      }
      if (closeSocket(ws, reason)) closed++
    }
  }
  return closed
}

/** Closes one socket as ended (4401); `false` when it was closed already. */
export function closeSocket(ws: WebSocket, reason: string): boolean {
  try {
    ws.close(SESSION_ENDED_CLOSE_CODE, reason)
    return true
  } catch {
    return false
  }
}

/**
 * Sends `message` to the open sockets of one session (`handle`), or of every session
 * (`null`), skipping those whose session `lives` says ended (expired, not yet swept);
 * resolves how many.
 */
export function sendToSockets(
  ctx: DurableObjectState,
  message: string | ArrayBuffer,
  handle: string | null,
  lives: (peer: SocketPeer) => boolean,
): number {
  let sent = 0
  const alive = new Map<string, boolean>()
  for (const ws of handle === null ? ctx.getWebSockets() : ctx.getWebSockets(tagOf(handle))) {
    if (ws.readyState !== OPEN) continue
    const peer = peerOf(ws)
    if (peer === null) continue
    const live = alive.get(peer.handle) ?? alive.set(peer.handle, lives(peer)).get(peer.handle)
    if (live !== true) continue
    try {
      ws.send(message)
      sent++
    } catch {
      // Closing meanwhile: nothing to deliver to.
    }
  }
  return sent
}

/** The handles of the sessions that hold open sockets. */
export function socketHandles(ctx: DurableObjectState): string[] {
  const handles = new Set<string>()
  for (const ws of ctx.getWebSockets()) {
    const peer = ws.readyState === OPEN ? peerOf(ws) : null
    if (peer !== null) handles.add(peer.handle)
  }
  return [...handles]
}

/** How many sockets are held and open, for one session or all. */
export function openSockets(ctx: DurableObjectState, handle: string | null): number {
  return (handle === null ? ctx.getWebSockets() : ctx.getWebSockets(tagOf(handle))).filter(
    (ws) => ws.readyState === OPEN,
  ).length
}
