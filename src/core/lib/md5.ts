/**
 * A small MD5 (RFC 1321) over the UTF-8 bytes of a string. The case-state hash
 * (PROTOCOL.md 3.6, `core:.../cases/util/CaseDBUtils.java` computeCaseDbHash, HQ
 * `casexml/apps/phone/checksum.py`) needs MD5, which WebCrypto does not offer and
 * `node:crypto` is not allowed in core. MD5 serves here as a checksum, and for HTTP
 * Digest (RFC 7616), whose MD5 variant servers such as HQ still require.
 */

const S = [
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9,
  14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15,
  21, 6, 10, 15, 21,
];
const K = new Int32Array(64);
for (let i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0;

const encoder = new TextEncoder();

/**
 * Scratch space reused across calls: the case-state hash runs MD5 over every case id
 * (100k on a big caseload, at each first sync after a restore or reopen), and allocating
 * an encoder output, a padded copy and a view per id made that ~1 s in Chromium.
 */
let buf = new Uint8Array(128);
const m = new Int32Array(16);
const state = new Int32Array(4);

/** MD5 of the UTF-8 bytes of `input` into `state` (a, b, c, d words). */
function md5Words(input: string | Uint8Array): void {
  let len: number;
  if (typeof input === 'string') {
    // UTF-8 is at most 3 bytes per UTF-16 code unit; room for the padding too.
    const need = input.length * 3 + 72;
    if (buf.length < need) buf = new Uint8Array(need * 2);
    len = encoder.encodeInto(input, buf).written;
  } else {
    len = input.length;
    if (buf.length < len + 72) buf = new Uint8Array((len + 72) * 2);
    buf.set(input);
  }
  const total = (((len + 8) >>> 6) + 1) * 64;
  buf[len] = 0x80;
  buf.fill(0, len + 1, total);
  const bitLen = len * 8;
  buf[total - 8] = bitLen & 0xff;
  buf[total - 7] = (bitLen >>> 8) & 0xff;
  buf[total - 6] = (bitLen >>> 16) & 0xff;
  buf[total - 5] = (bitLen >>> 24) & 0xff;
  const hi = Math.floor(bitLen / 2 ** 32);
  buf[total - 4] = hi & 0xff;
  buf[total - 3] = (hi >>> 8) & 0xff;
  buf[total - 2] = (hi >>> 16) & 0xff;
  buf[total - 1] = (hi >>> 24) & 0xff;
  let a0 = 0x67452301;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476;
  for (let off = 0; off < total; off += 64) {
    for (let j = 0; j < 16; j++) {
      const o = off + j * 4;
      m[j] =
        (buf[o] as number) |
        ((buf[o + 1] as number) << 8) |
        ((buf[o + 2] as number) << 16) |
        ((buf[o + 3] as number) << 24);
    }
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
      const sh = S[i] as number;
      b = (b + ((x << sh) | (x >>> (32 - sh)))) | 0;
      a = tmp;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  state[0] = a0;
  state[1] = b0;
  state[2] = c0;
  state[3] = d0;
}

/** MD5 digest of `input` (UTF-8) as 16 bytes. */
export function md5Bytes(input: string | Uint8Array): Uint8Array {
  md5Words(input);
  const out = new Uint8Array(16);
  for (let w = 0; w < 4; w++) {
    const v = state[w] as number;
    out[w * 4] = v & 0xff;
    out[w * 4 + 1] = (v >>> 8) & 0xff;
    out[w * 4 + 2] = (v >>> 16) & 0xff;
    out[w * 4 + 3] = (v >>> 24) & 0xff;
  }
  return out;
}

/** XORs MD5(`input`) into a 16-byte accumulator, allocating nothing. */
export function xorMd5Into(acc: Uint8Array, input: string): void {
  md5Words(input);
  for (let w = 0; w < 4; w++) {
    const v = state[w] as number;
    acc[w * 4] = (acc[w * 4] as number) ^ (v & 0xff);
    acc[w * 4 + 1] = (acc[w * 4 + 1] as number) ^ ((v >>> 8) & 0xff);
    acc[w * 4 + 2] = (acc[w * 4 + 2] as number) ^ ((v >>> 16) & 0xff);
    acc[w * 4 + 3] = (acc[w * 4 + 3] as number) ^ ((v >>> 24) & 0xff);
  }
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
    xorMd5Into(acc, id);
    any = true;
  }
  return any ? toHex(acc) : '';
}
