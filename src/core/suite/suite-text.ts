import { XFormError } from '../errors/xform-error.ts';
import { attr, childElements, type XmlElement } from '../protocol/xml-tree.ts';

/**
 * A suite `<text>`: plain text, a localized string (with `${n}` arguments), an XPath
 * expression with `$name` variables, or a sequence of those joined together. This is the
 * model of commcare-core `org.commcare.suite.model.Text` (types FLAT, LOCALE, XPATH,
 * COMPOSITE) as `TextParser` reads it.
 */
export type SuiteText =
  | { kind: 'flat'; value: string }
  | { kind: 'locale'; id: SuiteText; args: SuiteText[] }
  | { kind: 'xpath'; expression: string; variables: ReadonlyMap<string, SuiteText> }
  | { kind: 'composite'; parts: SuiteText[] };

/** What evaluating a text needs from its caller. */
export interface TextEvaluator {
  /** An app string in the current language (falling back to `default`), or undefined. */
  localize(id: string): string | undefined;
  /**
   * Evaluates an XPath expression to a string, with each `$name` bound to a string. Absent
   * where no XPath context exists (then XPath texts are an error).
   */
  xpath?(expression: string, variables: ReadonlyMap<string, string>): string;
}

/** Reads the children of a `<text>` (or `<variable>`, `<argument>`, `<id>`) element. */
export function parseTextContent(el: XmlElement, file: string): SuiteText {
  const parts: SuiteText[] = [];
  for (const c of el.children) {
    if (typeof c === 'string') {
      const t = c.trim();
      if (t !== '') parts.push({ kind: 'flat', value: t });
    } else if (c.local === 'locale') parts.push(parseLocale(c, file));
    else if (c.local === 'xpath') parts.push(parseXPathText(c, file));
    // Other markup inside a text (formatting tags in old suites) is ignored, as the phone
    // only understands these three.
  }
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  if (parts.length === 0) return { kind: 'flat', value: '' };
  return { kind: 'composite', parts };
}

function parseLocale(el: XmlElement, file: string): SuiteText {
  const idAttr = attr(el, 'id');
  const idEl = childElements(el, 'id')[0];
  let id: SuiteText;
  if (idAttr !== undefined) id = { kind: 'flat', value: idAttr };
  else if (idEl) id = parseTextContent(idEl, file);
  else
    throw new XFormError(
      'app-invalid',
      `${file} line ${el.line}: <locale> has neither an id attribute nor an <id>`,
      {
        file,
      },
    );
  const args = childElements(el, 'argument').map((a) => parseTextContent(a, file));
  return { kind: 'locale', id, args };
}

function parseXPathText(el: XmlElement, file: string): SuiteText {
  const expression = attr(el, 'function');
  if (expression === undefined)
    throw new XFormError('app-invalid', `${file} line ${el.line}: <xpath> has no function attribute`, {
      file,
    });
  const variables = new Map<string, SuiteText>();
  for (const v of childElements(el, 'variable')) {
    const name = attr(v, 'name');
    if (name === undefined)
      throw new XFormError('app-invalid', `${file} line ${v.line}: <variable> has no name`, { file });
    variables.set(name, parseTextContent(v, file));
  }
  return { kind: 'xpath', expression, variables };
}

/**
 * The text's string in the evaluator's language. A locale id with no string in the
 * current language nor in `default` shows as the id itself: the phone would stop with
 * "no localized text" (commcare-core `Localizer.getText`), which would hide every other
 * problem on the screen; showing the id names the missing string instead.
 */
export function evaluateText(text: SuiteText, ev: TextEvaluator): string {
  switch (text.kind) {
    case 'flat':
      return text.value;
    case 'composite':
      return text.parts.map((p) => evaluateText(p, ev)).join('');
    case 'locale': {
      const id = evaluateText(text.id, ev);
      const template = ev.localize(id) ?? id;
      if (text.args.length === 0) return template;
      const args = text.args.map((a) => evaluateText(a, ev));
      return substituteArguments(template, args);
    }
    case 'xpath': {
      if (!ev.xpath)
        throw new XFormError('xpath-eval', `The text "${text.expression}" needs an XPath context`, {
          expression: text.expression,
        });
      const vars = new Map<string, string>();
      for (const [name, t] of text.variables) vars.set(name, evaluateText(t, ev));
      return ev.xpath(text.expression, vars);
    }
  }
}

/**
 * `${0}`, `${1}` ... in a localized string take the arguments in order (commcare-core
 * `Localizer.processArguments`); a placeholder with no argument stays as written.
 */
export function substituteArguments(template: string, args: readonly string[]): string {
  return template.replace(/\$\{(\d+)\}/g, (whole, n: string) => args[Number(n)] ?? whole);
}

/** Every XPath expression a text holds (for checking them all at install). */
export function textExpressions(text: SuiteText | undefined): string[] {
  if (!text) return [];
  switch (text.kind) {
    case 'flat':
      return [];
    case 'composite':
      return text.parts.flatMap(textExpressions);
    case 'locale':
      return [...textExpressions(text.id), ...text.args.flatMap(textExpressions)];
    case 'xpath':
      return [text.expression, ...[...text.variables.values()].flatMap(textExpressions)];
  }
}
