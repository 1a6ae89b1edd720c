/**
 * @module
 * The demo worker: `wrangler dev` and `wrangler deploy` serve this.
 */
import { createApp } from './app.js'

// The Durable Object store's class must be exported by the worker's entry module.
export { SessionObject } from './session/durable-object.js'

export default createApp()
