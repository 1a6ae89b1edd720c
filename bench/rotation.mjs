#!/usr/bin/env node
/**
 * CPU of rotating session ids (`session({ rotation })`) in Node, on the built package: what
 * the object adds to the load that rotates an id (a random secret, the successor's
 * HMAC-SHA256 and its SHA-256), and to a load of an old id still current or in its grace
 * (the same successor's HMAC again). A load that does not rotate adds nothing but reading
 * two more columns of the row it reads anyway. `npm run build && node bench/rotation.mjs`;
 * docs/internals/performance.md quotes it. Not part of `npm test`.
 */
import { generateSessionId } from '../dist/foundation/id.js'
import { newSecret, newSuccessor, successorOf } from '../dist/stores/durable-object/rotation.js'

/** Mean µs per call of `fn` over `n` sequential calls, after a warm-up. */
async function time(n, fn) {
  for (let i = 0; i < 200; i++) await fn()
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await fn()
  return Number(process.hrtime.bigint() - start) / 1000 / n
}

const id = generateSessionId()
const secret = newSecret()
const rows = [
  ['a rotation: secret, successor HMAC, its SHA-256', await time(5000, () => newSuccessor(id))],
  [
    'an old id current or in grace: the successor HMAC',
    await time(5000, () => successorOf(secret, id)),
  ],
]
console.log(`Node ${process.version}, ${process.arch}`)
for (const [what, us] of rows) console.log(`${what.padEnd(52)} ${us.toFixed(1)} µs`)
