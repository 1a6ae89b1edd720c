// Plain Node.js: the portable app on @hono/node-server, no Workers runtime, no binding.
import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { portableApp } from './portable.js'

/** Serves the app on an ephemeral port of 127.0.0.1; resolves its base URL. */
export function start(secret: string): Promise<{ url: string; server: ServerType }> {
  return new Promise((resolve) => {
    const server = serve(
      { fetch: portableApp(secret).fetch, hostname: '127.0.0.1', port: 0 },
      (info: AddressInfo) => {
        resolve({ url: `http://127.0.0.1:${info.port}`, server })
      },
    )
  })
}
