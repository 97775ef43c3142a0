/**
 * Reads an app strings file (`default/app_strings.txt`, `en/app_strings.txt`): one
 * `key=value` per line, `#` starts a comment unless escaped as `\#`, a line without `=`
 * or with nothing after it is skipped, and the value keeps everything after the first
 * `=`. Follows commcare-core `LocalizationUtils.parseLocaleInput`/`parseAndAdd`, plus the
 * Java-properties escapes HQ may write (`\n`, `\t`, `\\`, `\=`, `\:`, `\#`, `\uXXXX`).
 * Lines end at `\n`, `\r\n` or a lone `\r`, as the phone splits them.
 */
export function parseAppStrings(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  for (const raw of body.split(/\r\n|\n|\r/)) {
    const line = stripComment(raw.trim());
    const eq = line.indexOf('=');
    if (eq <= 0 || eq === line.length - 1) continue;
    out.set(line.slice(0, eq).trim(), unescapeValue(line.slice(eq + 1)));
  }
  return out;
}

function stripComment(line: string): string {
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\') i++;
    else if (c === '#') return line.slice(0, i).trimEnd();
  }
  return line;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  '=': '=',
  ':': ':',
  '#': '#',
};

function unescapeValue(value: string): string {
  if (!value.includes('\\')) return value;
  let s = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] ?? '';
    if (c !== '\\' || i === value.length - 1) {
      s += c;
      continue;
    }
    const next = value[i + 1] ?? '';
    const hex = value.slice(i + 2, i + 6);
    if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(hex)) {
      s += String.fromCharCode(Number.parseInt(hex, 16));
      i += 5;
    } else if (Object.hasOwn(SIMPLE_ESCAPES, next)) {
      s += SIMPLE_ESCAPES[next];
      i++;
    } else {
      // Unknown escape: keep the backslash, as the phone shows the text as written.
      s += c;
    }
  }
  return s;
}
