/**
 * @module
 * What the end of a request does to the store, decided by one pure function from facts
 * about the session and the response (Django's `SessionMiddleware.process_response`), so
 * every rule is testable in a table. `commit.ts` gathers the facts and runs the action.
 */

/**
 * What the commit does to the store:
 * - `nothing`: no store call (untouched, unchanged, refused, a bound session without its
 *   bound cookie, or one whose refresh Chrome skipped, whatever the handler changed);
 * - `destroy`: end the session under every key it has (emptied whole, flushed, expired);
 * - `empty`: end a session emptied key by key, unless a concurrent write left it non-empty
 *   (a merging store); the cookie goes only if it ended;
 * - `save`: write it under its token (changed, rolling, or `saveEveryRequest`);
 * - `save-new`: write it under a new key (new, logged in, cycled, moved from another store),
 *   then end the keys it replaces.
 * - `reissue`: no store call, only the cookie: the store rotated the session's id at the
 *   load (`session({ rotation })`), and the cookie carries the new token.
 * `offer` asks for a device binding's registration offer (a newly logged-in session).
 */
export type CommitAction =
  | { readonly kind: 'nothing' }
  | { readonly kind: 'destroy'; readonly deleteCookie: boolean }
  | { readonly kind: 'empty'; readonly token: string; readonly deleteCookie: boolean }
  | { readonly kind: 'save'; readonly token: string; readonly offer: boolean }
  | { readonly kind: 'save-new'; readonly replaces: readonly string[]; readonly offer: boolean }
  | { readonly kind: 'reissue'; readonly token: string }

/** What {@link decide} is told about the session and the response. */
export interface CommitFacts {
  /** The token the session is stored under, or `null` (new, or moving to a new key). */
  readonly token: string | null
  /** Tokens to end once the session is saved (keys it leaves), or with it when it ends. */
  readonly retired: readonly string[]
  /** Whether the request changed the session. */
  readonly modified: boolean
  /** Whether a bound session was used without its bound cookie (left alone unless changed). */
  readonly frozen: boolean
  /** Whether it came so because Chrome skipped the refresh (`Secure-Session-Skipped`): left alone, changed or not. */
  readonly skipped: boolean
  /** Whether the session holds nothing a session keeps (no data, custom expiry or user). */
  readonly empty: boolean
  /** Seconds until it expires if saved now (`<= 0`: already past a fixed date or its absolute lifetime). */
  readonly age: number
  /**
   * Whether the request's changes are dropped: a 5xx, or a handler that threw a
   * `SessionError` (the library refused part of the request). Destroys already done stay.
   */
  readonly failed: boolean
  /** Whether sliding expiry asks for a save of an unchanged session. */
  readonly rollingDue: boolean
  /** `session({ saveEveryRequest })`. */
  readonly saveEveryRequest: boolean
  /** Whether the request changed the data key by key (a merging store can empty it as an update). */
  readonly keyByKey: boolean
  /** Whether the client sent a session cookie (only then is one deleted). */
  readonly cookieSent: boolean
  /** Whether a device binding is on and the session is logged in but not bound yet. */
  readonly offerDevice: boolean
  /** Whether the store gave the session a new token at the load (rotation), for the cookie. */
  readonly reissued: boolean
}

const NOTHING: CommitAction = { kind: 'nothing' }

/**
 * The store action for the end of a request.
 *
 * @example
 * ```ts
 * decide({ ...facts, modified: true, token: null, retired: ['old'] })
 * // { kind: 'save-new', replaces: ['old'], offer: false }
 * ```
 */
export function decide(facts: CommitFacts): CommitAction {
  const { token, retired } = facts
  if (facts.skipped || (facts.frozen && !facts.modified)) return NOTHING
  const expired = !facts.empty && facts.age <= 0
  if (facts.empty || expired) {
    // An emptied (or already expired) session leaves nothing behind, and the cookie the
    // client sent is deleted. Django keeps an empty record; we do not. A failed request
    // saves nothing, emptiness included, unless the record is gone already.
    if (facts.failed && (token !== null || retired.length > 0)) return NOTHING
    // Emptied key by key: an update for a store that merges, which keeps the session if a
    // concurrent request wrote to it meanwhile.
    if (facts.empty && token !== null && retired.length === 0 && facts.keyByKey) {
      return { kind: 'empty', token, deleteCookie: facts.cookieSent }
    }
    return { kind: 'destroy', deleteCookie: facts.cookieSent }
  }
  if (facts.failed) return NOTHING
  const rolling = token !== null && facts.rollingDue
  // A session the store could not keep under its token (`rekey`, now in `retired`) is saved
  // as a new one, which the cookie then carries, before the old token is destroyed.
  if (!(facts.modified || facts.saveEveryRequest || rolling || retired.length > 0)) {
    // Rotated at the load, the store holds the session under its new token already.
    return facts.reissued && token !== null ? { kind: 'reissue', token } : NOTHING
  }
  const offer = facts.offerDevice
  return token !== null
    ? { kind: 'save', token, offer }
    : { kind: 'save-new', replaces: retired, offer }
}
