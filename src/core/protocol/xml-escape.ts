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

export function escapeXmlText(value: string): string {
  return value.replace(TEXT_RE, replace);
}

export function escapeXmlAttr(value: string): string {
  return value.replace(ATTR_RE, replace);
}
