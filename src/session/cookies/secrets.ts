/**
 * @module
 * Secrets: the one rule every part of the library that takes a secret shares.
 */
import { invalidOption, type SessionError } from '../foundation/errors.js'

const encoder = new TextEncoder()

/** Secrets shorter than this many UTF-8 bytes are refused: HMAC-SHA256's key strength. */
export const MIN_SECRET_BYTES = 32

/**
 * Validates a secret and its fallbacks; the error names the offending option.
 * Shared by every part of the library that takes a secret.
 * @internal
 */
export function resolveSecrets(caller: string, secret: unknown, fallbacks: unknown = []): string[] {
  const invalid = (option: string, why: string): SessionError => invalidOption(caller, option, why)
  if (!Array.isArray(fallbacks)) throw invalid('fallbacks', 'must be an array of secrets')
  const secrets: unknown[] = [secret, ...fallbacks]
  return secrets.map((value, i) => {
    const option = i === 0 ? 'secret' : `fallbacks[${i - 1}]`
    if (typeof value !== 'string') throw invalid(option, 'must be a string')
    const bytes = encoder.encode(value).byteLength
    if (bytes < MIN_SECRET_BYTES)
      throw invalid(option, `must be at least ${MIN_SECRET_BYTES} bytes (it is ${bytes})`)
    return value
  })
}
