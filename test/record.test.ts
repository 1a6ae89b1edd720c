/**
 * `byteLength()`: the payload cap sizes every `set()` with it, so it must agree with
 * `TextEncoder` to the byte, in its own loop (short strings) and beyond it (long ones).
 */
import { describe, expect, it } from 'vitest'
import { byteLength } from '../src/session/foundation/bytes'

const encoded = (s: string): number => new TextEncoder().encode(s).byteLength

describe('byteLength()', () => {
  const samples: [string, string][] = [
    ['empty', ''],
    ['ASCII', 'sessionid=abc'],
    ['two-byte', 'café, Ωmega, ß'],
    ['three-byte', '日本語のテキスト'],
    ['a surrogate pair (4 bytes)', '😀'],
    ['pairs among ASCII', 'a😀b👍🏽c'],
    ['a lone high surrogate (U+FFFD, 3 bytes)', 'x\ud83dy'],
    ['a lone high surrogate at the end', 'x\ud83d'],
    ['a lone low surrogate', '\ude00x'],
    ['a low then a high surrogate', '\ude00\ud83d'],
    ['U+07FF and U+0800', '\u07ff\u0800'],
    ['U+FFFF', '\uffff'],
  ]
  it.each(samples)('counts %s as TextEncoder does', (_, text) => {
    expect(byteLength(text)).toBe(encoded(text))
  })

  it('agrees on both sides of the length where it hands over to TextEncoder', () => {
    for (const unit of ['a', 'é', '日', '😀', '\ud83d']) {
      // 256 UTF-16 units is where the JS loop stops.
      for (let n = Math.floor(248 / unit.length); n * unit.length <= 264; n++) {
        const text = unit.repeat(n)
        expect(byteLength(text), `${JSON.stringify(unit)} × ${n}`).toBe(encoded(text))
      }
    }
  })

  it('agrees on random strings of every kind of code unit', () => {
    let seed = 7
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31)
    for (let i = 0; i < 500; i++) {
      const units = Array.from({ length: next() % 300 }, () => {
        const pick = next() % 4
        return pick === 0
          ? next() % 0x80
          : pick === 1
            ? 0x80 + (next() % 0x780)
            : pick === 2
              ? 0xd800 + (next() % 0x800)
              : next() % 0x10000
      })
      const text = String.fromCharCode(...units)
      expect(byteLength(text)).toBe(encoded(text))
    }
  })
})
