/**
 * @module
 * The demo's Durable Object class: the library's `SessionObject`, greeting each socket of
 * `GET /live` with its session's handle, saying why before a 4401 close, and answering
 * `ping` with `pong`.
 */
import {
  SessionObject as LibrarySessionObject,
  type EndReason,
  type SocketPeer,
} from '../session/durable-object.js'

/** Bound as `SESSION_OBJECTS` (wrangler.toml's `class_name = "SessionObject"`). */
export class SessionObject extends LibrarySessionObject {
  /** Made at each start of the object: a pong with another one means it was evicted (hibernated) meanwhile. */
  readonly #instance = crypto.randomUUID()

  /** `{"type":"hello","handle":"…"}`, the first frame of every socket. */
  protected override onSocketOpen(ws: WebSocket, { handle }: SocketPeer): void {
    ws.send(JSON.stringify({ type: 'hello', handle }))
  }

  /** `{"type":"ended","reason":"…"}` just before the 4401 close: the page says "Session ended" at once. */
  protected override onSocketEnd(ws: WebSocket, _peer: SocketPeer | null, reason: EndReason): void {
    ws.send(JSON.stringify({ type: 'ended', reason }))
  }

  /** `ping` gets `{"type":"pong","user","handle","instance"}`: whose socket, and which start of the object answered. */
  protected override onSocketMessage(
    ws: WebSocket,
    message: string | ArrayBuffer,
    { user, handle }: SocketPeer,
  ): void {
    if (message === 'ping')
      ws.send(JSON.stringify({ type: 'pong', user, handle, instance: this.#instance }))
  }
}
