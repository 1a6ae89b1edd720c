/** The app's HTML: plain forms, no JavaScript; `html` escapes every value. */
import { html } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'
import type { Message } from 'edge-session'
import type { SessionInfo } from 'edge-session'

type Html = HtmlEscapedString | Promise<HtmlEscapedString>

export function layout(title: string, user: string | null, messages: Message[], body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${title}</title></head>
<body>
<nav><a href="/">Home</a> ${
    user === null
      ? html`<a href="/login">Log in</a> <a href="/signup">Sign up</a>`
      : html`<a href="/account">${user}</a> <form method="post" action="/logout" style="display:inline"><button>Log out</button></form>`
  }</nav>
${messages.length === 0 ? '' : html`<ul id="messages">${messages.map((m) => html`<li class="${m.tags}">${m.message}</li>`)}</ul>`}
<h1>${title}</h1>
${body}
</body>
</html>`
}

export const loginForm = (next: string, error?: string): Html => html`
${error === undefined ? '' : html`<p class="error">${error}</p>`}
<form method="post" action="/login?next=${encodeURIComponent(next)}">
  <label>User name <input name="name" autocomplete="username" required></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button>Log in</button>
</form>`

export const signupForm = (error?: string): Html => html`
${error === undefined ? '' : html`<p class="error">${error}</p>`}
<form method="post" action="/signup">
  <label>User name <input name="name" autocomplete="username" required></label>
  <label>Password (8 characters or more) <input name="password" type="password" autocomplete="new-password" required></label>
  <button>Sign up</button>
</form>`

export const accountPage = (sessions: SessionInfo[], error?: string): Html => html`
<h2>Your sessions</h2>
<table id="sessions">
  <tr><th>device</th><th>signed in</th><th>last seen</th><th></th></tr>
  ${sessions.map(
    (s) => html`<tr><td>${s.userAgent ?? 'unknown'}${s.current ? ' (this one)' : ''}</td>
      <td>${new Date(s.createdAt).toISOString()}</td><td>${new Date(s.lastSeenAt).toISOString()}</td>
      <td><form method="post" action="/account/sessions/${s.handle}/revoke"><button>Log out</button></form></td></tr>`,
  )}
</table>
<form method="post" action="/account/sessions/revoke-others"><button>Log out every other session</button></form>
<h2>Change password</h2>
${error === undefined ? '' : html`<p class="error">${error}</p>`}
<form method="post" action="/account/password">
  <label>Current password <input name="current" type="password" autocomplete="current-password" required></label>
  <label>New password <input name="password" type="password" autocomplete="new-password" required></label>
  <button>Change password</button>
</form>`
