/**
 * @module
 * Starts the demo worker with `wrangler dev` on free local ports and fresh local KV
 * state, waits until it answers, and stops it (and workerd under it) afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { get } from 'node:https'
import type { Certificate } from './certificate'

/** A running `wrangler dev`. */
export interface DevWorker {
  /** e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string
  /** Stops wrangler and workerd and removes the KV state directory. */
  stop(): Promise<void>
}

/** Options of {@link startWorker}. */
export interface StartOptions {
  /**
   * How long to wait for the first answer, in ms.
   * @default 60000
   */
  timeoutMs?: number
  /**
   * The project root (where wrangler.toml is).
   * @default the parent of this folder
   */
  cwd?: string
  /**
   * `[vars]` to override, e.g. `{ SESSION_STORE: 'do' }` (wrangler's `--var NAME:VALUE`).
   * @default {}
   */
  vars?: Record<string, string>
  /**
   * Serve HTTPS with this certificate (`--local-protocol https`); the URL is then
   * `https://127.0.0.1:port`, and readiness is checked against the certificate itself.
   * @default undefined (plain HTTP)
   */
  https?: Certificate
}

/** A port the OS says is free right now (it is released before wrangler takes it). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer()
    server.unref()
    server.on('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => (port > 0 ? done(port) : fail(new Error('no free port'))))
    })
  })
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms))

/** Resolves when the process has exited, or after `ms`, whichever comes first. */
function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((done) => {
    const timer = setTimeout(() => done(false), ms)
    child.once('exit', () => {
      clearTimeout(timer)
      done(true)
    })
  })
}

/** Signals the whole process group (wrangler runs workerd as a child). */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // Already gone.
  }
}

/** The worker's log lines worth showing: store faults and uncaught errors. */
const FAULT = /"event":"session\.store_|Uncaught|Error:/

/**
 * Starts `wrangler dev` for the demo worker on a free port with its own inspector port
 * (so it never collides with another `wrangler dev` on the machine) and a new, empty
 * `--persist-to` directory (fresh local KV), and resolves once `GET /` answers.
 *
 * @example
 * ```ts
 * const worker = await startWorker()
 * await fetch(`${worker.url}/test/`)
 * await worker.stop()
 * ```
 */
export async function startWorker(options: StartOptions = {}): Promise<DevWorker> {
  const cwd = options.cwd ?? fileURLToPath(new URL('..', import.meta.url))
  const timeoutMs = options.timeoutMs ?? 60_000
  const [port, inspectorPort] = [await freePort(), await freePort()]
  const persistTo = await mkdtemp(join(tmpdir(), 'edge-session-e2e-'))
  const tls = options.https
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`

  const vars = Object.entries(options.vars ?? {}).flatMap(([name, value]) => [
    '--var',
    `${name}:${value}`,
  ])
  if (tls)
    vars.push(
      '--local-protocol',
      'https',
      '--https-key-path',
      tls.keyPath,
      '--https-cert-path',
      tls.certPath,
    )
  const child = spawn(
    join(cwd, 'node_modules', '.bin', 'wrangler'),
    [
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--inspector-port',
      String(inspectorPort),
      '--persist-to',
      persistTo,
      '--log-level',
      'warn',
      '--show-interactive-dev-session=false',
      ...vars,
    ],
    {
      cwd,
      // Own process group, so stop() reaches workerd too.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      // No network but npm and apt here: no Cloudflare lookups, no metrics.
      env: {
        ...process.env,
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        WRANGLER_SEND_METRICS: 'false',
        CI: 'true',
      },
    },
  )
  let output = ''
  // The worker's faults (the library's JSON log lines for store failures, uncaught errors),
  // printed when it stops: a suite that saw a 5xx can then say why.
  const faults: string[] = []
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-8000)
    for (const line of chunk.toString().split('\n'))
      if (FAULT.test(line) && faults.length < 50) faults.push(line.trim())
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)

  const stop = async (): Promise<void> => {
    if (faults.length > 0)
      console.error(
        `wrangler dev on ${url} logged ${faults.length} fault(s):\n${faults.join('\n')}`,
      )
    signalGroup(child, 'SIGTERM')
    if (!(await exited(child, 5000))) {
      signalGroup(child, 'SIGKILL')
      await exited(child, 2000)
    }
    await rm(persistTo, { recursive: true, force: true })
  }

  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break
    try {
      if ((tls ? await httpsStatus(`${url}/`, tls.pem) : await httpStatus(`${url}/`)) === 200)
        return { url, stop }
    } catch {
      // Not listening yet.
    }
    await sleep(200)
  }
  await stop()
  throw new Error(
    `wrangler dev did not answer on ${url} within ${timeoutMs} ms (exit code ${child.exitCode}).\n${output}`,
  )
}

/** The status of `GET url` over plain HTTP. */
async function httpStatus(url: string): Promise<number> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
  await res.arrayBuffer()
  return res.status
}

/** The status of `GET url` over HTTPS, trusting only the certificate `ca` (the run's own). */
function httpsStatus(url: string, ca: string): Promise<number> {
  return new Promise((done, fail) => {
    const request = get(url, { ca, timeout: 2000 }, (res) => {
      res.resume()
      res.on('end', () => done(res.statusCode ?? 0))
    })
    request.on('timeout', () => request.destroy(new Error('timeout')))
    request.on('error', fail)
  })
}
