/**
 * Character classes of XML 1.0 (fifth edition), section 2.2 (Char) and 2.3 (NameStartChar,
 * NameChar), for the streaming scanner (xml-scanner.ts). ASCII goes through a table; the
 * rest through range checks that only run for non-ASCII names.
 */

/** Bit 1: NameChar; bit 2: NameStartChar (ASCII only). */
export const ASCII_NAME = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const start = c === 0x3a || c === 0x5f || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  const name = start || c === 0x2d || c === 0x2e || (c >= 0x30 && c <= 0x39);
  ASCII_NAME[c] = (name ? 1 : 0) | (start ? 2 : 0);
}

/** NameStartChar above ASCII, for a code unit of the Basic Multilingual Plane (not a surrogate). */
export function isNameStartBmp(c: number): boolean {
  return (
    (c >= 0xc0 && c <= 0xd6) ||
    (c >= 0xd8 && c <= 0xf6) ||
    (c >= 0xf8 && c <= 0x2ff) ||
    (c >= 0x370 && c <= 0x37d) ||
    (c >= 0x37f && c <= 0x1fff) ||
    c === 0x200c ||
    c === 0x200d ||
    (c >= 0x2070 && c <= 0x218f) ||
    (c >= 0x2c00 && c <= 0x2fef) ||
    (c >= 0x3001 && c <= 0xd7ff) ||
    (c >= 0xf900 && c <= 0xfdcf) ||
    (c >= 0xfdf0 && c <= 0xfffd)
  );
}

/** NameChar above ASCII (BMP, not a surrogate). */
export function isNameCharBmp(c: number): boolean {
  return isNameStartBmp(c) || c === 0xb7 || (c >= 0x300 && c <= 0x36f) || c === 0x203f || c === 0x2040;
}

/**
 * Length in code units of the name character at `p` when it is not ASCII: 1 for a BMP
 * character, 2 for a surrogate pair (U+10000-U+EFFFF are name characters), 0 when it is
 * not a name character. `start` asks for NameStartChar. A pair cut at `limit` counts as 0.
 */
export function nonAsciiNameLength(s: string, p: number, limit: number, start: boolean): number {
  const c = s.charCodeAt(p);
  if (c >= 0xd800 && c <= 0xdb7f) {
    if (p + 1 >= limit) return 0;
    const d = s.charCodeAt(p + 1);
    return d >= 0xdc00 && d <= 0xdfff ? 2 : 0;
  }
  if (c >= 0xd800 && c <= 0xdfff) return 0;
  return (start ? isNameStartBmp(c) : isNameCharBmp(c)) ? 1 : 0;
}

/** Char (XML 1.0 production [2]): what a character reference may resolve to. */
export function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/**
 * Candidates for a character that is not a Char: C0 controls other than tab, newline and
 * carriage return, surrogates (valid only as a pair), U+FFFE and U+FFFF. One native regex
 * pass over each chunk replaces a per-character check in the scanner's loops.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point.
const SUSPECT = /[\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]/g;

/** Index of the first character of `s` that is not a Char, or -1. */
export function firstInvalidChar(s: string): number {
  SUSPECT.lastIndex = 0;
  while (true) {
    const m = SUSPECT.exec(s);
    if (m === null) return -1;
    const i = m.index;
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        SUSPECT.lastIndex = i + 2;
        continue;
      }
    }
    return i;
  }
}

/** Whether `s` holds a high surrogate (so columns must count code points, not code units). */
export function hasAstral(s: string): boolean {
  return /[\uD800-\uDBFF]/.test(s);
}
