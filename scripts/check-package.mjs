// `npm run check:package [tarball]`: what a registry user would download, checked as it
// is packed. Without a tarball, packs one (prepack builds dist/ first).
// - the tarball holds the built library, its sources (for the declaration maps) and the
//   docs a package carries, and nothing else: no tests, no demo;
// - @arethetypeswrong/cli, profile esm-only: every subpath in `exports` must resolve to
//   typed ESM under node16 (from ESM) and bundler resolution. The package is ESM-only,
//   so the profile leaves out node10 and node16-from-CJS, which cannot load it;
// - publint --strict: package.json's fields against the files, warnings as errors.
import { join } from 'node:path'
import { main, output, pkg, root, run, step, tarball } from './lib.mjs'

await main(async () => {
  const file = tarball()
  console.log(`tarball: ${file}`)
  if (!file.endsWith(`${pkg.name}-${pkg.version}.tgz`))
    throw new Error(`${file} is not ${pkg.name} ${pkg.version}, the version in package.json`)
  const bin = (name) => join(root, 'node_modules', '.bin', name)

  await step('tarball contents', () => {
    const files = output('tar', ['-tzf', file])
      .split('\n')
      .filter(Boolean)
      .map((path) => path.replace(/^package\//, ''))
    const allowed =
      /^(package\.json|README\.md|LICENSE|CHANGELOG\.md|dist\/.+\.(js|d\.ts)(\.map)?|src\/session\/.+\.ts)$/
    const stray = files.filter((path) => !allowed.test(path) || /\.test\./.test(path))
    const sources = files.filter((path) => path.startsWith('src/session/'))
    const unbuilt = sources.flatMap((source) => {
      const base = source.replace(/^src\/session\//, 'dist/').replace(/\.ts$/, '')
      return ['.js', '.js.map', '.d.ts', '.d.ts.map']
        .map((ext) => base + ext)
        .filter((built) => !files.includes(built))
    })
    const missing = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].filter(
      (path) => !files.includes(path),
    )
    for (const [what, list] of [
      ['not meant for the package', stray],
      ['not built', unbuilt],
      ['missing', missing],
    ]) {
      if (list.length > 0) throw new Error(`${what}:\n  ${list.join('\n  ')}`)
    }
    console.log(
      `${files.length} files: ${sources.length} sources in src/session, each built to dist/ (.js, .d.ts and their maps)`,
    )
  })

  await step('@arethetypeswrong/cli --profile esm-only', () => {
    run(bin('attw'), [file, '--profile', 'esm-only', '--format', 'table-flipped'])
  })

  await step('publint --strict', () => {
    run(bin('publint'), ['run', file, '--strict'])
  })
})
