/**
 * @module
 * The demo page's routes: `GET /` and the form handlers (`POST /form/*`), each answering
 * `303 See Other` back to the page with a flash message saying what happened (shown
 * once), or the page again with a 4xx and the error.
 */
import { MAX_EXPIRY_SECONDS } from '../env.js'
import { Hono, type Context } from 'hono'
import { bodyLimit } from '../body-limit.js'
import { messages, SessionError } from '../../session/index.js'
import type { DemoEnv } from '../env.js'
import {
  confirmUser,
  isUsername,
  logIn,
  logOut,
  MAX_BODY_BYTES,
  MAX_USERNAME,
} from '../session-api.js'
import { changeOwnPassword, sensitive } from '../sessions.js'
import { startImpersonating, stopImpersonating } from '../impersonation.js'
import { sessionsChanged } from '../live.js'
import { ACCOUNT_ROUTES } from './account.js'
import { FORM_ROUTES, MAX_KEY_LENGTH } from './components.js'
import { errorPage, renderAccount, renderPage } from './render.js'

/** A form field the page cannot use; answered 400 with the page and the message. */
class BadInput extends Error {}

/**
 * The text fields of a submitted form (urlencoded or multipart); files are left out.
 * A body the runtime cannot parse as the form its `Content-Type` names (a multipart
 * type without a boundary, or with a body that is not, or not all, multipart) is a
 * {@link BadInput}: `FormData` parsing rejects it with a `TypeError`.
 */
async function formFields(c: Context): Promise<Record<string, string>> {
  let body: Awaited<ReturnType<typeof c.req.parseBody>>
  try {
    body = await c.req.parseBody()
  } catch (error) {
    if (!(error instanceof TypeError)) throw error
    throw new BadInput(
      'The form could not be read: send it as application/x-www-form-urlencoded, or as complete multipart/form-data with its boundary.',
    )
  }
  const fields: Record<string, string> = Object.create(null) as Record<string, string>
  for (const [name, value] of Object.entries(body)) {
    if (typeof value === 'string') fields[name] = value
  }
  return fields
}

/**
 * Says what happened in a flash message, shown once by the page, and answers `303 See
 * Other` back to it: the browser follows with a GET (RFC 9110 §15.4.4).
 */
async function backToPage(
  c: Context,
  done: string,
  level: 'success' | 'info' = 'success',
): Promise<Response> {
  await messages[level](c, done)
  return c.redirect('/', 303)
}

// ----- routes --------------------------------------------------------------------

/**
 * The page (`GET /`) and its form routes (`POST /form/*`). Mounted by the demo app after
 * the session middleware; bad form input answers 400 with the page and the message.
 *
 * @example
 * ```ts
 * app.use(session())
 * app.route('/', page)
 * ```
 */
export const page = new Hono<DemoEnv>({ strict: false })

page.onError((err, c) => {
  if (err instanceof BadInput) return renderPage(c, 400, err.message)
  // Too large for the session: the set was refused before anything changed.
  if (err instanceof SessionError && err.code === 'PAYLOAD_TOO_LARGE')
    return renderPage(c, 413, err.message)
  // An action that needs a recent authentication: the page again, offering the confirmation.
  if (err instanceof SessionError && err.code === 'REAUTHENTICATION_REQUIRED')
    return renderPage(c, 403, err.message, true)
  // What must stay the user's own, tried by an admin acting as them: the page, and why not.
  if (err instanceof SessionError && err.code === 'IMPERSONATING')
    return renderPage(c, 403, err.message)
  throw err
})

page.use(
  '/form/*',
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => errorPage(c, 413, `The form is over ${MAX_BODY_BYTES} bytes.`),
  }),
)

page.get('/', (c) => renderPage(c))

page.get('/account', (c) => renderAccount(c))

page.post(FORM_ROUTES.set, async (c) => {
  const { key, value } = await formFields(c)
  if (key === undefined || key === '' || key.length > MAX_KEY_LENGTH) {
    throw new BadInput(`The key must be 1 to ${MAX_KEY_LENGTH} characters.`)
  }
  await c.get('session').set(key, value ?? '')
  return backToPage(c, `Key ${key} set`)
})

