/**
 * @module
 * The demo's page: `GET /` explains the tutorial, links to each step and shows what the
 * server sees (the cookies it received, the session's data and expiry); plain HTML forms
 * drive the session API with POST + 303 redirect, so it all works without JavaScript.
 * Markup in `components.tsx`, rendering in `render.tsx`, form handlers in `routes.ts`.
 */
export { FORM_ROUTES, MAX_KEY_LENGTH, type ReceivedCookie } from './components.js'
export { errorPage, receivedCookies } from './render.js'
export { page } from './routes.js'
