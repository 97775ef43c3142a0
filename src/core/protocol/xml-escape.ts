/**
 * Escaping for XML we write as strings on hot paths (restore generation writes tens of
 * thousands of case blocks a second; a DOM builder per block is too slow there).
 * Characters XML 1.0 forbids (C0 controls other than tab, LF, CR; lone surrogates;
 * U+FFFE/U+FFFF) are dropped rather than written, so the output always parses.
 */
const FORBIDDEN = '\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\uFFFE\\uFFFF';
const LONE_SURROGATE = '[\\uD800-\\uDBFF](?![\\uDC00-\\uDFFF])|(?<![\\uD800-\\uDBFF])[\\uDC00-\\uDFFF]';
const TEXT_RE = new RegExp(`[&<>${FORBIDDEN}]|${LONE_SURROGATE}`, 'g');
const ATTR_RE = new RegExp(`[&<>"\\t\\n\\r${FORBIDDEN}]|${LONE_SURROGATE}`, 'g');

function replace(ch: string): string {
  switch (ch) {
    case '&':
      return '&amp;';
    case '<':
      return '&lt;';
    case '>':
      return '&gt;';
    case '"':
      return '&quot;';
    case '\t':
      return '&#9;';
    case '\n':
      return '&#10;';
    case '\r':
      return '&#13;';
    default:
      return '';
  }
}

/**
 * Whether `value` has nothing to escape or drop: most values in a restore (ids, dates,
 * names, numbers) do, and a character loop answers that faster than a regular expression
 * replace (XML escaping was ~7% of a 100k-case restore generation's profile). Anything
 * from U+D800 up is left to the full path (surrogates, U+FFFE/U+FFFF).
 */
function clean(value: string, attr: boolean): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0xd800) return false;
    if (c < 0x20) {
      if (attr || (c !== 9 && c !== 10 && c !== 13)) return false;
    } else if (c === 38 || c === 60 || c === 62 || (attr && c === 34)) return false;
  }
  return true;
}

export function escapeXmlText(value: string): string {
  return clean(value, false) ? value : value.replace(TEXT_RE, replace);
}

export function escapeXmlAttr(value: string): string {
  return clean(value, true) ? value : value.replace(ATTR_RE, replace);
}
