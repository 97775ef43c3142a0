/**
 * IndexedDB keys as byte strings whose byte order (SQLite compares BLOBs with memcmp) is
 * IndexedDB's key order (W3C IndexedDB 3.0, "compare two keys"): Number < Date < String <
 * Binary < Array; numbers by value, strings by UTF-16 code unit, binary by byte, arrays
 * element by element with a shorter prefix first.
 *
 * Layout: one type tag, then
 *   Number, Date  8 bytes: the float64 with its sign bit flipped (positive) or every bit
 *                 flipped (negative), so unsigned byte order is numeric order
 *   String        each code unit u as u+1 in 1 (u+1 < 0x80), 2 (< 0x4000) or 3 bytes with a
 *                 distinct prefix (the scheme Firefox's IndexedDB uses), then 0x00
 *   Binary        each byte as 0x01, byte; then 0x00
 *   Array         the elements' encodings, then 0x00
 * Every encoded element starts with a tag >= 0x10 and every string unit with a byte >=
 * 0x01, so the 0x00 terminator sorts a prefix first.
 */

const T_NUMBER = 0x10;
const T_DATE = 0x20;
const T_STRING = 0x30;
const T_BINARY = 0x40;
const T_ARRAY = 0x50;

export class InvalidKeyError extends Error {
  override readonly name = 'DataError';
}

class Writer {
  buf = Buffer.allocUnsafe(64);
  len = 0;

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  number(n: number): void {
    this.ensure(8);
    // -0 and 0 are the same key.
    this.buf.writeDoubleBE(n === 0 ? 0 : n, this.len);
    const b = this.buf;
    const p = this.len;
    if ((b[p] as number) & 0x80) for (let i = 0; i < 8; i++) b[p + i] = (b[p + i] as number) ^ 0xff;
    else b[p] = (b[p] as number) | 0x80;
    this.len += 8;
  }
}

function write(w: Writer, key: unknown, depth: number): void {
  if (typeof key === 'number') {
    if (Number.isNaN(key)) throw new InvalidKeyError('NaN is not a valid key');
    w.byte(T_NUMBER);
    w.number(key);
  } else if (typeof key === 'string') {
    w.byte(T_STRING);
    w.ensure(key.length * 3 + 1);
    const b = w.buf;
    let p = w.len;
    for (let i = 0; i < key.length; i++) {
      const u = key.charCodeAt(i) + 1;
      if (u < 0x80) b[p++] = u;
      else if (u < 0x4000 + 0x80) {
        const v = u - 0x80;
        b[p++] = 0x80 | (v >> 8);
        b[p++] = v & 0xff;
      } else {
        // The unit itself (u - 1 fits 16 bits): all 3-byte forms share the prefix.
        b[p++] = 0xc0;
        b[p++] = (u - 1) >> 8;
        b[p++] = (u - 1) & 0xff;
      }
    }
    b[p++] = 0;
    w.len = p;
  } else if (key instanceof Date) {
    const t = key.getTime();
    if (Number.isNaN(t)) throw new InvalidKeyError('An invalid Date is not a valid key');
    w.byte(T_DATE);
    w.number(t);
  } else if (Array.isArray(key)) {
    if (depth > 64) throw new InvalidKeyError('Key array nested too deeply (or cyclic)');
    w.byte(T_ARRAY);
    for (const k of key) write(w, k, depth + 1);
    w.byte(0);
  } else if (key instanceof ArrayBuffer || ArrayBuffer.isView(key)) {
    const bytes =
      key instanceof ArrayBuffer
        ? new Uint8Array(key)
        : new Uint8Array(key.buffer, key.byteOffset, key.byteLength);
    w.byte(T_BINARY);
    w.ensure(bytes.length * 2 + 1);
    for (const x of bytes) {
      w.buf[w.len++] = 1;
      w.buf[w.len++] = x;
    }
    w.buf[w.len++] = 0;
  } else {
    throw new InvalidKeyError(`Not a valid IndexedDB key: ${String(key)}`);
  }
}

export function encodeKey(key: unknown): Buffer {
  const w = new Writer();
  write(w, key, 0);
  return Buffer.from(w.buf.subarray(0, w.len));
}

/** Whether `key` is a valid IndexedDB key (what a key path yields may not be). */
export function isValidKey(key: unknown): boolean {
  try {
    write(new Writer(), key, 0);
    return true;
  } catch {
    return false;
  }
}

function readNumber(b: Uint8Array, p: number): number {
  const tmp = Buffer.from(b.subarray(p, p + 8));
  if ((tmp[0] as number) & 0x80) tmp[0] = (tmp[0] as number) & 0x7f;
  else for (let i = 0; i < 8; i++) tmp[i] = (tmp[i] as number) ^ 0xff;
  return tmp.readDoubleBE(0);
}

function read(b: Uint8Array, p: number): [unknown, number] {
  const tag = b[p++];
  switch (tag) {
    case T_NUMBER:
      return [readNumber(b, p), p + 8];
    case T_DATE:
      return [new Date(readNumber(b, p)), p + 8];
    case T_STRING: {
      const units: number[] = [];
      let s = '';
      while (b[p] !== 0) {
        const c = b[p] as number;
        let u: number;
        if (c < 0x80) {
          u = c;
          p += 1;
        } else if (c < 0xc0) {
          u = (((c & 0x3f) << 8) | (b[p + 1] as number)) + 0x80;
          p += 2;
        } else {
          u = (((b[p + 1] as number) << 8) | (b[p + 2] as number)) + 1;
          p += 3;
        }
        units.push(u - 1);
        if (units.length === 4096) {
          s += String.fromCharCode(...units);
          units.length = 0;
        }
      }
      return [s + String.fromCharCode(...units), p + 1];
    }
    case T_BINARY: {
      const out: number[] = [];
      while (b[p] !== 0) {
        out.push(b[p + 1] as number);
        p += 2;
      }
      return [new Uint8Array(out).buffer, p + 1];
    }
    case T_ARRAY: {
      const arr: unknown[] = [];
      while (b[p] !== 0) {
        const [v, q] = read(b, p);
        arr.push(v);
        p = q;
      }
      return [arr, p + 1];
    }
    default:
      throw new InvalidKeyError(`Corrupt key encoding (tag ${String(tag)})`);
  }
}

export function decodeKey(bytes: Uint8Array): unknown {
  return read(bytes, 0)[0];
}
