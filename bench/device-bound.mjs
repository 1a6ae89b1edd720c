#!/usr/bin/env node
/**
 * CPU of device binding (DBSC) in Node, on the built package: what every load of a bound
 * session adds (one HMAC verify of the bound cookie), and what a refresh costs beside its
 * store operations (the proof's signature with Web Crypto, the challenge's HMAC, the next
 * bound cookie's HMAC). `npm run build && node bench/device-bound.mjs`; docs/internals/performance.md
 * quotes it. Not part of `npm test`.
 */
import { timestampSigner } from '../dist/cookies/signing.js'
import { parseProof, verifyProof } from '../dist/device-bound/proof.js'
import {
  boundCookieValid,
  boundCookieValue,
  challengeIssued,
  newChallenge,
} from '../dist/device-bound/tokens.js'

const signer = timestampSigner({ secret: 'bench secret of at least thirty-two bytes' })
const id = 'AAAAAAAAAAAAAAAAAAAAAA'
const enc = new TextEncoder()
const b64 = (bytes) => Buffer.from(bytes).toString('base64url')

/** Mean µs per call of `fn` over `n` sequential calls, after a warm-up. */
async function time(n, fn) {
  for (let i = 0; i < 200; i++) await fn()
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await fn()
  return Number(process.hrtime.bigint() - start) / 1000 / n
}

async function jwtFor(alg) {
  const params =
    alg === 'ES256'
      ? { name: 'ECDSA', namedCurve: 'P-256' }
      : {
          name: 'RSASSA-PKCS1-v1_5',
          modulusLength: 2048,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: 'SHA-256',
        }
  const pair = await crypto.subtle.generateKey(params, true, ['sign', 'verify'])
  const { kty, crv, x, y, n, e } = await crypto.subtle.exportKey('jwk', pair.publicKey)
  const jwk = alg === 'ES256' ? { kty, crv, x, y } : { kty, n, e }
  const challenge = await newChallenge(signer, id, Date.now())
  const signed = `${b64(enc.encode(JSON.stringify({ alg, typ: 'dbsc+jwt' })))}.${b64(enc.encode(JSON.stringify({ jti: challenge })))}`
  const sig = await crypto.subtle.sign(
    alg === 'ES256' ? { name: 'ECDSA', hash: 'SHA-256' } : 'RSASSA-PKCS1-v1_5',
    pair.privateKey,
    enc.encode(signed),
  )
  return { jwt: `${signed}.${b64(new Uint8Array(sig))}`, jwk, challenge }
}

const cookie = await boundCookieValue(signer, id, Math.floor(Date.now() / 1000) + 600)
const rows = [
  [
    'bound cookie check (every load of a bound session)',
    await time(5000, () => boundCookieValid(signer, id, cookie, Date.now())),
  ],
]
for (const alg of ['ES256', 'RS256']) {
  const { jwt, jwk, challenge } = await jwtFor(alg)
  rows.push([
    `refresh, ${alg}: challenge + proof + next cookie`,
    await time(1000, async () => {
      await newChallenge(signer, id, Date.now())
      const proof = parseProof(jwt)
      await challengeIssued(signer, id, challenge, Date.now(), 300_000)
      if (!(await verifyProof(proof, alg, jwk))) throw new Error('proof did not verify')
      await boundCookieValue(signer, id, Math.floor(Date.now() / 1000) + 600)
    }),
  ])
}
console.log(`Node ${process.version}, ${process.arch}`)
for (const [what, us] of rows) console.log(`${what.padEnd(52)} ${us.toFixed(1)} µs`)
