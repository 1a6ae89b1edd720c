/**
 * The library's `SessionObject` with its three socket hooks overridden as an app would,
 * reporting what each received: bound as `TEST_SESSION_OBJECTS` (vitest.config.ts,
 * exported by test/worker.ts) for the library's socket tests, so that they do not rest on
 * the demo's subclass. Every frame it sends is JSON:
 * - `{ "type": "open", user, handle }` first, from `onSocketOpen()`;
 * - `{ "type": "message", message, user, handle }` for each text message, from `onSocketMessage()`;
 * - `{ "type": "end", reason, user, handle }` just before a 4401 close, from `onSocketEnd()`.
 */
import { type EndReason, SessionObject, type SocketPeer } from '../../src/session/durable-object'

export class ProbeSessionObject extends SessionObject {
  protected override onSocketOpen(ws: WebSocket, { user, handle }: SocketPeer): void {
    ws.send(JSON.stringify({ type: 'open', user, handle }))
  }

  protected override onSocketMessage(
    ws: WebSocket,
    message: string | ArrayBuffer,
    { user, handle }: SocketPeer,
  ): void {
    if (typeof message === 'string')
      ws.send(JSON.stringify({ type: 'message', message, user, handle }))
  }

  protected override onSocketEnd(ws: WebSocket, peer: SocketPeer | null, reason: EndReason): void {
    ws.send(
      JSON.stringify({
        type: 'end',
        reason,
        user: peer?.user ?? null,
        handle: peer?.handle ?? null,
      }),
    )
  }
}
