import type { CommCareApp } from '../../core/suite/commcare-app.ts';
import {
  chooseLanguage,
  chosenLanguage,
  languageName,
  loadLanguageChoice,
  pickLanguage,
} from '../apps/app-language.ts';

/**
 * The language of an installed app's strings and its forms' itext: the same per-project
 * choice as the Forms screen (`app-language.ts`: stored choice, else the browser's
 * language, else the app's default), among the app's locales (`default` is only the
 * fallback every language reads through, commcare-core `Localizer`).
 */
export function useInstalledAppLanguage(domain: string, app: CommCareApp): { lang: string; langs: string[] } {
  loadLanguageChoice(domain);
  const own = app.languages.filter((l) => l !== 'default');
  const langs = own.length > 0 ? own : ['default'];
  // The app's default language first, so it wins when the browser's is not offered.
  const ordered = [app.defaultLanguage, ...langs.filter((l) => l !== app.defaultLanguage)].filter((l) =>
    langs.includes(l),
  );
  const browser = typeof navigator === 'undefined' ? 'en' : navigator.language;
  return { lang: pickLanguage(ordered, chosenLanguage.value, browser), langs: ordered };
}

/** `Language`: shown when the app has more than one. */
export function LanguageSelect({ domain, lang, langs }: { domain: string; lang: string; langs: string[] }) {
  if (langs.length < 2) return null;
  return (
    <div class="language-picker q-field">
      <label for="app-language">Language</label>
      <select id="app-language" value={lang} onChange={(e) => chooseLanguage(domain, e.currentTarget.value)}>
        {langs.map((l) => (
          <option key={l} value={l} lang={l}>
            {languageName(l)}
          </option>
        ))}
      </select>
    </div>
  );
}
