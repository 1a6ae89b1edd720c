import { describe, expect, it } from 'vitest'
import { hashPassword, ITERATIONS, verifyPassword } from '../src/passwords'

describe('hashPassword() and verifyPassword()', () => {
  it('hashes with a fresh salt each time, and verifies only the right password', async () => {
    const [a, b] = await Promise.all([hashPassword('correct horse'), hashPassword('correct horse')])
    expect(a).not.toBe(b)
    expect(a.startsWith(`pbkdf2_sha256$${ITERATIONS}$`)).toBe(true)
    expect(await verifyPassword('correct horse', a)).toBe(true)
    expect(await verifyPassword('correct horsf', a)).toBe(false)
    expect(await verifyPassword('', a)).toBe(false)
  })

  it('verifies a hash made with another iteration count', async () => {
    const fewer = await hashPassword('correct horse', 1000)
    expect(await verifyPassword('correct horse', fewer)).toBe(true)
  })

  it.each([
    '',
    'plain text',
    'pbkdf2_sha256$abc$c2FsdA==$aGFzaA==',
    'md5$1$c2FsdA==$aGFzaA==',
    `pbkdf2_sha256$${ITERATIONS + 1}$c2FsdA==$aGFzaA==`,
    'pbkdf2_sha256$1000$not base64!$aGFzaA==',
    'pbkdf2_sha256$1000$c2FsdA==$aGFz*A==',
  ])('matches nothing with the malformed hash %j', async (stored) => {
    expect(await verifyPassword('anything', stored)).toBe(false)
  })
})
