/**
 * For tests that provoke a logged error on purpose: the console method is silenced for
 * the rest of the test and its calls are recorded, so the test asserts what was logged
 * instead of printing it. Anything logged outside such a test still prints.
 */
import { onTestFinished, vi } from 'vitest'

/** Silences `console[method]` until the test ends; returns its calls' arguments, one array per call. */
export function captureConsole(method: 'error' | 'warn' | 'log'): unknown[][] {
  const spy = vi.spyOn(console, method).mockImplementation(() => undefined)
  onTestFinished(() => spy.mockRestore())
  return spy.mock.calls
}
