/**
 * Escaping for XML we write as strings on hot paths (restore generation writes tens of
 * thousands of case blocks a second; a DOM builder per block is too slow there).
 * Characters XML 1.0 forbids (C0 controls other than tab, LF, CR; lone surrogates;
 * U+FFFE/U+FFFF) are dropped rather than written, so the output always parses.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching forbidden control characters is the point
const TEXT_RE =
  /[&<>\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching forbidden control characters is the point
const ATTR_RE =
  /[&<>"\t\n\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

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
