/**
 * Starts and stops `wrangler dev` on the benchmark worker (bench/wrangler.toml), for
 * e2e.mjs and kv-ops.mjs. Local only: no telemetry, no Cloudflare API calls.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * Runs `wrangler dev --log-level warn` on `port` and resolves once `ready` answers 2xx.
 * `config` picks the worker: the benchmark's (default) or the demo's (`wrangler.toml`, ready at `/whoami`).
 * @param {{ port: number, vars?: Record<string, string>, config?: string, ready?: string }} options
 * @returns {Promise<{ origin: string, stop: () => Promise<void> }>}
 */
export async function startWrangler({
  port,
  vars = {},
  config = 'bench/wrangler.toml',
  ready = '/bare/untouched',
}) {
  const persist = mkdtempSync(join(tmpdir(), 'edge-session-bench-'))
  const args = [
    'wrangler',
    'dev',
    '--config',
    config,
    '--port',
    String(port),
    '--ip',
    '127.0.0.1',
    '--log-level',
    'warn',
    '--persist-to',
    persist,
    '--show-interactive-dev-session=false',
  ]
  for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}:${v}`)
  const child = spawn('npx', args, {
    cwd: root,
    env: {
      ...process.env,
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      WRANGLER_SEND_METRICS: 'false',
      CI: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const origin = `http://127.0.0.1:${port}`

  const stop = async () => {
    if (child.exitCode === null) {
      // The whole process group: npx, wrangler and its workerd.
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch {}
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid, 'SIGKILL')
          } catch {}
          resolve()
        }, 5000)
        child.once('exit', () => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    rmSync(persist, { recursive: true, force: true })
  }

  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`wrangler dev exited (${child.exitCode}):\n${output}`)
    try {
      const res = await fetch(origin + ready)
      await res.text()
      if (res.ok) break
    } catch {}
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`wrangler dev did not answer within 60 s:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  return { origin, stop }
}

/** The name=value pair of the first Set-Cookie for `name`, or undefined. */
export function cookiePair(res, name) {
  const found = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`))
  return found?.split(';')[0]
}
