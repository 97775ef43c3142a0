import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { caseStateHashOf, md5Bytes, md5Hex } from '../../../src/core/lib/md5.ts';

describe('md5 and the case-state hash', () => {
  it('matches RFC 1321 vectors and node:crypto on assorted inputs', () => {
    expect(md5Hex('')).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(md5Hex('abc')).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(md5Hex('message digest')).toBe('f96b697d7cb7938d525a2f31aaf161d0');
    for (const s of [
      'a',
      'x'.repeat(55),
      'x'.repeat(56),
      'x'.repeat(64),
      'é😀漢'.repeat(40),
      'y'.repeat(1000),
    ])
      expect(md5Hex(s)).toBe(createHash('md5').update(s, 'utf8').digest('hex'));
  });

  it("hashes case ids as HQ's Checksum doctest says: order independent, '' for none", () => {
    expect(caseStateHashOf(['abc123', '123abc'])).toBe('409c5c597fa2c2a693b769f0d2ad432b');
    expect(caseStateHashOf(['123abc', 'abc123'])).toBe('409c5c597fa2c2a693b769f0d2ad432b');
    expect(caseStateHashOf([])).toBe('');
    expect(caseStateHashOf(['abc123'])).toBe(md5Hex('abc123'));
  });

  it('matches node:crypto at every length across block boundaries, strings and bytes, reusing its buffers', () => {
    const alphabet = ['a', 'Z', '0', '-', 'é', '漢', '😀'];
    let x = 3;
    for (let n = 0; n <= 200; n++) {
      let str = '';
      for (let i = 0; i < n; i++) {
        x = (x * 1103515245 + 12345) % 2 ** 31;
        str += alphabet[x % (n % 3 === 0 ? 4 : alphabet.length)];
      }
      expect(md5Hex(str), `length ${n}`).toBe(createHash('md5').update(str, 'utf8').digest('hex'));
      const bytes = new TextEncoder().encode(str);
      expect(Buffer.from(md5Bytes(bytes)).toString('hex')).toBe(
        createHash('md5').update(bytes).digest('hex'),
      );
    }
    // A long input, then a short one: the grown scratch buffer must not leak into it.
    expect(md5Hex('q'.repeat(5000))).toBe(createHash('md5').update('q'.repeat(5000)).digest('hex'));
    expect(md5Hex('abc')).toBe('900150983cd24fb0d6963f7d28e17f72');
    const ids = Array.from({ length: 50 }, (_, i) => `case-${i}-${'x'.repeat(i)}`);
    const acc = Buffer.alloc(16);
    for (const id of ids) {
      const d = createHash('md5').update(id, 'utf8').digest();
      for (let i = 0; i < 16; i++) acc[i] = (acc[i] as number) ^ (d[i] as number);
    }
    expect(caseStateHashOf(ids)).toBe(acc.toString('hex'));
  });
});
