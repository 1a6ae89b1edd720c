/**
 * @module
 * The error the kit's assertions throw: named `AssertionError` with `actual` and
 * `expected`, which test runners (vitest, node:test) print as a failed assertion with a
 * diff, without the kit depending on any of them.
 */

/** A failed assertion of the test kit (`assertRedirects()`). */
export class TestAssertionError extends Error {
  override readonly name = 'AssertionError'
  /** What was found, when there is one value to show. */
  readonly actual: unknown
  /** What was expected. */
  readonly expected: unknown

  constructor(message: string, actual?: unknown, expected?: unknown) {
    super(message)
    this.actual = actual
    this.expected = expected
  }
}
