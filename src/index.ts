/**
 * @module
 * The demo worker: `wrangler dev` and `wrangler deploy` serve this.
 */
import { createApp } from './app.js'

// The Durable Object store's class must be exported by the worker's entry module: the
// library's, with the demo's greeting on its sockets.
export { SessionObject } from './routes/live-object.js'

export default createApp()
