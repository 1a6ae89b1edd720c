/**
 * @module
 * A throw-away TLS certificate for one e2e run, made with `openssl`: P-256, for
 * 127.0.0.1, valid for a day, and the SHA-256 of its SubjectPublicKeyInfo that Chromium's
 * `--ignore-certificate-errors-spki-list` pins (DBSC needs a certificate Chromium treats
 * as valid: `--ignore-certificate-errors` makes it ignore the registration header).
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A certificate on disk and how to pin it. */
export interface Certificate {
  keyPath: string
  certPath: string
  /** The certificate in PEM, for Node's `ca` option. */
  pem: string
  /** base64 of the SHA-256 of its SubjectPublicKeyInfo (DER). */
  spki: string
  /** Removes the files. */
  remove(): Promise<void>
}

/**
 * Makes a new certificate in a temporary directory.
 *
 * @example
 * ```ts
 * const cert = await makeCertificate()
 * chromium.launch({ args: [`--ignore-certificate-errors-spki-list=${cert.spki}`] })
 * ```
 */
export async function makeCertificate(): Promise<Certificate> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-session-tls-'))
  const keyPath = join(dir, 'key.pem')
  const certPath = join(dir, 'cert.pem')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ],
    { stdio: 'ignore' },
  )
  const publicKey = execFileSync('openssl', ['x509', '-pubkey', '-noout', '-in', certPath])
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: publicKey })
  const spki = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der }).toString(
    'base64',
  )
  return {
    keyPath,
    certPath,
    pem: await readFile(certPath, 'utf8'),
    spki,
    remove: () => rm(dir, { recursive: true, force: true }),
  }
}
