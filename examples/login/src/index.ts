/** The Worker: the app, and the Durable Object class its sessions live in. */
import { app } from './app'

export { SessionObject } from 'edge-session/durable-object'
export default app
