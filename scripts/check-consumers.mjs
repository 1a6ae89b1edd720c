// `npm run check:consumers [tarball]`: the packed package as a user gets it. Copies
// test-consumers/ (a user's project) out of the repository, installs the tarball into it
// with npm, and then:
// 1. typechecks it, with the README's example copied in, under every tsconfig.*.json
//    there (bundler, node16, nodenext; the workers types package or `wrangler types`;
//    "DOM" beside them; Node's types), all with the strict flags of tsconfig.base.json
//    and skipLibCheck off;
// 2. runs its tests in workerd (vitest workers pool, KV store, real requests to the Worker);
// 3. runs its Node test on plain Node (@hono/node-server, cookie store and signer, real
//    HTTP requests on 127.0.0.1);
// 4. bundles three Workers with `wrangler deploy --dry-run`, prints their sizes, and fails
//    if a Worker that uses only session() carries the cookie store or the signer;
// 5. runs each app of examples/ as a user who copied it would: the same tarball and the
//    same tools (the install above is moved into it, so npm only reconciles), installed
//    as its README says (`npm install --no-save <tarball>`, which must leave its
//    package.json unchanged), its typecheck and its tests (which use edge-session/testing).
// Without a tarball, packs one (prepack builds dist/). KEEP=1 keeps the copy for a look.
import { spawn } from 'node:child_process'
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { exportedSpecifiers, main, nodeSpecifiers, pkg, root, run, step, tarball } from './lib.mjs'

const fixture = join(root, 'test-consumers')
const project = mkdtempSync(join(tmpdir(), 'edge-session-consumer-'))
const env = {
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_SEND_METRICS: 'false',
  NO_COLOR: '1',
}
const inProject = { cwd: project, env }
const bin = (name) => join(project, 'node_modules', '.bin', name)

/**
 * Errors a check expects and accepts, each an issue to fix where it lives: the file, the
 * code and the message (not the position, which moves with every edit). Once one no
 * longer occurs the check fails, so that this list is emptied as they are fixed.
 */
const KNOWN = {
  // Errors a fixture may show that are ours and known: none today. An entry here is
  // `{ file, error }` per tsconfig; once it no longer occurs the check fails, to drop it.
}

/** Whether a tsc output line is the error `known` describes. */
const isKnown = (line, known) =>
  line.startsWith(`${known.file}(`) && line.endsWith(`): ${known.error}`)

/** Files whose errors a tsconfig accepts because they are between two other packages. */
const FOREIGN = {
  // @cloudflare/workers-types and lib.dom.d.ts declare the same globals differently.
  'tsconfig.dom.json': /^node_modules\/(@cloudflare\/workers-types|typescript\/lib)\//,
}

/** Modules of the package that a Worker using only session() with KV must not bundle. */
/** What `session()` on KV may add to a Worker over Hono, gzipped minified (docs/internals/package.md). */
const SESSION_KV_BUDGET = 20 * 1024
const NOT_IN_SESSION_KV = [
  'dist/stores/cookie.js',
  'dist/cookies/signing.js',
  'dist/cookies/signed.js',
]

/** Modules (a path, or a folder ending in /) that no bundle here imports, so none may hold them: the Durable Object store. */
const IN_NO_BUNDLE = ['dist/durable-object.js', 'dist/stores/durable-object/']

/** Runs a command with its output collected; resolves { code, out }. */
function collect(command, args, options) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (chunk) => (out += chunk))
    child.stderr.on('data', (chunk) => (out += chunk))
    child.on('close', (code) => resolve({ code, out }))
  })
}

/** Runs `tasks` (functions returning promises), at most `limit` at a time. */
async function pool(tasks, limit) {
  const results = []
  let next = 0
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++
      results[i] = await tasks[i]()
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker))
  return results
}

const fail = (message) => {
  console.error(`✗ ${message}`)
  process.exitCode = 1
}

