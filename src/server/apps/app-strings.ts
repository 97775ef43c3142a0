import {
  attr,
  childElement,
  childElements,
  textContent,
  type XmlElement,
} from '../../core/protocol/xml-tree.ts';

/** One language's app strings: key -> text. */
export type AppStrings = Map<string, string>;

/**
 * Parses an `app_strings.txt` (commcare-core `LocalizationUtils.parseLocaleInput`,
 * commcare-core:src/main/java/org/javarosa/core/services/locale/LocalizationUtils.java):
 * one `key=value` a line, split at the first `=`; `#` starts a comment line; blank lines
 * are skipped.
 */
export function parseAppStrings(text: string): AppStrings {
  const out: AppStrings = new Map();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    out.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return out;
}

/**
 * The text of a suite `<text>` element in one language (commcare-core `TextParser`):
 * `<locale id="key">` looks the key up (arguments fill `${0}`, `${1}`...); `<locale><id>`
 * takes the key from its own text; `<xpath function="...">` needs a session to evaluate,
 * so its expression is shown as written; plain text is trimmed. `fallback` holds the
 * default language's strings, used when `strings` lacks a key.
 */
export function suiteText(text: XmlElement | undefined, strings: AppStrings, fallback?: AppStrings): string {
  if (!text) return '';
  const parts: string[] = [];
  for (const c of text.children) {
    if (typeof c === 'string') parts.push(c);
    else if (c.local === 'locale') parts.push(localeText(c, strings, fallback));
    else if (c.local === 'xpath') parts.push(attr(c, 'function') ?? '');
    else parts.push(textContent(c));
  }
  return parts.join('').replace(/\s+/g, ' ').trim();
}

function localeText(locale: XmlElement, strings: AppStrings, fallback?: AppStrings): string {
  const idEl = childElement(locale, 'id');
  const key = attr(locale, 'id') ?? (idEl ? suiteText(idEl, strings, fallback) : '');
  const args = childElements(locale, 'argument').map((a) => suiteText(a, strings, fallback));
  const template = strings.get(key) ?? fallback?.get(key) ?? key;
  return template.replace(/\$\{(\d+)\}/g, (m, i: string) => args[Number(i)] ?? m);
}
