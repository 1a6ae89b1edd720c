// The floor: a Hono app with no edge-session, to subtract from the other two.
import { Hono } from 'hono'

const app = new Hono()
app.get('/', (c) => c.text('hello'))
export default app
