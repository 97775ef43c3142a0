import { attr, childElements, type XmlElement } from '../../protocol/xml-tree.ts';
import type { Itext, TextPart } from '../form-def.ts';
import { parseTextParts } from './parse-text.ts';

/**
 * `<itext><translation lang default><text id><value form>`: one map per language; the
 * plain form is keyed `''`. The default language is the translation marked `default`,
 * else the first (JavaRosa's Localizer takes the same fallback).
 */
export function parseItext(itext: XmlElement | undefined, file: string | undefined): Itext {
  const translations = new Map<string, Map<string, Map<string, TextPart[]>>>();
  const languages: string[] = [];
  let defaultLanguage: string | undefined;
  if (itext !== undefined) {
    for (const tr of childElements(itext, 'translation')) {
      const lang = attr(tr, 'lang') ?? '';
      if (!translations.has(lang)) {
        languages.push(lang);
        translations.set(lang, new Map());
      }
      if (attr(tr, 'default') !== undefined && defaultLanguage === undefined) defaultLanguage = lang;
      const texts = translations.get(lang) ?? new Map<string, Map<string, TextPart[]>>();
      for (const t of childElements(tr, 'text')) {
        const id = attr(t, 'id');
        if (id === undefined) continue;
        const forms = texts.get(id) ?? new Map<string, TextPart[]>();
        for (const v of childElements(t, 'value')) {
          forms.set(attr(v, 'form') ?? '', parseTextParts(v, file, `itext ${id}`));
        }
        texts.set(id, forms);
      }
    }
  }
  return { languages, defaultLanguage: defaultLanguage ?? languages[0], translations };
}
