/**
 * XPath functions the form engine supplies because they read the form itself, not the
 * instance: `jr:itext(id)` (a translation in the current language, JavaRosa's
 * XPathFuncExpr "itext") and `jr:choice-name(value, path)` (the label of a select's choice,
 * as JavaRosa's "choice-name"). The parser accepts calls to them; the session implements them.
 */
export const HOST_FUNCTION_NAMES: ReadonlySet<string> = new Set([
  'jr:itext',
  'itext',
  'jr:choice-name',
  'choice-name',
]);
