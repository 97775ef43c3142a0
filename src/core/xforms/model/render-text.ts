import type { Itext, TextDef, TextPart } from '../form-def.ts';
import type { XPathEvalContext } from '../xpath/xpath-types.ts';

/**
 * The text of a label, hint or message in a language, with its `<output>`s evaluated for
 * the question's node (JavaRosa's FormEntryPrompt.getQuestionText fills `${n}` the same
 * way). An itext id missing in the language falls back to the default language; `form`
 * picks `markdown`, `long`... and undefined is returned when the id has no such form.
 */
export function renderText(
  itext: Itext,
  def: TextDef | undefined,
  lang: string,
  ctx: XPathEvalContext,
  form = '',
): string | undefined {
  if (def === undefined) return undefined;
  if (def.parts !== undefined) return form === '' ? renderParts(def.parts, ctx) : undefined;
  const id = def.itextId ?? def.itextExpr?.evaluateString(ctx);
  if (id === undefined) return undefined;
  const parts = lookup(itext, id, lang, form);
  if (parts === undefined) return form === '' ? id : undefined;
  return renderParts(parts, ctx);
}

function lookup(itext: Itext, id: string, lang: string, form: string): TextPart[] | undefined {
  const inLang = itext.translations.get(lang)?.get(id)?.get(form);
  if (inLang !== undefined) return inLang;
  const d = itext.defaultLanguage;
  return d === undefined ? undefined : itext.translations.get(d)?.get(id)?.get(form);
}

function renderParts(parts: readonly TextPart[], ctx: XPathEvalContext): string {
  let s = '';
  for (const p of parts) s += typeof p === 'string' ? p : p.expr.evaluateString(ctx);
  return s;
}
