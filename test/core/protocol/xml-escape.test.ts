import { describe, expect, it } from 'vitest';
import { escapeXmlAttr, escapeXmlText } from '../../../src/core/protocol/xml-escape.ts';

/** The escaping rules, written out the slow way, to hold the fast path to them. */
function reference(value: string, attr: boolean): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const ch = value[i]!;
    if (c >= 0xd800 && c <= 0xdbff) {
      const n = value.charCodeAt(i + 1);
      if (n >= 0xdc00 && n <= 0xdfff) {
        out += ch + value[i + 1]!;
        i++;
      }
      continue; // a lone high surrogate is dropped
    }
    if (c >= 0xdc00 && c <= 0xdfff) continue; // a lone low surrogate is dropped
    if (c === 0xfffe || c === 0xffff) continue;
    if (c < 0x20 && c !== 9 && c !== 10 && c !== 13) continue;
    if (ch === '&') out += '&amp;';
    else if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (attr && ch === '"') out += '&quot;';
    else if (attr && c === 9) out += '&#9;';
    else if (attr && c === 10) out += '&#10;';
    else if (attr && c === 13) out += '&#13;';
    else out += ch;
  }
  return out;
}

describe('XML escaping (fast path for clean values)', () => {
  it('returns clean values as they are and escapes the rest as the rules say', () => {
    const alphabet = [
      'a',
      'Z',
      '0',
      ' ',
      '-',
      'é',
      '日',
      '&',
      '<',
      '>',
      '"',
      "'",
      '\t',
      '\n',
      '\r',
      '\u0001',
      '\u001f',
      '\ud83d\ude00',
      '\ud800',
      '\udc00',
      '\ufffe',
      '\uffff',
      '\ue000',
    ];
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let n = 0; n < 5000; n++) {
      let v = '';
      const len = rnd() % 12;
      for (let i = 0; i < len; i++) v += alphabet[rnd() % alphabet.length];
      expect(escapeXmlText(v)).toBe(reference(v, false));
      expect(escapeXmlAttr(v)).toBe(reference(v, true));
    }
    const plain = 'case-1234 2026-01-01T00:00:00.000Z Amina Diallo';
    expect(escapeXmlText(plain)).toBe(plain);
    expect(escapeXmlAttr(plain)).toBe(plain);
  });
});
