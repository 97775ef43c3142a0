/**
 * A submission's XML bytes as text, refusing invalid UTF-8 instead of replacing it with
 * U+FFFD: the replacement would alter the worker's answers silently and store them so.
 * CommCare phones always send UTF-8 (the XForm instance is serialised as UTF-8).
 */
export class InvalidSubmissionEncoding extends Error {
  readonly code = 'invalid-utf8';
  readonly byteOffset: number;
  constructor(byteOffset: number) {
    super(
      `The form XML is not valid UTF-8 (first invalid byte near offset ${byteOffset}); nothing was stored`,
    );
    this.name = 'InvalidSubmissionEncoding';
    this.byteOffset = byteOffset;
  }
}

const FATAL = new TextDecoder('utf-8', { fatal: true });

export function decodeSubmissionXml(bytes: Uint8Array): string {
  try {
    return FATAL.decode(bytes);
  } catch {
    throw new InvalidSubmissionEncoding(firstInvalidByte(bytes));
  }
}

/** Offset of the first byte that starts no valid UTF-8 sequence (for the message only). */
function firstInvalidByte(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i] as number;
    const n =
      c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    if (n === 0 || i + n > b.length) return i;
    if (n > 1) {
      try {
        FATAL.decode(b.subarray(i, i + n));
      } catch {
        return i;
      }
    }
    i += n;
  }
  return i;
}
