import { signal } from '@preact/signals';
import type { AppQuestion, AppStructure } from './app-structure.ts';

/**
 * Labels "in the user's language" (issue 6): the language is chosen among the loaded
 * application's languages, defaulting to the browser's language when the app has it (exact
 * tag, then its primary subtag), else the app's first language, which HQ lists first as
 * the app's default. The choice is kept in localStorage, per domain, for the next start.
 */
const key = (domain: string) => `fieldsim:language:${domain.toLowerCase()}`;

/** The user's explicit choice for the current domain, or null to follow the default. */
export const chosenLanguage = signal<string | null>(null);
let chosenFor = '';

/** Reads the stored choice once per domain. */
export function loadLanguageChoice(domain: string): void {
  if (chosenFor === domain) return;
  chosenFor = domain;
  try {
    chosenLanguage.value = localStorage.getItem(key(domain));
  } catch {
    chosenLanguage.value = null;
  }
}

export function chooseLanguage(domain: string, lang: string): void {
  chosenFor = domain;
  chosenLanguage.value = lang;
  try {
    localStorage.setItem(key(domain), lang);
  } catch {
    // Storage disabled: the choice lasts for this page only.
  }
}

/** A question (or option) label by language, when the server sent translations. */
type Translated = { translations?: unknown };

function translations(x: Translated): Record<string, string> {
  const t = x.translations;
  if (typeof t !== 'object' || t === null) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(t)) if (typeof v === 'string' && v !== '') out[k] = v;
  return out;
}

/** The applications' languages, in the order the server lists them (the default first). */
export function appLanguages(apps: AppStructure[]): string[] {
  const seen = new Set<string>();
  const add = (names: Record<string, string>) => {
    for (const k of Object.keys(names)) seen.add(k);
  };
  for (const app of apps)
    for (const m of app.modules) {
      add(m.name);
      for (const f of m.forms) {
        add(f.name);
        for (const q of f.questions) add(translations(q as AppQuestion & Translated));
      }
    }
  return [...seen];
}

/** The language to show: the stored choice if the app has it, else the browser's, else the first. */
export function pickLanguage(langs: string[], choice: string | null, browser: string): string {
  if (choice && langs.includes(choice)) return choice;
  const lower = langs.map((l) => l.toLowerCase());
  const exact = lower.indexOf(browser.toLowerCase());
  if (exact >= 0) return langs[exact] ?? browser;
  const primary = lower.indexOf(browser.split('-')[0]?.toLowerCase() ?? '');
  if (primary >= 0) return langs[primary] ?? browser;
  return langs[0] ?? 'en';
}

/** A human name for a language code, in that language (`fr` → "français"). */
export function languageName(code: string): string {
  try {
    const name = new Intl.DisplayNames([code], { type: 'language' }).of(code);
    return name && name !== code ? `${name} (${code})` : code;
  } catch {
    return code;
  }
}

/** A label in `lang`: its translation when there is one, else the label as sent. */
export function labelIn(item: { label: string } & Translated, lang: string): string {
  const t = translations(item);
  return t[lang] ?? t[lang.split('-')[0] ?? lang] ?? item.label;
}
