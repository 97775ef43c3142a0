/**
 * A small MD5 (RFC 1321) over the UTF-8 bytes of a string. The case-state hash
 * (PROTOCOL.md 3.6, `core:.../cases/util/CaseDBUtils.java` computeCaseDbHash, HQ
 * `casexml/apps/phone/checksum.py`) needs MD5, which WebCrypto does not offer and
 * `node:crypto` is not allowed in core. MD5 is used here as a checksum, not for security.
 */

const S = [
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9,
  14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15,
  21, 6, 10, 15, 21,
];
const K = new Int32Array(64);
for (let i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0;

const encoder = new TextEncoder();

/** MD5 digest of `input` (UTF-8) as 16 bytes. */
export function md5Bytes(input: string | Uint8Array): Uint8Array {
  const msg = typeof input === 'string' ? encoder.encode(input) : input;
  const bitLen = msg.length * 8;
  const padded = new Uint8Array((((msg.length + 8) >>> 6) + 1) * 64);
  padded.set(msg);
  padded[msg.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, bitLen >>> 0, true);
  view.setUint32(padded.length - 4, Math.floor(bitLen / 2 ** 32), true);
  let a0 = 0x67452301;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476;
  const m = new Int32Array(16);
  for (let off = 0; off < padded.length; off += 64) {
    for (let j = 0; j < 16; j++) m[j] = view.getInt32(off + j * 4, true);
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number;
      let g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      const tmp = d;
      d = c;
      c = b;
      const x = (a + f + (K[i] as number) + (m[g] as number)) | 0;
      const s = S[i] as number;
      b = (b + ((x << s) | (x >>> (32 - s)))) | 0;
      a = tmp;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  const out = new Uint8Array(16);
  const ov = new DataView(out.buffer);
  ov.setInt32(0, a0, true);
  ov.setInt32(4, b0, true);
  ov.setInt32(8, c0, true);
  ov.setInt32(12, d0, true);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function md5Hex(input: string | Uint8Array): string {
  return toHex(md5Bytes(input));
}

/**
 * The case-state hash: byte-wise XOR of MD5(case_id) over all ids, as hex; '' for no ids.
 * Order independent, as HQ's `Checksum` doctest states.
 */
export function caseStateHashOf(caseIds: Iterable<string>): string {
  const acc = new Uint8Array(16);
  let any = false;
  for (const id of caseIds) {
    const d = md5Bytes(id);
    for (let i = 0; i < 16; i++) acc[i] = (acc[i] as number) ^ (d[i] as number);
    any = true;
  }
  return any ? toHex(acc) : '';
}