page.post(FORM_ROUTES.delete, async (c) => {
  const { key } = await formFields(c)
  if (key === undefined || key === '') throw new BadInput('Name the key to delete.')
  const deleted = await c.get('session').delete(key)
  return deleted
    ? backToPage(c, `Key ${key} deleted`)
    : backToPage(c, `There was no key ${key}`, 'info')
})

page.post(FORM_ROUTES.expiry, async (c) => {
  const raw = (await formFields(c)).seconds?.trim() ?? ''
  let seconds: number | null = null
  if (raw !== '') {
    if (!/^\d{1,9}$/.test(raw) || Number(raw) > MAX_EXPIRY_SECONDS) {
      throw new BadInput(
        `The expiry must be a whole number of seconds from 0 to ${MAX_EXPIRY_SECONDS}, or empty for the default.`,
      )
    }
    seconds = Number(raw)
  }
  await c.get('session').setExpiry(seconds)
  if (seconds === null) return backToPage(c, 'Expiry back to the default')
  return backToPage(
    c,
    seconds === 0
      ? 'The session now ends when the browser closes'
      : `The session now expires after ${seconds} s of inactivity`,
  )
})

page.post(FORM_ROUTES.cycle, async (c) => {
  await c.get('session').cycleKey()
  return backToPage(c, 'Session key cycled')
})

page.post(FORM_ROUTES.flush, async (c) => {
  await logOut(c)
  return backToPage(c, 'Session flushed')
})

page.post(FORM_ROUTES.login, async (c) => {
  const { username } = await formFields(c)
  if (!isUsername(username)) {
    throw new BadInput(
      `The name must be 1 to ${MAX_USERNAME} characters, not all spaces, and well-formed Unicode.`,
    )
  }
  await logIn(c, username)
  return backToPage(c, `Logged in as ${username}`)
})

page.post(FORM_ROUTES.logout, async (c) => {
  await logOut(c)
  return backToPage(c, 'Logged out')
})

page.post(ACCOUNT_ROUTES.password, async (c) => {
  await sensitive(c, () => changeOwnPassword(c))
  return backToPage(c, 'Password changed: your other sessions are logged out')
})

page.post(ACCOUNT_ROUTES.revoke, async (c) => {
  const { handle } = await formFields(c)
  if (handle === undefined || handle === '') throw new BadInput('Name the session to log out.')
  const revoked = await sensitive(c, () => c.get('session').revokeSession(handle), {
    revocation: true,
  })
  return revoked
    ? backToPage(c, 'That device is logged out')
    : backToPage(c, 'That session had already ended', 'info')
})

page.post(ACCOUNT_ROUTES.revokeOthers, async (c) => {
  const count = await sensitive(c, () => c.get('session').revokeOtherSessions(), {
    revocation: true,
  })
  return backToPage(c, `Logged out ${count} other ${count === 1 ? 'device' : 'devices'}`)
})

page.post(ACCOUNT_ROUTES.revokeAll, async (c) => {
  const user = await c.get('session').getUser()
  await sensitive(c, () => c.get('session').revokeAllSessions(), { revocation: true })
  sessionsChanged(c, user)
  return backToPage(c, 'Logged out everywhere')
})

page.post(FORM_ROUTES.impersonate, async (c) => {
  const { username, reason } = await formFields(c)
  const started = await startImpersonating(c, username, reason)
  if (!started.ok) return renderPage(c, started.status, started.error)
  return backToPage(c, `You are acting as ${started.username}`)
})

page.post(FORM_ROUTES.stopImpersonating, async (c) => {
  const stopped = await stopImpersonating(c)
  return stopped
    ? backToPage(c, 'Back on your own session')
    : backToPage(c, 'You were not acting as anyone', 'info')
})

page.post(ACCOUNT_ROUTES.confirm, async (c) => {
  await confirmUser(c, (await formFields(c)).username)
  return backToPage(c, 'Confirmed: it is you. Try the action again.')
})
