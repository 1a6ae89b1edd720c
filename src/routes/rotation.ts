/**
 * @module
 * The demo's rotation of session ids (`session({ rotation })`): `ROTATE_SECONDS` (unset or
 * empty: off) and `ROTATE_GRACE_SECONDS` (unset: the library's 60 s) on `SESSION_STORE=do`.
 * On KV and the cookie store, which cannot rotate exactly, `ROTATE_SECONDS` is ignored and
 * the page says why, rather than the library's `INVALID_OPTION` answering every request 500.
 */
import type { Bindings } from './env.js'
import { wholeNumberVar } from './vars.js'

/** What the vars ask for: rotation with its option, off, or asked for on a store that cannot. */
export type RotationSetting =
  | { readonly kind: 'on'; readonly rotation: { every: number; grace?: number } }
  | { readonly kind: 'off' }
  | { readonly kind: 'needs-do' }

const OFF: RotationSetting = { kind: 'off' }
const NEEDS_DO: RotationSetting = { kind: 'needs-do' }

/** One setting per pair of values, so the session middleware made for it is made once. */
const settings = new Map<string, RotationSetting>()

/**
 * The rotation the vars ask for. A value that is not a whole number in the library's
 * range is a `SessionError` `INVALID_OPTION` (a 500) naming the variable.
 *
 * @example
 * ```ts
 * rotationSetting({ SESSION_STORE: 'do', ROTATE_SECONDS: '300' }) // { kind: 'on', rotation: { every: 300 } }
 * ```
 */
export function rotationSetting(
  env: Pick<Bindings, 'SESSION_STORE' | 'ROTATE_SECONDS' | 'ROTATE_GRACE_SECONDS'> | undefined,
): RotationSetting {
  const every = env?.ROTATE_SECONDS
  if (every === undefined || every.trim() === '') return OFF
  if (env?.SESSION_STORE !== 'do') return NEEDS_DO
  const key = `${every}|${env.ROTATE_GRACE_SECONDS ?? ''}`
  let setting = settings.get(key)
  if (setting === undefined) {
    const grace = wholeNumberVar('ROTATE_GRACE_SECONDS', env.ROTATE_GRACE_SECONDS, 0, 3600)
    const rotation = {
      every: wholeNumberVar('ROTATE_SECONDS', every, 1, 31_536_000) as number,
      ...(grace === undefined ? {} : { grace }),
    }
    setting = { kind: 'on', rotation }
    settings.set(key, setting)
  }
  return setting
}
