// Helpers shared by the package checks (check-package.mjs, check-consumers.mjs).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository's root. */
export const root = fileURLToPath(new URL('..', import.meta.url))

/** The root package.json. */
export const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))

/**
 * Every subpath the package exports, as a user imports it: `edge-session`,
 * `edge-session/durable-object`, … (`./package.json` is not code and is left out).
 */
export function exportedSpecifiers() {
  return Object.keys(pkg.exports)
    .filter((subpath) => subpath !== './package.json')
    .map((subpath) => (subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`))
}

/**
 * Subpaths that need the Workers runtime (they import `cloudflare:workers`), so plain
 * Node cannot load them. Every other subpath must load on Node.
 */
export const WORKERS_ONLY = new Set(['./durable-object'])

/** The specifiers of {@link exportedSpecifiers} that plain Node loads: all but {@link WORKERS_ONLY}. */
export function nodeSpecifiers() {
  return Object.keys(pkg.exports)
    .filter((subpath) => subpath !== './package.json' && !WORKERS_ONLY.has(subpath))
    .map((subpath) => (subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`))
}

/** Runs a command with inherited output; throws if it fails. */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options })
  if (result.status !== 0) throw failed(command, args, result)
}

/** Runs a command and returns its stdout; throws if it fails. */
export function output(command, args, options = {}) {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    ...options,
  })
  if (result.status !== 0) throw failed(command, args, result)
  return result.stdout
}

const failed = (command, args, result) =>
  new Error(
    `${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`})`,
  )

/** Runs the script's body; a thrown error is printed as one line and exits 1. */
export async function main(body) {
  try {
    await body()
  } catch (error) {
    console.error(`\n✗ ${error instanceof Error ? error.message : String(error)}`)
    process.exitCode = 1
  }
}

/** Runs `fn` under a heading and prints how long it took. */
export async function step(title, fn) {
  console.log(`\n▶ ${title}`)
  const started = performance.now()
  const value = await fn()
  console.log(`✓ ${title} (${((performance.now() - started) / 1000).toFixed(1)} s)`)
  return value
}

/**
 * The tarball to check: the path given on the command line, else a fresh `npm pack`
 * (whose prepack builds dist/) into a temporary folder, removed when the script exits.
 */
export function tarball() {
  const given = process.argv[2]
  if (given !== undefined) {
    if (!existsSync(given)) throw new Error(`no tarball at ${given}`)
    return resolve(given)
  }
  const destination = mkdtempSync(join(tmpdir(), 'edge-session-pack-'))
  process.on('exit', () => rmSync(destination, { recursive: true, force: true }))
  run('npm', ['pack', '--pack-destination', destination], { cwd: root })
  const [file] = readdirSync(destination).filter((name) => name.endsWith('.tgz'))
  if (file === undefined) throw new Error(`npm pack left no tarball in ${destination}`)
  return join(destination, file)
}
