/**
 * @module
 * Session-bound WebSockets: the checks an upgrade passes, in order (a store that holds
 * sockets, the worker's own origin, a logged-in session), before the store accepts it.
 */
import { SessionError } from '../foundation/errors.js'
import type { SessionState } from './state.js'

/**
 * Whether an upgrade's `Origin` may open a socket: absent (a client that is not a browser
 * carries no one else's cookies), or exactly the worker's own origin (ASVS 4.4.2). `null`,
 * another host, port or scheme is a page of another site riding the user's cookie.
 */
function sameOrigin(request: Request): boolean {
  const origin = request.headers.get('Origin')
  return origin === null || origin === new URL(request.url).origin
}

/**
 * Accepts a WebSocket upgrade for the current logged-in session; the store holds the
 * socket, tagged with the session, and closes it with 4401 when the session ends. The
 * session cookie is the only credential. Refuses with `SessionError`, in this order:
 * `NOT_SUPPORTED` (501) on a store without sockets, `FORBIDDEN_ORIGIN` (403), `NOT_LOGGED_IN`
 * (401) for an anonymous, unknown or logged-out session. A request that is not an
 * upgrade is answered 426. On a device-bound session the socket lives until the bound
 * cookie it was opened with expires (closed with 4408: reconnect).
 */
export async function acceptWebSocket(state: SessionState): Promise<Response> {
  const sockets = state.store().sockets
  if (sockets === undefined) {
    throw new SessionError(
      'NOT_SUPPORTED',
      'acceptWebSocket(): this session store holds no WebSockets (the Durable Object store does)',
    )
  }
  const request = state.c.req.raw
  if (!sameOrigin(request))
    throw new SessionError(
      'FORBIDDEN_ORIGIN',
      'acceptWebSocket(): the upgrade comes from another origin',
    )
  if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
    return new Response('Expected a WebSocket upgrade', {
      status: 426,
      headers: { Upgrade: 'websocket' },
    })
  }
  await state.read()
  const user = state.auth?.user
  const token = state.token
  const accepted =
    user === undefined || token === null
      ? null
      : await sockets.accept(token, user, request, state.boundUntil)
  if (accepted === null)
    throw new SessionError('NOT_LOGGED_IN', 'acceptWebSocket(): the session is not logged in')
  return accepted
}
