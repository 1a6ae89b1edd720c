/**
 * @module
 * Vitest global setup of the e2e suite: one `wrangler dev` for the whole run, its URL
 * handed to the tests as `inject('baseURL')`.
 */
import type { TestProject } from 'vitest/node'
import { startWorker } from './worker'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where the demo worker answers, e.g. `http://127.0.0.1:41234`. */
    baseURL: string
  }
}

/** Starts the worker; the function it returns stops it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const worker = await startWorker()
  project.provide('baseURL', worker.url)
  return worker.stop
}
