/**
 * @module
 * The test client's cookie jar: what a browser keeps from `Set-Cookie`, by name, and
 * sends back as one `Cookie` header.
 */

/** One cookie the jar holds. */
interface Kept {
  value: string
  /** When it stops being sent, in ms since the epoch; `null` = until the jar is dropped. */
  expires: number | null
}

/**
 * A cookie jar for one simulated browser. It keeps cookies by name (one site, so no
 * domain or path matching), drops a cookie that a response deletes (`Max-Age=0`, or an
 * `Expires` in the past) or that expires, and sends the rest.
 *
 * @example
 * ```ts
 * const jar = new CookieJar()
 * jar.update(await app.request('/login', { method: 'POST' }))
 * jar.get('sessionid') // the session cookie's value
 * ```
 */
export class CookieJar {
  readonly #cookies = new Map<string, Kept>()
  readonly #now: () => number

  /** `now` is the clock expiries are checked with. @default Date.now */
  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  /** Applies every `Set-Cookie` of a response, in order. */
  update(res: Response): this {
    for (const header of res.headers.getSetCookie()) this.#apply(header)
    return this
  }

  #apply(header: string): void {
    const [pair = '', ...attributes] = header.split(';')
    const eq = pair.indexOf('=')
    if (eq < 1) return
    const name = pair.slice(0, eq).trim()
    const value = pair.slice(eq + 1).trim()
    let expires: number | null = null
    let maxAge: number | null = null
    for (const attribute of attributes) {
      const [key = '', ...rest] = attribute.split('=')
      const v = rest.join('=').trim()
      if (/^\s*max-age\s*$/i.test(key)) maxAge = Number(v)
      else if (/^\s*expires\s*$/i.test(key)) expires = Date.parse(v)
    }
    // Max-Age wins over Expires (RFC 6265 §5.3, step 3).
    const until =
      maxAge !== null && Number.isFinite(maxAge)
        ? this.#now() + maxAge * 1000
        : expires !== null && Number.isFinite(expires)
          ? expires
          : null
    if (until !== null && until <= this.#now()) this.#cookies.delete(name)
    else this.#cookies.set(name, { value, expires: until })
  }

  /** The value of a live cookie, or `undefined`. */
  get(name: string): string | undefined {
    const kept = this.#cookies.get(name)
    if (kept === undefined) return undefined
    if (kept.expires !== null && kept.expires <= this.#now()) {
      this.#cookies.delete(name)
      return undefined
    }
    return kept.value
  }

  /** Puts a cookie in the jar as if a response had set it (no expiry). */
  set(name: string, value: string): void {
    this.#cookies.set(name, { value, expires: null })
  }

  /** Removes one cookie, or every cookie without a name. */
  clear(name?: string): void {
    if (name === undefined) this.#cookies.clear()
    else this.#cookies.delete(name)
  }

  /** Every live cookie, name to value. */
  all(): Record<string, string> {
    const out: Record<string, string> = {}
    for (const name of [...this.#cookies.keys()]) {
      const value = this.get(name)
      if (value !== undefined) out[name] = value
    }
    return out
  }

  /** The `Cookie` header to send, or `undefined` when there is nothing to send. */
  header(): string | undefined {
    const pairs = Object.entries(this.all()).map(([name, value]) => `${name}=${value}`)
    return pairs.length === 0 ? undefined : pairs.join('; ')
  }
}
