// `npm run check:testing-guide [tarball]`: docs/testing.md, followed from an empty folder.
// The page's fenced blocks, in order, become one shell script: a block whose info string
// is `sh run` is run as written; a block whose info string names a file (`ts
// file=src/app.ts`) is written to that path in the project. The one change: `edge-session`
// in an `npm install` line becomes the packed tarball's path, as the page tells a reader
// to do until the package is on the registry. Nothing of the project is kept here: a page
// that no longer builds, typechecks or passes its tests fails this check.
// npm's cache is reused (prefer-offline); nothing else is shared with the repository.
// Without a tarball, packs one (prepack builds dist/). KEEP=1 keeps the folder for a look.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { isAbsolute, join, normalize } from 'node:path'
import { main, pkg, root, run, step, tarball } from './lib.mjs'

const PAGE = 'docs/testing.md'
/** Ends every file written by the generated script; no block may hold it. */
const EOF = 'EDGE_SESSION_GUIDE_END_OF_FILE'
/** An `npm install` (or `npm i`) line that installs the package by its name. */
const INSTALL_BY_NAME = new RegExp(`^(npm (?:install|i)\\b.*\\s)${pkg.name}(?=\\s|$)`, 'm')

/** The page's marked blocks, in order: `{ run: text }` or `{ file: path, text }`. */
function markedBlocks(markdown) {
  const blocks = []
  for (const [, info, text] of markdown.matchAll(/^```([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm)) {
    const words = info.trim().split(/\s+/)
    const file = words.find((word) => word.startsWith('file='))?.slice('file='.length)
    if (words[0] === 'sh' && words.includes('run')) blocks.push({ run: text })
    else if (file !== undefined) {
      if (isAbsolute(file) || normalize(file).startsWith('..'))
        throw new Error(`${PAGE}: file=${file} is not a path inside the project`)
      blocks.push({ file, text })
    }
  }
  return blocks
}

/** The blocks as one bash script: the commands as written, each file as a here-document. */
function script(blocks, file) {
  let installs = 0
  const lines = ['set -euo pipefail', 'set -x']
  for (const block of blocks) {
    if ('run' in block) {
      const text = block.run.replace(INSTALL_BY_NAME, (_, head) => {
        installs++
        return `${head}${file}`
      })
      lines.push(text.trimEnd())
    } else {
      if (block.text.includes(EOF)) throw new Error(`${block.file} holds ${EOF}`)
      lines.push(
        `mkdir -p "$(dirname '${block.file}')"`,
        `cat > '${block.file}' <<'${EOF}'`,
        `${block.text}${EOF}`,
      )
    }
  }
  if (installs !== 1)
    throw new Error(
      `${PAGE}: expected one \`npm install … ${pkg.name}\` line in an \`sh run\` block, found ${installs}`,
    )
  return `${lines.join('\n')}\n`
}

const work = mkdtempSync(join(tmpdir(), 'edge-session-guide-'))

await main(async () => {
  const file = tarball()
  const blocks = markedBlocks(readFileSync(join(root, PAGE), 'utf8'))
  const files = blocks.filter((b) => 'file' in b).map((b) => b.file)
  for (const needed of ['tsconfig.json', 'vitest.config.ts', 'wrangler.toml'])
    if (!files.includes(needed)) throw new Error(`${PAGE}: no block marked file=${needed}`)
  if (!files.some((f) => f.endsWith('.test.ts')))
    throw new Error(`${PAGE}: no test file among the marked blocks`)
  console.log(`tarball: ${file}\nfolder: ${work}\nfiles from ${PAGE}: ${files.join(', ')}`)
  const generated = join(work, 'guide.sh')
  writeFileSync(generated, script(blocks, file))

  await step(`${PAGE}, block by block: install, files, typecheck, tests`, () => {
    run('bash', [generated], {
      cwd: work,
      env: {
        ...process.env,
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        WRANGLER_SEND_METRICS: 'false',
        NO_COLOR: '1',
        CI: 'true',
        // npm's cache serves what it holds without asking the registry again.
        npm_config_prefer_offline: 'true',
        npm_config_audit: 'false',
        npm_config_fund: 'false',
        npm_config_update_notifier: 'false',
      },
    })
  })
})
if (process.env.KEEP === '1') console.log(`kept ${work}`)
else rmSync(work, { recursive: true, force: true })
