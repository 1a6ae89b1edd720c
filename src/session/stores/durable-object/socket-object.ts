/**
 * @module
 * {@link SocketHoldingObject}: the part of the session Durable Object that holds its
 * sessions' WebSockets (Hibernation API): the upgrade, sending, the checked hand-over of
 * messages to the app, and the 4401 close a session's end calls for. `SessionObject`
 * extends it and says, from its SQLite, which session a hash names and whether one lives.
 */
import { DurableObject } from 'cloudflare:workers'
import {
  acceptSocket,
  closeBoundExpired,
  closeExpiredSockets,
  closeSessionSockets,
  closeSocket,
  deadlineOf,
  DEFAULT_MAX_SOCKETS,
  MAX_SOCKETS_HEADER,
  openSockets,
  peerOf,
  sendToSockets,
  SESSION_HASH_HEADER,
  SOCKET_UNTIL_HEADER,
  type EndReason,
  type SocketPeer,
} from './sockets.js'

/**
 * The WebSocket half of `SessionObject`. Its public methods are RPC methods of the object;
 * its protected hooks (`onSocketOpen`, `onSocketMessage`, `onSocketEnd`) are what an app
 * overrides in its own subclass of `SessionObject`.
 */
export abstract class SocketHoldingObject extends DurableObject<unknown> {
  /** The logged-in session a hash names, live at `now`, or `null`. */
  protected abstract socketSession(hash: string, now: number): SocketPeer | null

  /** Whether the session a socket belongs to still lives at `now`. */
  protected abstract sessionLives(peer: SocketPeer, now: number): boolean

  /** A socket of `peer`'s session was accepted: the object wakes at that session's expiry to close it. */
  protected abstract socketOpened(peer: SocketPeer): Promise<void>

  /**
   * Accepts the store's upgrade for the live, logged-in session its {@link SESSION_HASH_HEADER}
   * names; else 401. A session that already holds the most sockets the store allows
   * ({@link MAX_SOCKETS_HEADER}) is refused with 429 and its open sockets are kept: a client
   * that reconnects in a loop is stopped without closing the tabs the person uses.
   */
  override async fetch(request: Request): Promise<Response> {
    const hash = request.headers.get(SESSION_HASH_HEADER)
    if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket' || hash === null)
      return new Response(null, { status: 426 })
    const now = Date.now()
    const peer = this.socketSession(hash, now)
    if (peer === null) return new Response(null, { status: 401 })
    const max = Number(request.headers.get(MAX_SOCKETS_HEADER) ?? DEFAULT_MAX_SOCKETS)
    // Counted and accepted in one synchronous stretch: no other upgrade comes between.
    if (openSockets(this.ctx, peer.handle) >= max)
      return Response.json({ code: 'TOO_MANY_SOCKETS' }, { status: 429 })
    const until = Number(request.headers.get(SOCKET_UNTIL_HEADER) ?? Number.NaN)
    const deadline = Number.isSafeInteger(until) ? until : null
    const { client, server } = acceptSocket(this.ctx, peer, deadline)
    // The alarm closes it then; exactly then, not at the sweep's next minute.
    if (deadline !== null) {
      const alarm = await this.ctx.storage.getAlarm()
      if (alarm === null || alarm > deadline) await this.ctx.storage.setAlarm(deadline)
    }
    await this.socketOpened(peer)
    await this.onSocketOpen(server, peer)
    return new Response(null, { status: 101, webSocket: client })
  }

  /**
   * Sends `message` to the user's open sockets, one session's (`handle`) or all, but never
   * to a session that expired and was not swept yet; resolves how many received it.
   */
  send(message: string | ArrayBuffer, handle: string | null = null): number {
    const now = Date.now()
    return sendToSockets(this.ctx, message, handle, (peer) => this.sessionLives(peer, now))
  }

  /** How many sockets this object holds open, for one session (`handle`) or all. */
  sockets(handle: string | null = null): number {
    return openSockets(this.ctx, handle)
  }

  /** A message: to {@link onSocketMessage} while its session lives, else dropped and the socket closed (4401). */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const peer = peerOf(ws)
    const now = Date.now()
    if (peer === null || !this.sessionLives(peer, now)) {
      closeSocket(ws, 'session ended')
      return
    }
    const until = deadlineOf(ws)
    if (until !== null && until <= now) {
      closeBoundExpired(ws)
      return
    }
    await this.onSocketMessage(ws, message, peer)
  }

  /** Completes a close the client started. */
  override webSocketClose(ws: WebSocket, code: number): void {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, 'closed')
    } catch {
      // Already closed.
    }
  }

  /**
   * Closes the sockets of device-bound sessions whose bound cookie expired by `now` (4408:
   * reconnect); resolves when the next one is due, or `null`, for the alarm.
   */
  protected closeExpiredSockets(now: number): number | null {
    return closeExpiredSockets(this.ctx, now)
  }

  /**
   * Closes the sockets of sessions that just ended, with 4401 and `reason`, after
   * {@link onSocketEnd} had its say on each: called in the same call that ended them.
   */
  protected endSockets(handles: readonly string[], reason: EndReason): void {
    if (handles.length > 0)
      closeSessionSockets(this.ctx, handles, reason, (ws) =>
        this.onSocketEnd(ws, peerOf(ws), reason),
      )
  }

  /**
   * A session's socket opened; a frame sent here is delivered first. Override it in a
   * subclass; the default does nothing.
   * @example `override onSocketOpen(ws, { handle }) { ws.send(JSON.stringify({ type: 'hello', handle })) }`
   */
  protected onSocketOpen(_ws: WebSocket, _peer: SocketPeer): void | Promise<void> {}

  /**
   * A session's socket is about to be closed (4401) because the session ended: a last frame
   * sent here arrives before the close (a client's close event may come seconds after the
   * close frame, when the connection is torn down). Override it; the default does nothing.
   * @example `override onSocketEnd(ws, _peer, reason) { ws.send(JSON.stringify({ type: 'ended', reason })) }`
   */
  protected onSocketEnd(_ws: WebSocket, _peer: SocketPeer | null, _reason: EndReason): void {}

  /**
   * A message from a live session's socket, with its user and handle (never after the
   * session ended). Override it; the default drops it.
   * @example `override onSocketMessage(ws, message, { user }) { if (message === 'ping') ws.send('pong') }`
   */
  protected onSocketMessage(
    _ws: WebSocket,
    _message: string | ArrayBuffer,
    _peer: SocketPeer,
  ): void | Promise<void> {}
}
