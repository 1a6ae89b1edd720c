// `npm run check:docs`: every relative link and anchor in the repository's Markdown
// resolves, and the docs keep to their budgets: the README (the front door) at most 12 KB,
// the pages for people who use the package (docs/, not docs/internals/) at most 120 KB in
// all. Anchors are GitHub's: a heading's text, lower-cased, punctuation dropped, spaces
// as hyphens, a repeated heading numbered (-1, -2, …).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { root } from './lib.mjs'

const README_BUDGET = 12_000
const USER_DOCS_BUDGET = 120_000
const SKIP = new Set(['node_modules', '.git', 'dist', '.wrangler'])

/** Every Markdown file of the repository. */
function markdownFiles(dir = root, found = []) {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) markdownFiles(path, found)
    else if (name.endsWith('.md')) found.push(path)
  }
  return found
}

/** The text outside fenced code blocks (links in code are examples, not links). */
function prose(text) {
  let fenced = false
  return text
    .split('\n')
    .filter((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        fenced = !fenced
        return false
      }
      return !fenced
    })
    .join('\n')
}

/** GitHub's anchor of a heading's text. */
function slug(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]+>/g, '')
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')
}

const anchorCache = new Map()
/** The anchors a file's headings make. */
function anchorsOf(file) {
  let anchors = anchorCache.get(file)
  if (anchors !== undefined) return anchors
  anchors = new Set()
  const seen = new Map()
  for (const line of prose(readFileSync(file, 'utf8')).split('\n')) {
    const match = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (match === null) continue
    const base = slug(match[1])
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    anchors.add(n === 0 ? base : `${base}-${n}`)
  }
  for (const match of readFileSync(file, 'utf8').matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) {
    anchors.add(match[1])
  }
  anchorCache.set(file, anchors)
  return anchors
}

const problems = []
for (const file of markdownFiles()) {
  const text = prose(readFileSync(file, 'utf8'))
  for (const match of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = match[1]
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue // https:, mailto:
    const [path, anchor] = target.split('#')
    const resolved = path === '' ? file : resolve(dirname(file), decodeURI(path))
    const where = relative(root, file)
    if (!existsSync(resolved)) {
      problems.push(`${where}: ${target}: no such file`)
      continue
    }
    if (anchor !== undefined && anchor !== '' && resolved.endsWith('.md')) {
      if (!anchorsOf(resolved).has(decodeURIComponent(anchor))) {
        problems.push(`${where}: ${target}: no heading makes #${anchor}`)
      }
    }
  }
}

const size = (file) => Buffer.byteLength(readFileSync(file, 'utf8'))
const readme = size(join(root, 'README.md'))
if (readme > README_BUDGET)
  problems.push(`README.md is ${readme} bytes; the budget is ${README_BUDGET}`)
const userDocs = readdirSync(join(root, 'docs'))
  .filter((name) => name.endsWith('.md'))
  .map((name) => join(root, 'docs', name))
const userBytes = userDocs.reduce((sum, file) => sum + size(file), 0)
if (userBytes > USER_DOCS_BUDGET) {
  problems.push(
    `docs/*.md (the user pages) are ${userBytes} bytes; the budget is ${USER_DOCS_BUDGET}`,
  )
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`✗ ${problem}`)
  process.exit(1)
}
console.log(
  `✓ docs: every relative link and anchor resolves; README ${readme} bytes (≤ ${README_BUDGET}); user pages ${userBytes} bytes in ${userDocs.length} files (≤ ${USER_DOCS_BUDGET})`,
)