await main(async () => {
  const file = tarball()
  console.log(`tarball: ${file}\nproject: ${project}`)
  await step('install the tarball into a copy of test-consumers/', () => {
    cpSync(fixture, project, {
      recursive: true,
      filter: (source) => !/[/\\](node_modules|out|\.wrangler)$/.test(source),
    })
    // The repository's own install holds the same tools at the same versions: start from
    // a copy of it, as a project with an existing node_modules does, and let npm reconcile
    // it with test-consumers' lock file and add the tarball. Only speed depends on this.
    const fixturePkg = JSON.parse(readFileSync(join(fixture, 'package.json'), 'utf8'))
    for (const [name, version] of Object.entries(fixturePkg.devDependencies)) {
      const ours = pkg.devDependencies[name]
      if (ours !== undefined && ours !== version) {
        console.log(
          `note: test-consumers pins ${name}@${version}, the repository ${ours}: npm fetches the difference`,
        )
      }
    }
    const repoModules = join(root, 'node_modules')
    if (existsSync(repoModules) && !lstatSync(repoModules).isSymbolicLink())
      run('cp', ['-R', repoModules, join(project, 'node_modules')])
    rmSync(join(project, 'node_modules', '.vite'), { recursive: true, force: true })
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', file], inProject)
    const installed = join(project, 'node_modules', pkg.name)
    if (lstatSync(installed).isSymbolicLink())
      throw new Error(`${installed} is a link, not an install of the tarball`)
    const { version } = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'))
    if (version !== pkg.version)
      throw new Error(`installed ${pkg.name}@${version}, expected ${pkg.version}`)
    console.log(`installed ${pkg.name}@${version} from ${file}`)
    // The README's example, as a user pastes it: its first ts block importing the package.
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    const example = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)]
      .map((m) => m[1])
      .find((code) => code.includes(`from '${pkg.name}'`))
    if (example === undefined)
      throw new Error(`README.md has no ts example importing '${pkg.name}'`)
    writeFileSync(
      join(project, 'src', 'readme-example.ts'),
      `// Copied from README.md by scripts/check-consumers.mjs.\n${example}`,
    )
    // One static import per subpath in exports, typechecked and imported in workerd below.
    const specifiers = exportedSpecifiers()
    writeFileSync(
      join(project, 'src', 'exports.ts'),
      "// Written by scripts/check-consumers.mjs: every subpath of the package's exports.\n" +
        specifiers.map((s, i) => `import * as m${i} from '${s}'\n`).join('') +
        `export const modules = {\n${specifiers.map((s, i) => `  '${s}': m${i},\n`).join('')}}\n`,
    )
    console.log(`subpaths: ${specifiers.join(', ')}`)
    // The subpaths plain Node must load (test/node.test.ts imports each at run time).
    writeFileSync(join(project, 'node-subpaths.json'), JSON.stringify(nodeSpecifiers()))
  })

  await step('typecheck under every tsconfig', async () => {
    run(bin('wrangler'), ['types'], { ...inProject, stdio: ['ignore', 'ignore', 'inherit'] })
    const tsconfigs = [
      'bundler',
      'node16',
      'nodenext',
      'wrangler-types',
      'dom',
      'dom-skiplibcheck',
      'node',
      'tests',
    ].map((name) => `tsconfig.${name}.json`)
    const results = await pool(
      tsconfigs.map((tsconfig) => async () => {
        const started = performance.now()
        const { code, out } = await collect(
          bin('tsc'),
          ['-p', tsconfig, '--pretty', 'false'],
          inProject,
        )
        return { tsconfig, code, out, seconds: (performance.now() - started) / 1000 }
      }),
      Math.max(2, availableParallelism()),
    )
    for (const { tsconfig, out, seconds } of results) {
      const errors = out.split('\n').filter((line) => /error TS\d+/.test(line))
      const known = KNOWN[tsconfig] ?? []
      const foreign = FOREIGN[tsconfig]
      const accepted = errors.filter(
        (line) => known.some((k) => isKnown(line, k)) || (foreign?.test(line) ?? false),
      )
      const unexpected = errors.filter((line) => !accepted.includes(line))
      const fixed = known.filter((k) => !errors.some((line) => isKnown(line, k)))
      const note =
        accepted.length > 0
          ? ` (${accepted.length} accepted: ${known.length > 0 ? 'known, listed in KNOWN' : 'between other packages'})`
          : ''
      console.log(
        `${unexpected.length === 0 ? '✓' : '✗'} ${tsconfig}: ${unexpected.length} errors${note}, ${seconds.toFixed(1)} s`,
      )
      if (unexpected.length > 0) {
        fail(`${tsconfig}:\n${out}`)
      }
      for (const k of fixed)
        fail(
          `${tsconfig}: the known error no longer occurs; remove it from KNOWN in scripts/check-consumers.mjs:\n  ${k.file}: ${k.error}`,
        )
    }
    if (process.exitCode) throw new Error('typecheck failed')
  })

  await step('vitest workers pool: the Worker in workerd, sessions in KV', () => {
    run(bin('vitest'), ['run'], inProject)
  })

  await step('plain Node: @hono/node-server, cookie store and signer over HTTP', () => {
    // tsconfig.node.json emitted out/ above (its only errors are the known ones).
    run(process.execPath, ['--test', '--test-reporter=spec', 'out/test/node.test.js'], inProject)
  })

  await step('bundles: wrangler deploy --dry-run', async () => {
    const entries = ['hono-only', 'session-kv', 'session-all']
    const rows = []
    for (const entry of entries) {
      const sizes = {}
      for (const minify of [false, true]) {
        const outdir = join(project, 'bundles', `${entry}${minify ? '.min' : ''}`)
        const args = [
          'deploy',
          '--dry-run',
          '--outdir',
          outdir,
          ...(minify ? ['--minify'] : []),
          `src/bundle/${entry}.ts`,
        ]
        const { code, out } = await collect(bin('wrangler'), args, inProject)
        if (code !== 0) throw new Error(`wrangler ${args.join(' ')}:\n${out}`)
        const js = readFileSync(join(outdir, `${entry}.js`))
        sizes[minify ? 'min' : 'raw'] = { bytes: js.length, gzip: gzipSync(js).length }
        if (!minify) {
          // Unminified, esbuild heads each bundled module with a comment naming its path.
          const modules = [
            ...js.toString().matchAll(/^\/\/ node_modules\/edge-session\/(\S+)$/gm),
          ].map((m) => m[1])
          sizes.modules = modules
          const own = js.toString().split(/^(?=\/\/ \S+$)/m)
          sizes.ownBytes = own
            .filter((part) => part.startsWith('// node_modules/edge-session/'))
            .reduce((n, part) => n + Buffer.byteLength(part), 0)
        }
      }
      rows.push({ entry, ...sizes })
    }
    const kib = (n) => `${(n / 1024).toFixed(1)} KiB`
    console.log(
      '\n| Worker | wrangler deploy (gzip) | --minify (gzip) | edge-session modules (their unminified bytes) |',
    )
    console.log('|---|---|---|---|')
    for (const row of rows) {
      const modules =
        row.modules.length === 0
          ? 'none'
          : `${row.modules.length}: ${row.modules.map((m) => m.replace(/^dist\//, '')).join(', ')} (${kib(row.ownBytes)})`
      console.log(
        `| ${row.entry} | ${kib(row.raw.bytes)} (${kib(row.raw.gzip)}) | ${kib(row.min.bytes)} (${kib(row.min.gzip)}) | ${modules} |`,
      )
    }
    const sessionKv = rows.find((row) => row.entry === 'session-kv')
    const all = rows.find((row) => row.entry === 'session-all')
    const honoOnly = rows.find((row) => row.entry === 'hono-only')
    // The budget docs/internals/package.md states: what session() on KV adds to a Worker
    // over Hono alone, minified and gzipped (what a deploy uploads and bills by).
    const added = sessionKv.min.gzip - honoOnly.min.gzip
    if (added > SESSION_KV_BUDGET)
      throw new Error(
        `session() on KV adds ${kib(added)} gzipped minified over Hono; the budget is ${kib(SESSION_KV_BUDGET)}`,
      )
    console.log(
      `session() on KV adds ${kib(added)} gzipped minified over Hono (budget ${kib(SESSION_KV_BUDGET)})`,
    )
    const leaked = NOT_IN_SESSION_KV.filter((module) => sessionKv.modules.includes(module))
    if (leaked.length > 0)
      throw new Error(`session-kv bundles code it does not import: ${leaked.join(', ')}`)
    const missing = NOT_IN_SESSION_KV.filter((module) => !all.modules.includes(module))
    if (missing.length > 0)
      throw new Error(
        `session-all lacks ${missing.join(', ')}: the module names in NOT_IN_SESSION_KV are stale`,
      )
    const stray = rows.flatMap((row) =>
      row.modules
        .filter((module) => IN_NO_BUNDLE.some((path) => module.startsWith(path)))
        .map((module) => `${row.entry}: ${module}`),
    )
    if (stray.length > 0) throw new Error(`bundled without being imported: ${stray.join(', ')}`)
    console.log(
      `session-kv carries none of ${NOT_IN_SESSION_KV.join(', ')}; no bundle carries ${IN_NO_BUNDLE.join(' or ')}`,
    )
  })

  const examples = join(root, 'examples')
  for (const name of existsSync(examples) ? readdirSync(examples) : []) {
    await step(`examples/${name}: the tarball installed, typecheck, tests`, () => {
      const app = mkdtempSync(join(tmpdir(), `edge-session-example-${name}-`))
      process.on('exit', () => rmSync(app, { recursive: true, force: true }))
      cpSync(join(examples, name), app, {
        recursive: true,
        filter: (source) => !/[/\\](node_modules|\.wrangler)$/.test(source),
      })
      // The consumer project holds the same tools and the tarball: move its install over.
      renameSync(join(project, 'node_modules'), join(app, 'node_modules'))
      const inApp = { cwd: app, env }
      // As its README says: the tarball by its absolute path, with --no-save, which must
      // leave the package.json a user copied exactly as it is.
      const manifest = readFileSync(join(app, 'package.json'), 'utf8')
      run(
        'npm',
        ['install', '--no-save', '--no-audit', '--no-fund', '--prefer-offline', file],
        inApp,
      )
      if (readFileSync(join(app, 'package.json'), 'utf8') !== manifest)
        throw new Error(`examples/${name}: npm install --no-save changed its package.json`)
      // Its README's own lines, through its package.json scripts.
      run('npm', ['run', 'typecheck'], inApp)
      run('npm', ['test'], inApp)
      renameSync(join(app, 'node_modules'), join(project, 'node_modules'))
    })
  }
})
if (process.env.KEEP === '1') console.log(`kept ${project}`)
else rmSync(project, { recursive: true, force: true })
