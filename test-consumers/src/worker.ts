// The Worker: the README's example, and the portable app under /portable/. Two apps, as
// each has its own session middleware (KV and the cookie store).
import { Hono } from 'hono'
import readmeExample from './readme-example.js'
import { portableApp } from './portable.js'

type Env = { SESSIONS: KVNamespace; SESSION_SECRET: string }

let portable: Hono | undefined

export default {
  fetch(request, env, ctx): Response | Promise<Response> {
    if (new URL(request.url).pathname.startsWith('/portable/')) {
      portable ??= new Hono().route('/portable', portableApp(env.SESSION_SECRET))
      return portable.fetch(request, env, ctx)
    }
    return readmeExample.fetch(request, env, ctx)
  },
} satisfies ExportedHandler<Env>
