/**
 * @module
 * The demo worker: `wrangler dev` and `wrangler deploy` serve this.
 */
import { createApp } from './app.js'

export default createApp()
