/**
 * @module
 * The demo's number vars (`wrangler.toml` `[vars]`, `--var`), read one way: unset or blank is
 * the default, anything but a whole number within range is refused, naming the var.
 */
import { SessionError } from '../session/index.js'

/**
 * A var holding a whole number from `min` to `max`: `undefined` when unset or blank;
 * anything else is a `SessionError` `INVALID_OPTION` naming the var and its value.
 */
export function wholeNumberVar(
  name: string,
  value: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const n = /^\s*\d{1,9}\s*$/.test(value) ? Number(value) : Number.NaN
  if (!(n >= min && n <= max))
    throw new SessionError(
      'INVALID_OPTION',
      `${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`,
    )
  return n
}
