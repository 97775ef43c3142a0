import { serialize } from 'node:v8';

/**
 * Writes the two row shapes of packed case pages (`{gen, page, ids, data}` and `{gen,
 * page, sums}`, row-types.ts) in V8's structured-clone format, what `v8.serialize` makes
 * of them and `v8.deserialize` reads back, one after another into one growing buffer per
 * batch. `v8.serialize` per row measured ~0.4 s of the parse thread per 100k cases
 * (a serializer and a Buffer per row, and a transfer per row to the main thread); here a
 * batch is one buffer, moved once.
 *
 * The format (v8/src/objects/value-serializer.cc): a header (0xFF, version), then 'o',
 * each property as key then value, '{' and the property count; strings '"' + byte length
 * + Latin-1 bytes, or 'c' + byte length + UTF-16LE (preceded by a '\0' padding tag when
 * that keeps the characters 2-byte aligned, as V8 does); small integers 'I' + zigzag
 * varint; dense arrays 'A' + length, the elements, '$', 0 properties, the length.
 */

/** `v8.serialize`'s header in this Node version (0xFF, version varint). */
const HEADER = ((): Buffer => {
  const one = serialize(true);
  return Buffer.from(one.subarray(0, one.length - 1));
})();

const EMPTY = Buffer.alloc(0);

// biome-ignore lint/suspicious/noControlCharactersInRegex: the range starts at U+0000 on purpose
const NOT_LATIN1 = /[^\u0000-\u00ff]/;

export class V8RowWriter {
  /** Allocated at the first row: a batch without packed pages costs nothing. */
  #buf: Buffer = EMPTY;
  #pos = 0;
  /** Start of the row being written (two-byte strings are aligned relative to it). */
  #row = 0;
  readonly #initial: number;

  /** `initial`: the first allocation (a batch of 250 cases is ~300 KB of rows). */
  constructor(initial = 512 * 1024) {
    this.#initial = initial;
  }

  get length(): number {
    return this.#pos;
  }

  #room(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = Math.max(this.#initial, this.#buf.length * 2);
    while (size < this.#pos + n) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }

  #byte(b: number): void {
    this.#buf[this.#pos++] = b;
  }

  #varint(n: number): void {
    let v = n >>> 0;
    while (v >= 0x80) {
      this.#byte((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    this.#byte(v);
  }

  #int(n: number): void {
    this.#byte(0x49); // 'I'
    this.#varint(((n << 1) ^ (n >> 31)) >>> 0);
  }

  #string(s: string): void {
    if (!NOT_LATIN1.test(s)) {
      this.#room(s.length + 6);
      this.#byte(0x22); // '"'
      this.#varint(s.length);
      this.#pos += this.#buf.write(s, this.#pos, 'latin1');
      return;
    }
    const bytes = s.length * 2;
    this.#room(bytes + 7);
    let lenBytes = 1;
    for (let v = bytes >>> 7; v > 0; v >>>= 7) lenBytes++;
    if ((this.#pos - this.#row + 1 + lenBytes) & 1) this.#byte(0x00);
    this.#byte(0x63); // 'c'
    this.#varint(bytes);
    this.#pos += this.#buf.write(s, this.#pos, 'utf16le');
  }

  #strings(list: readonly string[]): void {
    this.#room(12);
    this.#byte(0x41); // 'A'
    this.#varint(list.length);
    for (const s of list) this.#string(s);
    this.#room(12);
    this.#byte(0x24); // '$'
    this.#varint(0);
    this.#varint(list.length);
  }

  #begin(gen: number, page: number): void {
    // Rows start at even offsets, so a two-byte string aligned within its row is aligned
    // in memory too, as V8's reader expects.
    if (this.#pos & 1) {
      this.#room(1);
      this.#pos++;
    }
    this.#row = this.#pos;
    this.#room(HEADER.length + 40);
    HEADER.copy(this.#buf, this.#pos);
    this.#pos += HEADER.length;
    this.#byte(0x6f); // 'o'
    this.#string('gen');
    this.#int(gen);
    this.#string('page');
    this.#int(page);
  }

  #end(props: number): [number, number] {
    this.#room(6);
    this.#byte(0x7b); // '{'
    this.#varint(props);
    return [this.#row, this.#pos];
  }

  /** A `casePages` row; returns its [start, end) in the buffer. */
  pageRow(gen: number, page: number, ids: readonly string[], data: readonly string[]): [number, number] {
    this.#begin(gen, page);
    this.#string('ids');
    this.#strings(ids);
    this.#string('data');
    this.#strings(data);
    return this.#end(4);
  }

  /** A `caseSums` row; returns its [start, end) in the buffer. */
  sumRow(gen: number, page: number, sums: string): [number, number] {
    this.#begin(gen, page);
    this.#string('sums');
    this.#string(sums);
    return this.#end(3);
  }

  /** The bytes written, over a buffer of their own (to be moved to another thread); the writer is done. */
  take(): Uint8Array {
    return new Uint8Array(this.#buf.buffer, this.#buf.byteOffset, this.#pos);
  }
}
